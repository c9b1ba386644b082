package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "(admin) The audit log: every change, who made it, before and after"}
	var lf clientFlags
	var since, actor, kind, token, out string
	ls := &cobra.Command{
		Use:   "ls [--since TIME] [--actor USER] [--kind KIND] [--token-id ID] [-o table|json]",
		Short: "List audit entries, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if since != "" {
				t, err := parseWhenAgo(since)
				if err != nil {
					return err
				}
				since = t.Format(time.RFC3339)
			}
			c, err := lf.client()
			if err != nil {
				return err
			}
			entries, err := c.AuditFiltered(cmd.Context(), map[string]string{"since": since, "actor": actor, "kind": kind, "token": token})
			if err != nil {
				return err
			}
			switch out {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			case "table":
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tKIND\tNAME\tTOKEN\tDETAIL")
				for _, e := range entries {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Actor, e.Action, e.Kind, e.Name, tokenColumn(e.Token, e.TokenIssuer), orDash(e.Detail))
				}
				return tw.Flush()
			default:
				return fmt.Errorf("-o %q: use table or json", out)
			}
		},
	}
	ls.Flags().StringVar(&since, "since", "", "entries from this time on: RFC 3339, or a duration ago like 24h")
	ls.Flags().StringVar(&actor, "actor", "", "entries by this user")
	ls.Flags().StringVar(&kind, "kind", "", "entries about this kind of resource")
	ls.Flags().StringVar(&token, "token-id", "", "entries made with the API token of this id")
	ls.Flags().StringVarP(&out, "output", "o", "table", "table or json")
	lf.register(ls)

	var vf clientFlags
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain: any edited or removed entry is found",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := vf.client()
			if err != nil {
				return err
			}
			res, err := c.AuditVerify(cmd.Context())
			if err != nil {
				return err
			}
			if !res.OK {
				return errors.New("audit log broken: " + res.Error)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries\n", res.Entries)
			return nil
		},
	}
	vf.register(verify)
	cmd.AddCommand(ls, verify)
	return cmd
}

// tokenColumn shows the token an entry was made with, and who minted it when that was someone other
// than the actor: "1a2b3c4d5e6f7a8b (minted by alice)".
func tokenColumn(id, issuer string) string {
	switch {
	case id == "":
		return "-"
	case issuer != "":
		return id + " (minted by " + issuer + ")"
	}
	return id
}

// parseWhenAgo reads an RFC 3339 time or a duration before now.
func parseWhenAgo(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: neither an RFC 3339 time nor a duration ago (24h)", s)
}
