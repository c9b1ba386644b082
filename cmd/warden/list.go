package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

func newListCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "Access list governance: members and periodic reviews (owners and administrators)"}
	members := &cobra.Command{Use: "members", Short: "Add, remove and list an access list's members"}

	var af clientFlags
	var expires, reason, kind, out string
	add := &cobra.Command{
		Use:   "add LIST MEMBER [--expires TIME] [--reason TEXT] [--kind user|list]",
		Short: "Add a member (a user, or a nested list with --kind list); an owner or administrator may",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := server.MemberAdd{Member: args[1], Kind: kind, Reason: reason}
			if expires != "" {
				t, err := parseWhen(expires)
				if err != nil {
					return err
				}
				in.Expires = &t
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			o, err := c.MemberAdd(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessListMember, []*resource.Object{o}, out, true)
		},
	}
	add.Flags().StringVar(&expires, "expires", "", "when the membership ends: RFC 3339 time, or a duration from now like 720h")
	add.Flags().StringVar(&reason, "reason", "", "why")
	add.Flags().StringVar(&kind, "kind", "", "user (default) or list")
	add.Flags().StringVarP(&out, "output", "o", "table", "table, yaml, json or name")
	af.register(add)

	var rf clientFlags
	var rkind string
	remove := &cobra.Command{
		Use:   "remove LIST MEMBER [--kind user|list]",
		Short: "Remove a member; an owner or administrator may",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rf.client()
			if err != nil {
				return err
			}
			if rkind == "" {
				rkind = resource.MemberUser
			}
			if err := c.MemberRemove(cmd.Context(), args[0], args[1], rkind); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s removed from %s\n", args[1], args[0])
			return nil
		},
	}
	remove.Flags().StringVar(&rkind, "kind", "", "user (default) or list")
	rf.register(remove)

	var lf clientFlags
	var lout string
	ls := &cobra.Command{
		Use:   "ls LIST",
		Short: "List an access list's members",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lf.client()
			if err != nil {
				return err
			}
			objs, err := c.Members(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessListMember, objs, lout, false)
		},
	}
	ls.Flags().StringVarP(&lout, "output", "o", "table", "table, yaml, json or name")
	lf.register(ls)

	members.AddCommand(add, remove, ls)

	var vf clientFlags
	var removeMembers []string
	var notes, vout string
	review := &cobra.Command{
		Use:   "review LIST [--remove MEMBER ...] --notes TEXT",
		Short: "Record a periodic review: remove members, note what was found, move the next review date",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := vf.client()
			if err != nil {
				return err
			}
			o, err := c.ListReview(cmd.Context(), args[0], server.ListReview{Remove: removeMembers, Notes: notes})
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessList, []*resource.Object{o}, vout, true)
		},
	}
	review.Flags().StringArrayVar(&removeMembers, "remove", nil, "a member to remove (repeatable)")
	review.Flags().StringVar(&notes, "notes", "", "what the review found (required)")
	review.Flags().StringVarP(&vout, "output", "o", "table", "table, yaml, json or name")
	vf.register(review)

	var lsf clientFlags
	var due bool
	var lsout string
	lists := &cobra.Command{
		Use:   "ls [--review-due]",
		Short: "List access lists; --review-due: those whose periodic review is due",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lsf.client()
			if err != nil {
				return err
			}
			objs, err := c.Lists(cmd.Context(), due)
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), resource.KindAccessList, objs, lsout, false)
		},
	}
	lists.Flags().BoolVar(&due, "review-due", false, "only lists whose review is due")
	lists.Flags().StringVarP(&lsout, "output", "o", "table", "table, yaml, json or name")
	lsf.register(lists)

	cmd.AddCommand(members, review, lists)
	return cmd
}

// parseWhen reads an RFC 3339 time or a duration from now.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(d).Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-12-01T00:00:00Z) nor a duration from now (720h)", s)
}
