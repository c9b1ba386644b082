package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newUserCmd() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Local accounts: invite a user to enrol, lift a sign-in lock"}

	var icf clientFlags
	invite := &cobra.Command{
		Use:   "invite NAME",
		Short: "Make a one-time enrolment link for a user (administrators only)",
		Long: `Make a one-time enrolment link for user NAME (who must exist), printed on standard output: give
it to them over a channel you trust. With it they choose a password and enrol a second factor (an
authenticator app, or a passkey) and receive ten recovery codes. The link works once, until
auth.invite_ttl (default 24h) passes; a new invitation replaces the earlier one.

An invitation is also how a password or a lost second factor is reset: enrolling replaces the
user's credential as a whole and signs them out everywhere. The invitation is audited (who invited
whom), never the link.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := icf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			out, err := c.Invite(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Link)
			fmt.Fprintf(cmd.ErrOrStderr(), "enrolment link for %s, valid once until %s: it holds a secret, send it privately\n",
				out.User, out.Expires.Local().Format(time.RFC3339))
			return nil
		},
	}
	icf.register(invite)

	var ucf clientFlags
	unlock := &cobra.Command{
		Use:   "unlock NAME",
		Short: "Lift the sign-in lock of a user after too many failures (administrators only)",
		Long: `Lift the lock that too many failed sign-ins put on user NAME (auth.lockout), and forget their
failures, so they may sign in again at once. Audited.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := ucf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := c.Unlock(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s may sign in again\n", args[0])
			return nil
		},
	}
	ucf.register(unlock)
	user.AddCommand(invite, unlock)
	return user
}
