package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newWhoamiCmd() *cobra.Command {
	var cf clientFlags
	var out string
	cmd := &cobra.Command{
		Use:   "whoami [-o text|json]",
		Short: "Say which server the CLI talks to, as whom, how signed in, until when, with which roles",
		Long: `Say which server the CLI talks to (--addr, WARDEN_ADDR, the server of the latest warden login,
or the default), the user its token acts as and whether that user is an administrator, how it
signed in (a token from warden login, one an administrator issued, the bootstrap admin token, or
a browser session), when that ends, the user's standing roles, and whether a second factor was
used recently enough for step-up (approving requests, administrative changes). When no token was
given, it says which stored login or local admin.token the CLI used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "text" && out != "json" {
				return fmt.Errorf("-o %q: use text or json", out)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			me, err := c.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			if out == "json" {
				me["server"] = c.Addr
				if cf.tokenFile != "" {
					me["token_file"] = cf.tokenFile
				}
				if cf.stored {
					me["stored_login"] = true
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(me)
			}
			w := cmd.OutOrStdout()
			if cf.stored {
				me["stored_login"] = true
			}
			writeWhoami(w, c.Addr, me, cf.tokenFile)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "text", "text or json")
	cf.register(cmd)
	return cmd
}

// writeWhoami writes /v1/whoami's answer for people.
func writeWhoami(w io.Writer, server string, me map[string]any, tokenFile string) {
	str := func(k string) string { v, _ := me[k].(string); return v }
	at := func(k string) time.Time { t, _ := time.Parse(time.RFC3339Nano, str(k)); return t }
	user := str("user")
	role := "a user"
	if admin, _ := me["admin"].(bool); admin {
		role = "an administrator"
	}
	fmt.Fprintf(w, "server:    %s\n", server)
	fmt.Fprintf(w, "user:      %s (%s)\n", user, role)
	tok, issuer := str("token_id"), str("issuer")
	switch method := str("method"); {
	case method == "session":
		fmt.Fprintf(w, "signed in: browser session\n")
	case method == "bootstrap":
		fmt.Fprintf(w, "signed in: the bootstrap admin token %s\n", tok)
	case str("login") != "":
		fmt.Fprintf(w, "signed in: token %s from warden login (%s)\n", tok, str("login"))
	case issuer != "" && issuer != user:
		fmt.Fprintf(w, "signed in: token %s, issued by %s\n", tok, issuer)
	default:
		fmt.Fprintf(w, "signed in: token %s\n", tok)
	}
	if exp := at("expires"); !exp.IsZero() {
		fmt.Fprintf(w, "expires:   %s (in %s)\n", exp.Local().Format("2006-01-02 15:04 MST"), time.Until(exp).Round(time.Minute))
	} else {
		fmt.Fprintf(w, "expires:   never\n")
	}
	if roles, ok := me["roles"].([]any); ok {
		names := make([]string, 0, len(roles))
		for _, r := range roles {
			if s, ok := r.(string); ok {
				names = append(names, s)
			}
		}
		if len(names) == 0 {
			names = []string{"(none)"}
		}
		fmt.Fprintf(w, "roles:     %s\n", strings.Join(names, ", "))
	}
	if su, ok := me["step_up"].(map[string]any); ok {
		ok2, _ := su["satisfied"].(bool)
		exempt, _ := su["exempt"].(bool)
		until, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(su["until"]))
		switch {
		case exempt && str("method") == "bootstrap":
			fmt.Fprintf(w, "step-up:   not needed (the bootstrap admin token)\n")
		case exempt:
			fmt.Fprintf(w, "step-up:   not needed (a minted token, exempt by auth.step_up_exempt_tokens)\n")
		case ok2:
			fmt.Fprintf(w, "step-up:   satisfied until %s\n", until.Local().Format("15:04 MST"))
		default:
			fmt.Fprintf(w, "step-up:   not satisfied: approving requests and administrative changes need a second factor used within %v (use it at /login/step-up in the browser, then warden login again)\n", su["window"])
		}
	}
	if b, _ := me["stored_login"].(bool); b {
		fmt.Fprintf(w, "found:     the token warden login stored for this server (no --token or WARDEN_TOKEN given)\n")
	}
	if tokenFile != "" {
		fmt.Fprintf(w, "found:     %s (no --token or WARDEN_TOKEN given)\n", tokenFile)
	}
}
