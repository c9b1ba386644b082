package main

import (
	"encoding/json"
	"errors"
	"github.com/wardenhq/warden/internal/testenv"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var simEndpointRE = regexp.MustCompile(`idcsim endpoint:\s+(\S+)`)

// startSim runs `warden sim` and returns its endpoint and process.
func startSim(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(wardenBin, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv(t)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	// The banner is written line by line: wait for its last line, so callers may read any of it.
	banner := regexp.MustCompile(`try: .*\n`)
	waitFor(t, func() bool { return banner.MatchString(out.String()) }, "warden sim to print its endpoint and instance")
	return simEndpointRE.FindStringSubmatch(out.String())[1], cmd, out
}

// awsV2 finds the AWS CLI v2: Debian's /usr/bin/aws, else an aws on PATH that says it is v2 (on
// some machines the first aws on PATH is a pip-installed v1, which behaves differently). Locally a
// machine without one skips; under CI=true it fails.
func awsV2(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		out, err := exec.Command(c, "--version").CombinedOutput()
		if err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return c
		}
	}
	testenv.Need(t, errors.New("the AWS CLI v2 (Debian package awscli, /usr/bin/aws) is not installed"))
	return ""
}

// awsCLI runs the AWS CLI v2 against the simulator and decodes its JSON output.
func awsCLI(t *testing.T, endpoint string, args ...string) (map[string]any, error) {
	t.Helper()
	cmd := exec.Command(awsV2(t), append([]string{"--region", "us-east-1", "--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = append(cleanEnv(t), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, &cliError{string(ee.Stderr)}
		}
		return nil, err
	}
	var v map[string]any
	if len(strings.TrimSpace(string(out))) == 0 {
		return map[string]any{}, nil
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v, nil
}

type cliError struct{ stderr string }

func (e *cliError) Error() string { return e.stderr }

func mustAWS(t *testing.T, endpoint string, args ...string) map[string]any {
	t.Helper()
	v, err := awsCLI(t, endpoint, args...)
	if err != nil {
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return v
}

func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := field(v, path...).(string)
	return s
}

func length(v any, path ...any) int {
	l, _ := field(v, path...).([]any)
	return len(l)
}

// The real AWS CLI v2 works against `warden sim` unchanged except for the endpoint.
func TestAWSCLIAgainstSim(t *testing.T) {
	t.Parallel() // mostly waiting on other processes: it overlaps with the rest
	awsV2(t)
	statePath := filepath.Join(t.TempDir(), "sim.json")
	ep, cmd, out := startSim(t, "--seed", "demo", "--state", statePath)
	inst := regexp.MustCompile(`instance ARN:\s+(\S+)`).FindStringSubmatch(out.String())[1]
	store := regexp.MustCompile(`identity store id:\s+(\S+)`).FindStringSubmatch(out.String())[1]

	// organizations
	accounts := mustAWS(t, ep, "organizations", "list-accounts")
	if n := length(accounts, "Accounts"); n != 6 {
		t.Fatalf("list-accounts: %d accounts, want 6 (5 demo + management)", n)
	}
	staging := mustAWS(t, ep, "organizations", "describe-account", "--account-id", "058264527036")
	if str(staging, "Account", "Name") != "Staging" {
		t.Fatalf("describe-account: %v", staging)
	}
	if org := mustAWS(t, ep, "organizations", "describe-organization"); !strings.HasPrefix(str(org, "Organization", "Id"), "o-") {
		t.Fatalf("describe-organization: %v", org)
	}
	if roots := mustAWS(t, ep, "organizations", "list-roots"); length(roots, "Roots") != 1 {
		t.Fatalf("list-roots: %v", roots)
	}

	// sso-admin
	inst0 := mustAWS(t, ep, "sso-admin", "list-instances")
	if str(inst0, "Instances", 0, "InstanceArn") != inst || str(inst0, "Instances", 0, "IdentityStoreId") != store {
		t.Fatalf("list-instances: %v", inst0)
	}
	if sets := mustAWS(t, ep, "sso-admin", "list-permission-sets", "--instance-arn", inst); length(sets, "PermissionSets") != 5 {
		t.Fatalf("list-permission-sets: %v", sets)
	}
	created := mustAWS(t, ep, "sso-admin", "create-permission-set", "--instance-arn", inst, "--name", "CliTest",
		"--description", "made by the AWS CLI", "--session-duration", "PT2H")
	psArn := str(created, "PermissionSet", "PermissionSetArn")
	if str(created, "PermissionSet", "Name") != "CliTest" || psArn == "" {
		t.Fatalf("create-permission-set: %v", created)
	}
	desc := mustAWS(t, ep, "sso-admin", "describe-permission-set", "--instance-arn", inst, "--permission-set-arn", psArn)
	if str(desc, "PermissionSet", "SessionDuration") != "PT2H" {
		t.Fatalf("describe-permission-set: %v", desc)
	}
	// A duplicate name lasts until the other set is deleted: a ValidationException, not a
	// ConflictException (a write not yet propagated, to retry, in AWS's model).
	if _, err := awsCLI(t, ep, "sso-admin", "create-permission-set", "--instance-arn", inst, "--name", "CliTest"); err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("duplicate create-permission-set: %v", err)
	}

	// identitystore
	users := mustAWS(t, ep, "identitystore", "list-users", "--identity-store-id", store)
	if n := length(users, "Users"); n != 12 {
		t.Fatalf("list-users: %d users, want 12", n)
	}
	newUser := mustAWS(t, ep, "identitystore", "create-user", "--identity-store-id", store, "--user-name", "zoe@example.com",
		"--display-name", "Zoe Park", "--name", "GivenName=Zoe,FamilyName=Park", "--emails", "Value=zoe@example.com,Type=work,Primary=true")
	zoe := str(newUser, "UserId")
	if zoe == "" {
		t.Fatalf("create-user: %v", newUser)
	}
	if d := mustAWS(t, ep, "identitystore", "describe-user", "--identity-store-id", store, "--user-id", zoe); str(d, "Name", "GivenName") != "Zoe" || str(d, "Emails", 0, "Value") != "zoe@example.com" {
		t.Fatalf("describe-user: %v", d)
	}
	if id := mustAWS(t, ep, "identitystore", "get-user-id", "--identity-store-id", store, "--alternate-identifier",
		`{"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"zoe@example.com"}}`); str(id, "UserId") != zoe {
		t.Fatalf("get-user-id: %v", id)
	}
	if _, err := awsCLI(t, ep, "identitystore", "create-user", "--identity-store-id", store, "--user-name", "ZOE@example.com",
		"--display-name", "Z", "--name", "GivenName=Z,FamilyName=P"); err == nil || !strings.Contains(err.Error(), "ConflictException") {
		t.Fatalf("duplicate create-user: %v", err)
	}
	grp := mustAWS(t, ep, "identitystore", "create-group", "--identity-store-id", store, "--display-name", "CliGroup")
	gid := str(grp, "GroupId")
	mem := mustAWS(t, ep, "identitystore", "create-group-membership", "--identity-store-id", store, "--group-id", gid, "--member-id", "UserId="+zoe)
	if str(mem, "MembershipId") == "" {
		t.Fatalf("create-group-membership: %v", mem)
	}
	if ms := mustAWS(t, ep, "identitystore", "list-group-memberships", "--identity-store-id", store, "--group-id", gid); str(ms, "GroupMemberships", 0, "MemberId", "UserId") != zoe {
		t.Fatalf("list-group-memberships: %v", ms)
	}

	// An assignment: created IN_PROGRESS, then SUCCEEDED, listed, deleted.
	op := mustAWS(t, ep, "sso-admin", "create-account-assignment", "--instance-arn", inst, "--target-id", "058264527036",
		"--target-type", "AWS_ACCOUNT", "--permission-set-arn", psArn, "--principal-type", "GROUP", "--principal-id", gid)
	reqID := str(op, "AccountAssignmentCreationStatus", "RequestId")
	if str(op, "AccountAssignmentCreationStatus", "Status") != "IN_PROGRESS" || reqID == "" {
		t.Fatalf("create-account-assignment: %v", op)
	}
	st := mustAWS(t, ep, "sso-admin", "describe-account-assignment-creation-status", "--instance-arn", inst, "--account-assignment-creation-request-id", reqID)
	if s := str(st, "AccountAssignmentCreationStatus", "Status"); s != "SUCCEEDED" {
		t.Fatalf("creation status: %v", st)
	}
	list := mustAWS(t, ep, "sso-admin", "list-account-assignments", "--instance-arn", inst, "--account-id", "058264527036", "--permission-set-arn", psArn)
	if str(list, "AccountAssignments", 0, "PrincipalId") != gid {
		t.Fatalf("list-account-assignments: %v", list)
	}
	del := mustAWS(t, ep, "sso-admin", "delete-account-assignment", "--instance-arn", inst, "--target-id", "058264527036",
		"--target-type", "AWS_ACCOUNT", "--permission-set-arn", psArn, "--principal-type", "GROUP", "--principal-id", gid)
	delID := str(del, "AccountAssignmentDeletionStatus", "RequestId")
	if st := mustAWS(t, ep, "sso-admin", "describe-account-assignment-deletion-status", "--instance-arn", inst, "--account-assignment-deletion-request-id", delID); str(st, "AccountAssignmentDeletionStatus", "Status") != "SUCCEEDED" {
		t.Fatalf("deletion status: %v", st)
	}
	unused := mustAWS(t, ep, "sso-admin", "create-permission-set", "--instance-arn", inst, "--name", "CliUnused")
	mustAWS(t, ep, "sso-admin", "delete-permission-set", "--instance-arn", inst, "--permission-set-arn", str(unused, "PermissionSet", "PermissionSetArn"))
	mustAWS(t, ep, "identitystore", "delete-group-membership", "--identity-store-id", store, "--membership-id", str(mem, "MembershipId"))

	// --state keeps what was made across a restart.
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("warden sim exited with %v:\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("warden sim did not stop on SIGINT")
	}
	ep, _, _ = startSim(t, "--state", statePath)
	if d, err := awsCLI(t, ep, "identitystore", "describe-user", "--identity-store-id", store, "--user-id", zoe); err != nil || str(d, "UserName") != "zoe@example.com" {
		t.Fatalf("after a restart with --state: %v %v", d, err)
	}
	if d, err := awsCLI(t, ep, "sso-admin", "describe-permission-set", "--instance-arn", inst, "--permission-set-arn", psArn); err != nil || str(d, "PermissionSet", "Name") != "CliTest" {
		t.Fatalf("permission set after a restart: %v %v", d, err)
	}
}

func TestSimGenerateAndErrors(t *testing.T) {
	ep, _, _ := startSim(t, "--generate", "users=50,groups=5,members=10,accounts=7,permission_sets=3,group_assignments=10,user_assignments=4")
	resp, err := httpGetJSON(ep + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp["calls"]; !ok {
		t.Fatalf("/_sim/stats: %v", resp)
	}
	state, err := httpGetJSON(ep + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(state["Users"].(map[string]any)); n != 50 {
		t.Fatalf("generated %d users, want 50", n)
	}
	if n := len(state["Accounts"].(map[string]any)); n != 8 {
		t.Fatalf("generated %d accounts, want 8 (7 + management)", n)
	}
	if n := len(state["Assignments"].(map[string]any)); n != 14 {
		t.Fatalf("generated %d assignments, want 14", n)
	}
	r := run(t, cleanEnv(t), "", "sim", "--generate", "users=x")
	if r.code == 0 || !strings.Contains(r.err, "users") {
		t.Fatalf("bad --generate: exit %d %s", r.code, r.err)
	}
	r = run(t, cleanEnv(t), "", "sim", "--quotas", "azure")
	if r.code == 0 || !strings.Contains(r.err, "--quotas") {
		t.Fatalf("bad --quotas: exit %d %s", r.code, r.err)
	}
}

func httpGetJSON(url string) (map[string]any, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	return v, json.NewDecoder(resp.Body).Decode(&v)
}
