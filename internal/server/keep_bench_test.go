package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// BenchmarkKeepRequestsPass: one pass of the request keeper over 2,000 approved requests in their
// window, by 500 requesters who may request through a list, each judged against what its requester
// holds now (what a change of roles or membership starts, at most once a second).
func BenchmarkKeepRequestsPass(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Second)
	start, end := now.Add(-time.Hour), now.Add(time.Hour)
	objs := []*resource.Object{}
	add := func(docs string) {
		o, err := resource.DecodeAll("bench.yaml", []byte(docs))
		if err != nil {
			b.Fatal(err)
		}
		objs = append(objs, o...)
	}
	add(`
kind: account
version: v1
metadata: {name: "058264527036"}
spec: {name: Staging}
---
kind: permission_set
version: v1
metadata: {name: ReadOnlyAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb"}
---
kind: role
version: v1
metadata: {name: may-request}
spec: {allow: {request: {account_assignments: [{account: "*", permission_set: "*"}]}}}
---
kind: access_list
version: v1
metadata: {name: requesters}
spec: {title: Requesters, owners: [u000], grants: {roles: [may-request]}}
`)
	for u := 0; u < 500; u++ {
		add(fmt.Sprintf("kind: user\nversion: v1\nmetadata: {name: u%03d}\nspec: {}\n---\nkind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: requesters, member: u%03d}\n", u, u))
	}
	if _, err := manage.New(st).Create(ctx, manage.Actor{User: "bench", Admin: true}, objs); err != nil {
		b.Fatal(err)
	}
	var reqs []*resource.Object
	for i := 0; i < 2000; i++ {
		o := resource.New(resource.KindAccessRequest, fmt.Sprintf("r%04d", i))
		o.Spec = &resource.AccessRequestSpec{User: fmt.Sprintf("u%03d", i%500), State: resource.StateApproved, Start: &start, End: &end,
			Resources: []resource.RequestedResource{{Account: "058264527036", PermissionSet: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-bbbbbbbbbbbbbbbb"}}}
		reqs = append(reqs, o)
	}
	if _, err := manage.New(st).Create(ctx, manage.Actor{User: "bench", Admin: true}, reqs); err != nil {
		b.Fatal(err)
	}
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := srv.KeepPass(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
