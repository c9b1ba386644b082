package idcsim_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// benchSim is a generated organisation of realistic size with quotas off.
func benchSim(b *testing.B) (*idcsim.Sim, *httptest.Server) {
	sim := idcsim.New(idcsim.Options{Seed: 1})
	if err := sim.Update(func(d *idcsim.Directory) error {
		return idcsim.Generate(d, idcsim.Scale{Seed: 1, Users: 2000, Groups: 300, MembersPerGroup: 20, Accounts: 150,
			PermissionSets: 40, GroupAssignments: 3000, UserAssignments: 500})
	}); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	b.Cleanup(hs.Close)
	return sim, hs
}

// BenchmarkRawCalls measures the simulator's own capacity: signed-looking awsJson1_1 requests over
// keep-alive HTTP from parallel clients, a mix of reads and an assignment write with its status poll.
// Target: at least 5,000 calls per second with quotas off.
func BenchmarkRawCalls(b *testing.B) {
	sim, hs := benchSim(b)
	inst, store := sim.InstanceARN(), sim.IdentityStoreID()
	var users, groups []string
	var psArn string
	sim.Update(func(d *idcsim.Directory) error {
		for _, a := range d.Assignments() {
			if a.PrincipalType == "USER" {
				users = append(users, a.PrincipalID)
			} else {
				groups = append(groups, a.PrincipalID)
			}
			psArn = a.PermissionSetARN
		}
		return nil
	})
	bodies := []struct{ target, body string }{
		{"SWBExternalService.ListAccountAssignmentsForPrincipal", fmt.Sprintf(`{"InstanceArn":%q,"PrincipalId":%q,"PrincipalType":"GROUP"}`, inst, groups[0])},
		{"SWBExternalService.DescribePermissionSet", fmt.Sprintf(`{"InstanceArn":%q,"PermissionSetArn":%q}`, inst, psArn)},
		{"AWSIdentityStore.DescribeUser", fmt.Sprintf(`{"IdentityStoreId":%q,"UserId":%q}`, store, users[0])},
		{"AWSIdentityStore.ListGroupMemberships", fmt.Sprintf(`{"IdentityStoreId":%q,"GroupId":%q,"MaxResults":100}`, store, groups[1])},
		{"SWBExternalService.CreateAccountAssignment", fmt.Sprintf(`{"InstanceArn":%q,"TargetId":"%%s","TargetType":"AWS_ACCOUNT","PermissionSetArn":%q,"PrincipalType":"USER","PrincipalId":%q}`, inst, psArn, users[1])},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			c := bodies[i%int64(len(bodies))]
			body := c.body
			if c.target == "SWBExternalService.CreateAccountAssignment" {
				body = fmt.Sprintf(body, "637423191929")
			}
			req, _ := http.NewRequest("POST", hs.URL, bytes.NewReader([]byte(body)))
			req.Header.Set("X-Amz-Target", c.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=0")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && c.target != "SWBExternalService.CreateAccountAssignment" {
				b.Fatalf("%s: %d", c.target, resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkSDKCalls is the same load through the real AWS SDK for Go (signing included), as warden
// will call it.
func BenchmarkSDKCalls(b *testing.B) {
	sim, hs := benchSim(b)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(hs.URL)}
	sso, ids := ssoadmin.NewFromConfig(cfg), identitystore.NewFromConfig(cfg)
	inst, store := aws.String(sim.InstanceARN()), aws.String(sim.IdentityStoreID())
	var group, user string
	sim.Update(func(d *idcsim.Directory) error {
		for _, a := range d.Assignments() {
			if a.PrincipalType == "GROUP" {
				group = a.PrincipalID
			} else {
				user = a.PrincipalID
			}
		}
		return nil
	})
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var err error
			if n.Add(1)%2 == 0 {
				_, err = sso.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: inst,
					PrincipalId: aws.String(group), PrincipalType: types.PrincipalTypeGroup})
			} else {
				_, err = ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(user)})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
