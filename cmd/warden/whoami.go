package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newWhoamiCmd() *cobra.Command {
	var cf clientFlags
	var out string
	cmd := &cobra.Command{
		Use:   "whoami [-o text|json]",
		Short: "Say which server the CLI talks to, as whom, with which token",
		Long: `Say which server the CLI talks to (--addr, WARDEN_ADDR or the default), the user its token acts
as, whether that user is an administrator, the token's id and who issued it, and, when no token
was given, which local admin.token the CLI found.`,
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
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(me)
			}
			w := cmd.OutOrStdout()
			user, _ := me["user"].(string)
			role := "a user"
			if admin, _ := me["admin"].(bool); admin {
				role = "an administrator"
			}
			fmt.Fprintf(w, "server: %s\n", c.Addr)
			fmt.Fprintf(w, "user:   %s (%s)\n", user, role)
			tok, _ := me["token_id"].(string)
			issuer, _ := me["issuer"].(string)
			switch {
			case issuer != "" && issuer != user:
				fmt.Fprintf(w, "token:  %s, issued by %s\n", tok, issuer)
			default:
				fmt.Fprintf(w, "token:  %s\n", tok)
			}
			if cf.tokenFile != "" {
				fmt.Fprintf(w, "found:  %s (no --token or WARDEN_TOKEN given)\n", cf.tokenFile)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "text", "text or json")
	cf.register(cmd)
	return cmd
}
