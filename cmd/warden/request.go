package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

func newRequestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Just-in-time access: create, review, cancel, revoke and list access requests",
	}
	output := func(c *cobra.Command, o *string) {
		c.Flags().StringVarP(o, "output", "o", "table", "table, yaml, json or name")
	}

	var cf clientFlags
	var roles, res, reason, duration, start string
	var out string
	var wait bool
	var timeout time.Duration
	create := &cobra.Command{
		Use:   "create (--roles R1,R2 | --resource account=A,permission_set=P) [--reason TEXT] [--duration 2h] [--start TIME] [--wait [--timeout 15m]]",
		Short: "Ask for roles, or for one account × permission set, for a while",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in := server.RequestCreate{Reason: reason, Duration: duration}
			if roles != "" {
				for _, r := range strings.Split(roles, ",") {
					if r = strings.TrimSpace(r); r != "" {
						in.Roles = append(in.Roles, r)
					}
				}
			}
			if res != "" {
				aa, err := parseResource(res)
				if err != nil {
					return err
				}
				in.Resources = []resource.AccountAssignment{aa}
			}
			if (len(in.Roles) == 0) == (len(in.Resources) == 0) {
				return errors.New("give --roles or --resource (one of them)")
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return fmt.Errorf("--start %q: use RFC 3339, e.g. 2026-11-21T15:00:00Z", start)
				}
				in.Start = &t
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			got, err := c.RequestCreate(cmd.Context(), in)
			if err != nil {
				return err
			}
			for _, n := range got.Notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			if err := printObjects(cmd.OutOrStdout(), resource.KindAccessRequest, []*resource.Object{got.Request}, out, true); err != nil {
				return err
			}
			if !wait {
				return nil
			}
			return waitGranted(cmd, c, got.Request.Metadata.Name, timeout)
		},
	}
	create.Flags().BoolVar(&wait, "wait", false, "wait until the access is granted in Identity Center (exit 0, printing the AWS CLI profiles to use), denied (2), expired or cancelled (3), or --timeout passes (4)")
	create.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "with --wait, how long to wait at most")
	create.Flags().StringVar(&roles, "roles", "", "roles to request, comma-separated")
	create.Flags().StringVar(&res, "resource", "", "one account × permission set: account=ID_OR_NAME,permission_set=NAME")
	create.Flags().StringVar(&reason, "reason", "", "why (some roles require it)")
	create.Flags().StringVar(&duration, "duration", "", "how long, e.g. 2h (capped at what your roles allow; default: that maximum)")
	create.Flags().StringVar(&start, "start", "", "when the access starts (RFC 3339; default: on approval)")
	output(create, &out)
	cf.register(create)

	var rf clientFlags
	var approve, deny bool
	var reviewReason string
	review := &cobra.Command{
		Use:   "review ID (--approve | --deny) [--reason TEXT]",
		Short: "Approve or deny a request you may review",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if approve == deny {
				return errors.New("give --approve or --deny (one of them)")
			}
			decision := resource.DecisionApprove
			if deny {
				decision = resource.DecisionDeny
			}
			c, err := rf.client()
			if err != nil {
				return err
			}
			got, err := c.RequestReview(cmd.Context(), args[0], server.RequestReview{Decision: decision, Reason: reviewReason})
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessRequest, []*resource.Object{got.Request}, out, true)
		},
	}
	review.Flags().BoolVar(&approve, "approve", false, "approve")
	review.Flags().BoolVar(&deny, "deny", false, "deny")
	review.Flags().StringVar(&reviewReason, "reason", "", "why")
	output(review, &out)
	rf.register(review)

	end := func(how, short string) *cobra.Command {
		var ef clientFlags
		c := &cobra.Command{
			Use:   how + " ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := ef.client()
				if err != nil {
					return err
				}
				got, err := c.RequestEnd(cmd.Context(), args[0], how)
				if err != nil {
					return err
				}
				return printObjects(cmd.OutOrStdout(), resource.KindAccessRequest, []*resource.Object{got.Request}, out, true)
			},
		}
		output(c, &out)
		ef.register(c)
		return c
	}

	var lf clientFlags
	var state string
	var mine, toReview bool
	ls := &cobra.Command{
		Use:   "ls [--state S] [--mine] [--to-review]",
		Short: "List requests: yours, those you may review, or (administrators) all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if state != "" {
				st, err := server.ParseRequestState(state)
				if err != nil {
					return fmt.Errorf("--state: %w", err)
				}
				state = st
			}
			c, err := lf.client()
			if err != nil {
				return err
			}
			objs, err := c.Requests(cmd.Context(), state, mine, toReview)
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessRequest, objs, out, false)
		},
	}
	ls.Flags().StringVar(&state, "state", "", "PENDING, APPROVED, DENIED, EXPIRED or CANCELLED (any case)")
	ls.Flags().BoolVar(&mine, "mine", false, "only your own requests")
	ls.Flags().BoolVar(&toReview, "to-review", false, "only pending requests you may review")
	output(ls, &out)
	lf.register(ls)

	var sf clientFlags
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a request: who asked, who reviewed, the window",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			o, err := c.Request(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if out == "table" {
				out = "yaml" // one request reads best whole
			}
			for _, n := range credentialNotes(o) {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessRequest, []*resource.Object{o}, out, true)
		},
	}
	output(show, &out)
	sf.register(show)

	cmd.AddCommand(create, review, end("cancel", "End your own request now (pending or during its window)"),
		end("revoke", "(admin) End a request now"), ls, show)
	return cmd
}

// parseResource reads "account=Production,permission_set=AdministratorAccess".
func parseResource(s string) (resource.AccountAssignment, error) {
	var aa resource.AccountAssignment
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		switch {
		case !ok:
			return aa, fmt.Errorf("--resource %q: use account=ID_OR_NAME,permission_set=NAME", s)
		case k == "account":
			aa.Account = v
		case k == "permission_set":
			aa.PermissionSet = v
		default:
			return aa, fmt.Errorf("--resource: unknown key %q (account, permission_set)", k)
		}
	}
	if aa.Account == "" || aa.PermissionSet == "" {
		return aa, fmt.Errorf("--resource %q: both account= and permission_set= are needed", s)
	}
	return aa, nil
}
