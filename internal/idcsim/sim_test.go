package idcsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// rawCall sends an awsJson1_1 request as a client would, optionally without a signature.
func rawCall(t *testing.T, url, target, body string, signed bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if signed {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=0")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

func TestProtocolErrors(t *testing.T) {
	sim := idcsim.New(idcsim.Options{Seed: 1})
	hs := httptest.NewServer(sim)
	defer hs.Close()
	inst := sim.InstanceARN()
	cases := []struct {
		name, target, body string
		signed             bool
		status             int
		errType, msg       string
	}{
		{"unsigned", "SWBExternalService.ListInstances", `{}`, false, 400, "MissingAuthenticationTokenException", "SigV4"},
		{"missing required member", "SWBExternalService.CreatePermissionSet", `{"InstanceArn":"` + inst + `"}`, true, 400, "ValidationException", "'name' failed to satisfy constraint: Member must not be null"},
		{"missing several", "SWBExternalService.CreateAccountAssignment", `{"InstanceArn":"` + inst + `","TargetId":"058264527036","TargetType":"AWS_ACCOUNT","PermissionSetArn":"arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000"}`, true, 400, "ValidationException", "principalId"},
		{"unknown operation", "SWBExternalService.LaunchRocket", `{}`, true, 400, "UnknownOperationException", "LaunchRocket"},
		{"unknown service", "AmazonS3.ListBuckets", `{}`, true, 400, "UnknownOperationException", ""},
		{"body not JSON", "SWBExternalService.ListInstances", `{"MaxResults": "ten"`, true, 400, "SerializationException", ""},
		{"organizations MaxResults over 20", "AWSOrganizationsV20161128.ListAccounts", `{"MaxResults": 21}`, true, 400, "InvalidInputException", "at most 20"},
		{"garbage NextToken", "AWSIdentityStore.ListUsers", `{"IdentityStoreId":"` + sim.IdentityStoreID() + `","NextToken":"zzz"}`, true, 400, "ValidationException", "NextToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := rawCall(t, hs.URL, c.target, c.body, c.signed)
			if status != c.status || body["__type"] != c.errType || !strings.Contains(body["message"].(string), c.msg) {
				t.Fatalf("got %d %v, want %d %s containing %q", status, body, c.status, c.errType, c.msg)
			}
		})
	}
}

// The same options and scale give the same organisation, to the byte.
func TestGenerateIsDeterministic(t *testing.T) {
	snap := func() []byte {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		sim := idcsim.New(idcsim.Options{Seed: 42, Now: func() time.Time { return at }})
		err := sim.Update(func(d *idcsim.Directory) error {
			return idcsim.Generate(d, idcsim.Scale{Seed: 9, Users: 200, Groups: 20, MembersPerGroup: 15, Accounts: 12,
				PermissionSets: 6, GroupAssignments: 60, UserAssignments: 20})
		})
		if err != nil {
			t.Fatal(err)
		}
		var counts map[string]int
		sim.Update(func(d *idcsim.Directory) error { counts = d.Counts(); return nil })
		want := map[string]int{"accounts": 13, "permission_sets": 6, "users": 200, "groups": 20, "memberships": 300, "assignments": 80}
		for k, v := range want {
			if counts[k] != v {
				t.Fatalf("generated %d %s, want %d", counts[k], k, v)
			}
		}
		b, err := sim.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := snap(), snap(); !bytes.Equal(a, b) {
		t.Fatal("two generations with the same seeds differ")
	}
}

// An operation in progress survives a snapshot and completes after the restore.
func TestRestoreKeepsOperationsInProgress(t *testing.T) {
	e := newSSOEnv(t, idcsim.Options{Seed: 1, ProvisioningDelay: time.Minute})
	c := e.clock
	op, err := e.create(t, "637423191929", e.psARN(t, "ReadOnlyAccess"), "USER", e.userID(t, "dan@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.sim.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := idcsim.New(idcsim.Options{Now: c.Now})
	if err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if restored.InstanceARN() != e.sim.InstanceARN() {
		t.Fatal("instance changed across restore")
	}
	if s := restored.Stats(); s.Outstanding != 1 {
		t.Fatalf("outstanding after restore: %d", s.Outstanding)
	}
	hs := httptest.NewServer(restored)
	defer hs.Close()
	e.sso = ssoadmin.New(ssoadmin.Options{Region: "us-east-1", Credentials: e.sso.Options().Credentials, BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1})
	if st := e.creation(t, op.RequestId); st.Status != types.StatusValuesInProgress {
		t.Fatalf("restored status %s", st.Status)
	}
	c.Advance(time.Minute)
	if st := e.creation(t, op.RequestId); st.Status != types.StatusValuesSucceeded {
		t.Fatalf("restored operation ended %s", st.Status)
	}
}
