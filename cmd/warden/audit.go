package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/server"
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
			if kind != "" {
				k, err := server.ParseAuditKind(kind)
				if err != nil {
					return fmt.Errorf("--kind: %w", err)
				}
				kind = string(k)
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
	var expect string
	verify := &cobra.Command{
		Use:   "verify [--expect-head SEQ:HASH]",
		Short: "Check the audit log's hash chain: any edited or removed entry is found",
		Long: `Check the audit log's hash chain: an entry edited, removed, or rebuilt without the audit key is
found. With --expect-head, a head exported earlier with warden audit head, it also checks that
the log still holds that entry with that hash: cutting the newest entries and moving the head back
leaves a chain that is whole on its own, and only the exported head shows what was cut.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if expect != "" {
				if _, err := audit.ParseHead(expect); err != nil {
					return fmt.Errorf("--expect-head: %w", err)
				}
			}
			c, err := vf.client()
			if err != nil {
				return err
			}
			res, err := c.AuditVerifyHead(cmd.Context(), expect)
			if err != nil {
				return err
			}
			if !res.OK {
				return errors.New("audit log broken: " + res.Error)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries\n", res.Entries)
			if expect != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "it holds the exported head %s; it ends at %s\n", res.ExpectedHead, res.Head)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&expect, "expect-head", "", "a head exported earlier (SEQ:HASH, from warden audit head) the log must still hold")
	vf.register(verify)

	var hf clientFlags
	head := &cobra.Command{
		Use:   "head",
		Short: "Print where the audit log ends, SEQ:HASH, to keep outside warden",
		Long: `Print where the audit log ends: the newest entry's sequence number and hash, as SEQ:HASH. Keep
it outside warden (a ticket, a log shipper, another system's store) and check against it later
with warden audit verify --expect-head SEQ:HASH: a log cut back past it no longer verifies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := hf.client()
			if err != nil {
				return err
			}
			h, err := c.AuditHead(cmd.Context())
			if err != nil {
				return err
			}
			if h.Seq == 0 {
				return errors.New("the audit log is empty")
			}
			fmt.Fprintln(cmd.OutOrStdout(), h.Head)
			return nil
		},
	}
	hf.register(head)
	cmd.AddCommand(ls, verify, head)
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
