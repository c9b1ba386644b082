package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/server"
)

const deleteInAWSHelp = "delete in Identity Center the users and groups warden adopted (there before it) and no longer has, instead of leaving them there unmanaged"

// count says n things, singular or plural ("1 operation", "2 operations").
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func newSyncCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sync", Short: "Plan, apply and inspect the sync with Identity Center"}
	var cf clientFlags
	var planDelete bool
	plan := &cobra.Command{
		Use:   "plan [--delete-in-aws]",
		Short: "Show what a sync would change in Identity Center (exit 0: nothing, 2: changes pending, 1: error)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			p, err := c.SyncPlan(cmd.Context(), server.SyncRequest{DeleteInAWS: planDelete})
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), p.Plan)
			if p.Changes > 0 {
				return exitError{2}
			}
			return nil
		},
	}
	plan.Flags().BoolVar(&planDelete, "delete-in-aws", false, deleteInAWSHelp)
	cf.register(plan)
	var af clientFlags
	var force, applyDelete bool
	apply := &cobra.Command{
		Use:   "apply [--force] [--delete-in-aws]",
		Short: "Observe Identity Center afresh and apply the plan (--force overrides the safety brake)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			p, err := c.SyncApply(cmd.Context(), server.SyncRequest{Force: force, DeleteInAWS: applyDelete})
			out := cmd.OutOrStdout()
			if p != nil && p.Plan != "" {
				fmt.Fprint(out, p.Plan)
			}
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status == 409 {
				return fmt.Errorf("nothing applied: %s", ce.Message)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\nApplied %s.\n", count(p.Applied, "operation"))
			if len(p.Unconverged) > 0 { // never "applied" alone while work is left
				return fmt.Errorf("not converged: Identity Center does not match warden yet:\n  %s", strings.Join(p.Unconverged, "\n  "))
			}
			if len(p.Errors) > 0 {
				return fmt.Errorf("%s failed:\n  %s", count(len(p.Errors), "operation"), strings.Join(p.Errors, "\n  "))
			}
			return nil
		},
	}
	apply.Flags().BoolVar(&force, "force", false, "apply even a plan the safety brake refuses")
	apply.Flags().BoolVar(&applyDelete, "delete-in-aws", false, deleteInAWSHelp)
	af.register(apply)
	var sf clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the sync: its health, the run in progress or the last, what is pending or in flight, what did not converge and why, API calls spent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			st, err := c.SyncStatus(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		},
	}
	sf.register(status)
	cmd.AddCommand(plan, apply, status)
	return cmd
}
