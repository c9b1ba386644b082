package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// Exit statuses of warden request create --wait.
const (
	exitDenied  = 2
	exitEnded   = 3
	exitTimeout = 4
)

// requestStatus is what --wait and request show read of a request's status.
type requestStatus struct {
	Assignments []server.GrantState `json:"assignments"`
	Credentials []string            `json:"credentials"`
}

func statusOf(o *resource.Object) requestStatus {
	var st requestStatus
	if len(o.Status) > 0 {
		json.Unmarshal(o.Status, &st)
	}
	return st
}

// credentialNotes are the request's notes on how long credentials fetched now stay valid.
func credentialNotes(o *resource.Object) []string { return statusOf(o).Credentials }

// waitGranted polls request id (GET /v1/access/requests/{id}) until its assignments are all granted
// in Identity Center, it ends, or timeout passes; the pause between polls grows from 250 ms to 5 s.
func waitGranted(cmd *cobra.Command, c *client.Client, id string, timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("--timeout %s: give a positive duration", timeout)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	errOut := cmd.ErrOrStderr()
	fmt.Fprintf(errOut, "waiting for request %s to be granted in Identity Center (at most %s)...\n", id, timeout)
	last := ""
	for pause := 250 * time.Millisecond; ; pause = min(2*pause, 5*time.Second) {
		o, err := c.Request(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status >= 400 && ce.Status < 500 && ce.Status != 429 {
				return err
			}
			fmt.Fprintf(errOut, "warning: %v (trying again)\n", err)
		} else {
			spec := o.Spec.(*resource.AccessRequestSpec)
			st := statusOf(o)
			state := spec.State
			switch state {
			case resource.StateDenied:
				fmt.Fprintf(errOut, "request %s was denied\n", id)
				return exitError{exitDenied}
			case resource.StateExpired, resource.StateCancelled:
				fmt.Fprintf(errOut, "request %s ended: %s%s\n", id, state, suffix(spec.EndReason))
				return exitError{exitEnded}
			}
			granted := len(st.Assignments) > 0 && !slices.ContainsFunc(st.Assignments, func(g server.GrantState) bool { return g.State != "granted" })
			if state == resource.StateApproved && granted {
				fmt.Fprintf(errOut, "granted until %s; use the AWS CLI profile(s) below (warden aws config writes them)\n", spec.End.Local().Format(time.RFC3339))
				for _, n := range st.Credentials {
					fmt.Fprintf(errOut, "note: %s\n", n)
				}
				for _, name := range profileNames(st.Assignments) {
					fmt.Fprintln(cmd.OutOrStdout(), name)
				}
				return nil
			}
			now := describeWait(spec, st)
			if now != last {
				fmt.Fprintf(errOut, "%s\n", now)
				last = now
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
			continue
		}
		break
	}
	if cmd.Context().Err() != nil {
		return cmd.Context().Err()
	}
	fmt.Fprintf(errOut, "request %s: not granted within %s (it goes on; warden request show %s)\n", id, timeout, id)
	return exitError{exitTimeout}
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// describeWait says what the request waits for.
func describeWait(spec *resource.AccessRequestSpec, st requestStatus) string {
	switch {
	case spec.State == resource.StatePending:
		return "pending: waiting for its reviews"
	case spec.Start != nil && time.Now().Before(*spec.Start):
		return "approved: its window opens at " + spec.Start.Local().Format(time.RFC3339)
	case len(st.Assignments) == 0:
		return "approved: waiting for the sync to plan its assignments"
	}
	n := 0
	for _, g := range st.Assignments {
		if g.State == "granted" {
			n++
		}
	}
	return fmt.Sprintf("approved: %d of %d assignment(s) granted in Identity Center", n, len(st.Assignments))
}

// profileNames are the default AWS CLI profile names (as warden aws config names them when nothing
// collides) of the assignments.
func profileNames(gs []server.GrantState) []string {
	var out []string
	for _, g := range gs {
		n := awsconfig.ProfileName(awsconfig.Entry{AccountID: g.AccountID, AccountName: g.AccountName, PermissionSet: g.PermissionSet})
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
