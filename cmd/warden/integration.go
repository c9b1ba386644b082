package main

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/integration"
)

var principalRE = regexp.MustCompile(`^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$`)

func newIntegrationCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "integration", Short: "Set warden up against an AWS organisation"}
	var format, role, principal string
	policy := &cobra.Command{
		Use:   "aws-policy [--format json|explained|trust|terraform|cloudshell] [--trust ACCOUNT_OR_ARN] [--role-name NAME]",
		Short: "Print the IAM policy warden needs, and the role to hold it",
		Long: `Print the IAM policy warden needs for AWS IAM Identity Center: the permissions grouped by
purpose (--format explained says why each is needed), as a JSON policy document, the role's trust
policy alone (--format trust), as Terraform (aws_iam_role and aws_iam_role_policy), or as AWS CLI
commands for CloudShell. The role's trust policy lets --trust (an account id, or a role or user
ARN: where warden runs) assume it; set identity_center.role_arn to the role's ARN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			needsTrust := format == "trust" || format == "terraform" || format == "cloudshell"
			if needsTrust && principal == "" {
				return fmt.Errorf("--trust is required with --format %s: the account id, or the role or user ARN, warden runs as", format)
			}
			if principal != "" && !principalRE.MatchString(principal) {
				return fmt.Errorf("--trust %q: give a 12-digit account id or an IAM role or user ARN", principal)
			}
			if len(principal) == 12 {
				principal = "arn:aws:iam::" + principal + ":root"
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				fmt.Fprintln(out, integration.PolicyJSON())
			case "explained":
				fmt.Fprint(out, integration.Explained())
			case "trust":
				fmt.Fprintln(out, integration.TrustJSON(principal))
			case "terraform":
				fmt.Fprint(out, integration.Terraform(role, principal))
			case "cloudshell":
				fmt.Fprint(out, integration.CloudShell(role, principal))
			default:
				return fmt.Errorf("--format %q: use json, explained, trust, terraform or cloudshell", format)
			}
			return nil
		},
	}
	policy.Flags().StringVar(&format, "format", "json", "json, explained, trust, terraform or cloudshell")
	policy.Flags().StringVar(&role, "role-name", "warden-identity-center", "the IAM role's name")
	policy.Flags().StringVar(&principal, "trust", "", "who may assume the role: an account id, or a role or user ARN")
	var pf clientFlags
	preview := &cobra.Command{
		Use:   "preview",
		Short: "Show what an import from Identity Center would bring (accounts, permission sets, groups, lists, roles, users)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := pf.client()
			if err != nil {
				return err
			}
			p, err := c.Preview(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%d accounts, %d permission sets, %d users, %d groups, %d user-level assignments\n\n",
				p.Accounts, p.PermissionSets, p.Users, len(p.Groups), p.UserAssigned)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tMEMBERS\tACCESS LIST\tROLES")
			for _, g := range p.Groups {
				list := g.List
				if g.New {
					list += " (new)"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", g.DisplayName, g.Members, list, join(g.Roles))
			}
			tw.Flush()
			if len(p.Changes) == 0 {
				fmt.Fprintln(out, "\nNothing new: an import adds nothing to warden.")
			} else {
				fmt.Fprintf(out, "\nAn import adds (%d):\n", len(p.Changes))
				for _, c := range p.Changes {
					fmt.Fprintf(out, "  + %s\n", c)
				}
			}
			if p.Records > 0 {
				fmt.Fprintf(out, "It takes over %d users, groups and assignments in Identity Center as warden's.\n", p.Records)
			}
			if p.Explained > 0 {
				fmt.Fprintf(out, "%d assignments are warden's already (its grants, approved requests, or its own records): an import leaves them to the sync.\n", p.Explained)
			}
			for _, s := range p.Skipped {
				fmt.Fprintf(out, "skipped: %s\n", s)
			}
			if len(p.OutOfScope) > 0 {
				fmt.Fprintf(out, "\nLeft out by the identity_center accounts and groups filters (neither imported nor synced): %s\n", strings.Join(p.OutOfScope, ", "))
			}
			return nil
		},
	}
	pf.register(preview)
	var imf clientFlags
	var owners []string
	imp := &cobra.Command{
		Use:   "import --default-owner NAME [--default-owner NAME...]",
		Short: "Import Identity Center: users, one access list per group, roles <permission-set>-on-<account-name>",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(owners) == 0 {
				return fmt.Errorf("--default-owner is required: the owners of the imported access lists")
			}
			c, err := imf.client()
			if err != nil {
				return err
			}
			st, err := c.Import(cmd.Context(), owners)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "imported: %v created, %v already there (%v given what appeared in AWS since), %v taken over in Identity Center\n", st["Created"], st["Existing"], st["Updated"], st["Recorded"])
			changes, _ := st["Changes"].([]any)
			for _, c := range changes {
				fmt.Fprintf(out, "  + %v\n", c)
			}
			return nil
		},
	}
	imp.Flags().StringArrayVar(&owners, "default-owner", nil, "owner of every imported access list (a user name); repeatable")
	imf.register(imp)
	var uf clientFlags
	var deleteGroups, yes bool
	uninstall := &cobra.Command{
		Use:   "uninstall [--delete-groups] [--yes]",
		Short: "Remove the assignments warden made in Identity Center (and with --delete-groups its groups), and stop the sync",
		Long: `uninstall shows its plan, asks (unless --yes), then deletes from Identity Center every account
assignment warden created, for standing grants and access requests alike, and with --delete-groups the
groups it created. What existed before warden (adopted groups, users and assignments) stays, and so do
users. The sync stops, on every replica and across restarts, until an import takes it up again.
Running it again finishes what a failure left.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := uf.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			plan, err := c.Uninstall(cmd.Context(), deleteGroups, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Uninstalling deletes %d account assignments and %d groups from Identity Center:\n", len(plan.Assignments), len(plan.Groups))
			for _, a := range plan.Assignments {
				fmt.Fprintf(out, "  - assignment %s\n", a)
			}
			for _, g := range plan.Groups {
				fmt.Fprintf(out, "  - group %s\n", g)
			}
			for _, k := range plan.Kept {
				fmt.Fprintf(out, "  = keeps %s\n", k)
			}
			if !yes {
				fmt.Fprint(out, "Type yes to go on: ")
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return errors.New("uninstall: not confirmed; nothing was changed")
				}
			}
			done, err := c.Uninstall(cmd.Context(), deleteGroups, false)
			if err != nil {
				return err
			}
			for _, e := range done.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "failed: %s\n", e)
			}
			if !done.Done {
				return fmt.Errorf("uninstall: %d operations failed; the sync is stopped; run it again to finish", len(done.Errors))
			}
			fmt.Fprintf(out, `Done: %d assignments and %d groups deleted; the sync is stopped.

Left to do in AWS:
  1. Remove the identity_center section from warden's configuration (until then the sync stays
     stopped; warden integration import would take it up again).
  2. In IAM Identity Center, Settings: if warden was the identity provider, change the identity
     source back; if provisioning used SCIM, delete warden's SCIM access token.
  3. Delete the IAM role warden used (see warden integration aws-policy) and its policies.
`, len(done.Assignments), len(done.Groups))
			return nil
		},
	}
	uninstall.Flags().BoolVar(&deleteGroups, "delete-groups", false, "also delete the groups warden created (with their memberships)")
	uninstall.Flags().BoolVar(&yes, "yes", false, "do not ask")
	uf.register(uninstall)
	cmd.AddCommand(policy, preview, imp, uninstall, scimTokenCommand(), scimTestCommand())
	return cmd
}
