// Package integration holds what sets warden up against an AWS organisation: the IAM policy and
// trust policy of the role warden uses.
package integration

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Statement is one group of permissions with why warden needs it.
type Statement struct {
	Sid     string
	Why     string
	Actions []string
}

// Statements are the permissions warden needs: first the groups Identity Center integrations are
// known to need (as the Teleport documentation lists them), then what warden adds.
var Statements = []Statement{
	{"ListAccounts", "read the organisation's accounts (the catalog roles resolve against)",
		[]string{"organizations:ListAccounts", "organizations:ListAccountsForParent"}},
	{"ListGroupsAndMembers", "read Identity Center users, groups and memberships",
		[]string{"identitystore:ListUsers", "identitystore:ListGroups", "identitystore:ListGroupMemberships"}},
	{"ListPermissionSetsAndAssignments", "read permission sets and the assignments warden manages",
		[]string{"sso:DescribeInstance", "sso:DescribePermissionSet", "sso:ListPermissionSets",
			"sso:ListAccountAssignmentsForPrincipal", "sso:ListPermissionSetsProvisionedToAccount"}},
	{"CreateAndDeleteAccountAssignment", "grant and revoke account assignments (Identity Center provisions an IAM role in the account)",
		[]string{"sso:CreateAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus", "sso:DeleteAccountAssignment",
			"sso:DescribeAccountAssignmentDeletionStatus", "iam:AttachRolePolicy", "iam:CreateRole", "iam:GetRole",
			"iam:ListAttachedRolePolicies", "iam:ListRolePolicies"}},
	{"AllowAccountAssignmentOnOwner", "assignments in the management account need the SAML provider read",
		[]string{"iam:GetSAMLProvider"}},
	{"ListProvisionedRoles", "see the roles Identity Center provisioned",
		[]string{"iam:ListRoles"}},
	{"WardenDiscovery", "warden: find the instance and identity store when the config does not name them",
		[]string{"sso:ListInstances"}},
	{"WardenObserveByPair", "warden: observe assignments by (account, permission set) when that is cheaper than by principal",
		[]string{"sso:ListAccountAssignments", "sso:ListAccountsForProvisionedPermissionSet"}},
	{"WardenBrakeReads", "warden: count the memberships a user has in every group before deleting the user (the safety brake weighs them)",
		[]string{"identitystore:ListGroupMembershipsForMember"}},
	{"WardenDirectoryWrites", "warden: keep users, groups and memberships equal to warden's (identitystore API)",
		[]string{"identitystore:CreateUser", "identitystore:UpdateUser", "identitystore:DeleteUser", "identitystore:DescribeUser",
			"identitystore:GetUserId", "identitystore:CreateGroup", "identitystore:UpdateGroup", "identitystore:DeleteGroup",
			"identitystore:DescribeGroup", "identitystore:GetGroupId", "identitystore:CreateGroupMembership",
			"identitystore:DeleteGroupMembership", "identitystore:GetGroupMembershipId"}},
}

type policyDoc struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Action    any            `json:",omitempty"` // a list, or one action
	Resource  string         `json:",omitempty"`
	Principal map[string]any `json:",omitempty"`
}

// PolicyJSON is the IAM policy document, indented.
func PolicyJSON() string {
	doc := policyDoc{Version: "2012-10-17"}
	for _, s := range Statements {
		actions := append([]string(nil), s.Actions...)
		sort.Strings(actions)
		doc.Statement = append(doc.Statement, policyStatement{Sid: s.Sid, Effect: "Allow", Action: actions, Resource: "*"})
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// TrustJSON is the role's trust policy: principal may assume it (an account root, a role or a user ARN).
func TrustJSON(principal string) string {
	doc := policyDoc{Version: "2012-10-17", Statement: []policyStatement{{
		Sid: "WardenAssumesThisRole", Effect: "Allow", Action: "sts:AssumeRole", Principal: map[string]any{"AWS": principal}}}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// Explained is the policy with each statement's reason, for people.
func Explained() string {
	var b strings.Builder
	for _, s := range Statements {
		fmt.Fprintf(&b, "// %s: %s\n", s.Sid, s.Why)
		for _, a := range s.Actions {
			fmt.Fprintf(&b, "%s\n", a)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Terraform renders the role and its inline policy.
func Terraform(roleName, principal string) string {
	return fmt.Sprintf(`resource "aws_iam_role" "warden" {
  name               = %q
  description        = "warden: sync with AWS IAM Identity Center"
  assume_role_policy = <<-EOT
%s
  EOT
}

resource "aws_iam_role_policy" "warden" {
  name   = "warden-identity-center"
  role   = aws_iam_role.warden.id
  policy = <<-EOT
%s
  EOT
}
`, roleName, indent(TrustJSON(principal), "    "), indent(PolicyJSON(), "    "))
}

// CloudShell renders AWS CLI commands that create the role and its policy.
func CloudShell(roleName, principal string) string {
	return fmt.Sprintf(`#!/usr/bin/env bash
# Creates the IAM role warden uses for AWS IAM Identity Center. Run in AWS CloudShell (or any shell
# with the AWS CLI and administrator credentials) in the organisation's management account.
set -euo pipefail
cat > /tmp/warden-trust.json <<'JSON'
%s
JSON
cat > /tmp/warden-policy.json <<'JSON'
%s
JSON
aws iam create-role --role-name %s --description "warden: sync with AWS IAM Identity Center" \
  --assume-role-policy-document file:///tmp/warden-trust.json
aws iam put-role-policy --role-name %s --policy-name warden-identity-center \
  --policy-document file:///tmp/warden-policy.json
aws iam get-role --role-name %s --query Role.Arn --output text
`, TrustJSON(principal), PolicyJSON(), roleName, roleName, roleName)
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// Actions is every action the policy allows.
func Actions() map[string]bool {
	out := map[string]bool{}
	for _, s := range Statements {
		for _, a := range s.Actions {
			out[a] = true
		}
	}
	return out
}

var principalRE = regexp.MustCompile(`^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$`)

// Principal reads who may assume warden's role: a 12-digit account id (its root) or an IAM role or
// user ARN, as an ARN for the trust policy.
func Principal(v string) (string, error) {
	if !principalRE.MatchString(v) {
		return "", fmt.Errorf("%q: give a 12-digit account id or an IAM role or user ARN", v)
	}
	if len(v) == 12 {
		return "arn:aws:iam::" + v + ":root", nil
	}
	return v, nil
}
