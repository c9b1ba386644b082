package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/client"
)

func newSyncCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sync", Short: "Plan, apply and inspect the sync with Identity Center"}
	var cf clientFlags
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show what a sync would change in Identity Center (exit 0: nothing, 2: changes pending, 1: error)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			p, err := c.SyncPlan(cmd.Context())
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
	cf.register(plan)
	var af clientFlags
	var force bool
	apply := &cobra.Command{
		Use:   "apply [--force]",
		Short: "Observe Identity Center afresh and apply the plan (--force overrides the safety brake)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			p, err := c.SyncApply(cmd.Context(), force)
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
			fmt.Fprintf(out, "\nApplied %d operations.\n", p.Applied)
			if len(p.Errors) > 0 {
				return fmt.Errorf("%d operations failed:\n  %s", len(p.Errors), strings.Join(p.Errors, "\n  "))
			}
			return nil
		},
	}
	apply.Flags().BoolVar(&force, "force", false, "apply even a plan the safety brake refuses")
	af.register(apply)
	var sf clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the last sync: when, what changed, what failed, what is pending, API calls spent",
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
