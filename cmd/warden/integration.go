package main

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/integration"
)

var principalRE = regexp.MustCompile(`^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$`)

func newIntegrationCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "integration", Short: "Set warden up against an AWS organisation"}
	var format, role, principal string
	policy := &cobra.Command{
		Use:   "aws-policy [--format json|explained|terraform|cloudshell] [--trust ACCOUNT_OR_ARN] [--role-name NAME]",
		Short: "Print the IAM policy warden needs, and the role to hold it",
		Long: `Print the IAM policy warden needs for AWS IAM Identity Center: the permissions grouped by
purpose (--format explained says why each is needed), as a JSON policy document, as Terraform
(aws_iam_role and aws_iam_role_policy), or as AWS CLI commands for CloudShell. The role's trust
policy lets --trust (an account id, or a role or user ARN: where warden runs) assume it; set
identity_center.role_arn to the role's ARN.`,
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
	cmd.AddCommand(policy)
	return cmd
}
