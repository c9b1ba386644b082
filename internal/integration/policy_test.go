package integration_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/integration"
)

// The permissions integrations are documented to need (seed 000), every one of them.
var documented = []string{
	"organizations:ListAccounts", "organizations:ListAccountsForParent",
	"identitystore:ListUsers", "identitystore:ListGroups", "identitystore:ListGroupMemberships",
	"sso:DescribeInstance", "sso:DescribePermissionSet", "sso:ListPermissionSets",
	"sso:ListAccountAssignmentsForPrincipal", "sso:ListPermissionSetsProvisionedToAccount",
	"sso:CreateAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus", "sso:DeleteAccountAssignment",
	"sso:DescribeAccountAssignmentDeletionStatus", "iam:AttachRolePolicy", "iam:CreateRole", "iam:GetRole",
	"iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetSAMLProvider", "iam:ListRoles",
}

func TestPolicyHoldsTheDocumentedActions(t *testing.T) {
	var doc struct {
		Version   string
		Statement []struct {
			Sid, Effect, Resource string
			Action                []string
		}
	}
	if err := json.Unmarshal([]byte(integration.PolicyJSON()), &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Resource != "*" || s.Sid == "" {
			t.Errorf("statement %+v", s)
		}
		for _, a := range s.Action {
			have[a] = true
		}
	}
	for _, a := range documented {
		if !have[a] {
			t.Errorf("the policy lacks %s", a)
		}
	}
	if !strings.Contains(integration.Explained(), "// WardenDiscovery: ") {
		t.Error("warden's own additions are not explained")
	}
}

func TestRoleRenderings(t *testing.T) {
	trust := integration.TrustJSON("arn:aws:iam::058264527036:root")
	var doc map[string]any
	if err := json.Unmarshal([]byte(trust), &doc); err != nil || !strings.Contains(trust, `"Action": "sts:AssumeRole"`) {
		t.Fatalf("trust policy: %v\n%s", err, trust)
	}
	tf := integration.Terraform("warden", "arn:aws:iam::058264527036:root")
	for _, want := range []string{`resource "aws_iam_role" "warden"`, `resource "aws_iam_role_policy" "warden"`, "sts:AssumeRole", "sso:CreateAccountAssignment"} {
		if !strings.Contains(tf, want) {
			t.Errorf("terraform lacks %q", want)
		}
	}
	sh := integration.CloudShell("warden", "arn:aws:iam::058264527036:root")
	for _, want := range []string{"aws iam create-role --role-name warden", "aws iam put-role-policy --role-name warden"} {
		if !strings.Contains(sh, want) {
			t.Errorf("cloudshell script lacks %q", want)
		}
	}
	// The JSON the script writes is the policy itself.
	start := strings.Index(sh, "cat > /tmp/warden-policy.json <<'JSON'\n") + len("cat > /tmp/warden-policy.json <<'JSON'\n")
	end := strings.Index(sh[start:], "\nJSON\n")
	if sh[start:start+end] != integration.PolicyJSON() {
		t.Error("the script's policy differs from the policy")
	}
}

func TestPrincipal(t *testing.T) {
	for in, want := range map[string]string{
		"058264527036": "arn:aws:iam::058264527036:root",
		"arn:aws:iam::058264527036:role/warden-ec2": "arn:aws:iam::058264527036:role/warden-ec2",
		"arn:aws:iam::058264527036:user/ops":        "arn:aws:iam::058264527036:user/ops",
	} {
		if got, err := integration.Principal(in); err != nil || got != want {
			t.Errorf("Principal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "arn:aws:iam::058264527036:group/x", "058264527036; rm -rf /"} {
		if _, err := integration.Principal(in); err == nil {
			t.Errorf("Principal(%q) passed", in)
		}
	}
}
