package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newSessionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "session", Short: "See and end browser sessions"}

	var lf clientFlags
	var lsUser, out string
	var lsAll bool
	ls := &cobra.Command{
		Use:   "ls [--user NAME | --all] [-o table|json]",
		Short: "List browser sessions: yours, or (administrators) a user's or everyone's",
		Long: `List the browser sessions that have not ended, never their secrets: yours, or for an
administrator one user's (--user) or everyone's (--all). METHODS are how each was signed in and
stepped up (pwd password, otp TOTP, rec recovery code, hwk passkey, oidc:<connector>); 2FA is when a
second factor was last used. * marks the session you are using.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if lsAll && lsUser != "" {
				return errors.New("give --user or --all, not both")
			}
			c, err := lf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			list, err := c.Sessions(ctx, lsUser, lsAll)
			if err != nil {
				return err
			}
			switch out {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case "table":
			default:
				return fmt.Errorf("-o %q: use table or json", out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tCREATED\tLAST SEEN\tEXPIRES\tMETHODS\t2FA\tFROM")
			for _, s := range list {
				id := s.ID
				if s.Current {
					id += " *"
				}
				var methods []string
				for _, m := range s.Methods {
					name := m.Method
					if m.Connector != "" {
						name += ":" + m.Connector
					}
					methods = append(methods, name)
				}
				second := "-"
				if !s.SecondFactorAt.IsZero() {
					second = s.SecondFactorAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, s.User, s.Created.Format(time.RFC3339),
					s.LastSeen.Format(time.RFC3339), s.Expires.Format(time.RFC3339), strings.Join(methods, "+"), second,
					orDash(strings.TrimSpace(s.Address+" "+shortAgent(s.UserAgent))))
			}
			return tw.Flush()
		},
	}
	ls.Flags().StringVar(&lsUser, "user", "", "this user's sessions (administrators)")
	ls.Flags().BoolVar(&lsAll, "all", false, "everyone's sessions (administrators)")
	ls.Flags().StringVarP(&out, "output", "o", "table", "table or json")
	lf.register(ls)

	var rf clientFlags
	var all bool
	var user string
	revoke := &cobra.Command{
		Use:   "revoke ID | --all [--user NAME]",
		Short: "End a browser session, or every one of yours (sign out everywhere)",
		Long: `End a browser session by its id (warden session ls shows ids): its cookie fails from the
next request on, on every replica. --all ends every session of yours ("sign out everywhere"), or
of --user for an administrator. Ending someone else's sessions is an administrative change: it
needs a recent second factor (auth.step_up). Audited with who ended them.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return errors.New("give a session id or --all, not both")
			case !all && len(args) == 0:
				return errors.New("give a session id (warden session ls), or --all")
			case !all && user != "":
				return errors.New("--user goes with --all (a session id names its user already)")
			}
			c, err := rf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if all {
				res, err := c.RevokeAllSessions(ctx, user)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d %s of %s ended\n", res.Revoked, plural(res.Revoked, "session", "sessions"), res.User)
				return nil
			}
			s, err := c.RevokeSession(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "session %s of %s ended\n", s.ID, s.User)
			return nil
		},
	}
	revoke.Flags().BoolVar(&all, "all", false, "end every session (yours, or --user's)")
	revoke.Flags().StringVar(&user, "user", "", "with --all: this user's sessions (administrators)")
	rf.register(revoke)
	cmd.AddCommand(ls, revoke)
	return cmd
}

// shortAgent shortens a user agent for a table.
func shortAgent(ua string) string {
	if r := []rune(ua); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return ua
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
