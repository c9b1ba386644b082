package main

import (
	"encoding/json"
	"strings"
	"testing"
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
