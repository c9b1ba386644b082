package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/idc"
)

func TestIntegrationAWSPolicy(t *testing.T) {
	env := cleanEnv(t)
	out := mustRun(t, env, "", "integration", "aws-policy")
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("default output is not a JSON policy: %v", err)
	}
	if out := mustRun(t, env, "", "integration", "aws-policy", "--format", "terraform", "--trust", "058264527036"); !strings.Contains(out, `"AWS": "arn:aws:iam::058264527036:root"`) {
		t.Fatalf("terraform: %s", out)
	}
	if r := run(t, env, "", "integration", "aws-policy", "--format", "cloudshell"); r.code == 0 || !strings.Contains(r.err, "--trust is required") {
		t.Fatalf("cloudshell without --trust: exit %d %s", r.code, r.err)
	}
	if r := run(t, env, "", "integration", "aws-policy", "--format", "trust", "--trust", "12345"); r.code == 0 || !strings.Contains(r.err, `--trust "12345"`) {
		t.Fatalf("bad --trust: exit %d %s", r.code, r.err)
	}
	if r := run(t, env, "", "integration", "aws-policy", "--format", "yaml"); r.code == 0 || !strings.Contains(r.err, "--format") {
		t.Fatalf("bad --format: exit %d %s", r.code, r.err)
	}
}

// On the demo, which imported its organisation when it started, a preview says an import adds
// nothing; after an assignment is made directly in Identity Center it lists exactly that one, and
// the import adds exactly that.
func TestReimportPreviewCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	defer d.stop(t)
	waitFor(t, func() bool { return demoSimRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	simURL := demoSimRE.FindStringSubmatch(d.stdout.String())[1]
	cli := append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	out := mustRun(t, cli, "", "integration", "preview")
	if !strings.Contains(out, "Nothing new: an import adds nothing to warden.") || strings.Contains(out, "(new)") {
		t.Fatalf("preview of a re-import with nothing new:\n%s", out)
	}

	// An administrator gives lena AdministratorAccess on Production in Identity Center directly.
	ctx := context.Background()
	c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""),
		BaseEndpoint: aws.String(simURL)}, idc.Config{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := c.PermissionSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var admin, lena string
	for _, ps := range sets {
		if ps.Name == "AdministratorAccess" {
			admin = ps.ARN
		}
	}
	for id, u := range readSim(t, simURL).Users {
		if u.UserName == "lena@example.com" {
			lena = id
		}
	}
	if _, err := c.CreateAssignment(ctx, idc.Assignment{PrincipalType: "USER", PrincipalID: lena, AccountID: "637423191929", PermissionSetARN: admin}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return readSim(t, simURL).assignmentsOf("lena@example.com") == 2 }, "lena's new assignment")

	out = mustRun(t, cli, "", "integration", "preview")
	const line = "  + standing role AdministratorAccess-on-production for user lena@example.com\n"
	if !strings.Contains(out, "An import adds (1):\n"+line) {
		t.Fatalf("preview after one assignment made in Identity Center:\n%s", out)
	}
	out = mustRun(t, cli, "", "integration", "import", "--default-owner", "alice@example.com")
	if !strings.Contains(out, "0 created") || !strings.Contains(out, "(1 given what appeared in AWS since)") || !strings.HasSuffix(out, "\n"+line) {
		t.Fatalf("import:\n%s", out)
	}
	if out := mustRun(t, cli, "", "integration", "preview"); !strings.Contains(out, "Nothing new") {
		t.Fatalf("preview after the import:\n%s", out)
	}
}
