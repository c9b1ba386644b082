package manage_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

func open(t *testing.T) (context.Context, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ctx, st
}

func decode(t *testing.T, doc string) *resource.Object {
	t.Helper()
	o, err := resource.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, doc)
	}
	return o
}

func upstreamOf(t *testing.T, ctx context.Context, st store.Store, name string) map[string]*resource.UpstreamRecord {
	t.Helper()
	o, err := st.Get(ctx, resource.KindUser, name)
	if err != nil {
		t.Fatal(err)
	}
	return o.Spec.(*resource.UserSpec).Upstream
}

// An administrator's user file says nothing of what an upstream connector recorded: applying or
// updating it must not erase the record, or the connector's next sign-in would no longer know which
// roles it granted and would leave them in place after their claim is gone.
func TestUserDocumentWithoutUpstreamKeepsTheRecord(t *testing.T) {
	ctx, st := open(t)
	m := manage.New(st)
	connector := manage.Actor{User: "oidc:okta"}
	admin := manage.Actor{User: "root", Admin: true}
	if _, err := m.Create(ctx, admin, []*resource.Object{decode(t, "kind: role\nmetadata: {name: ops}\n"), decode(t, "kind: role\nmetadata: {name: dev}\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, connector, []*resource.Object{decode(t, `kind: user
metadata: {name: alice@example.com}
spec: {roles: [ops], origin: "oidc:okta", upstream: {"oidc:okta": {subject: s1, roles: [ops]}}}
`)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]*resource.UpstreamRecord{"oidc:okta": {Subject: "s1", Roles: []string{"ops"}}}

	res, err := m.Apply(ctx, admin, []*resource.Object{decode(t, "kind: user\nmetadata: {name: alice@example.com}\nspec: {roles: [ops, dev], origin: \"oidc:okta\"}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Action != manage.Updated {
		t.Errorf("apply: %s; want updated", res[0].Action)
	}
	if got := upstreamOf(t, ctx, st, "alice@example.com"); !reflect.DeepEqual(got, want) {
		t.Errorf("after an apply without upstream: %v; want the record kept: %v", got, want)
	}
	// The same file again changes nothing (the kept record is not a difference).
	if res, err := m.Apply(ctx, admin, []*resource.Object{decode(t, "kind: user\nmetadata: {name: alice@example.com}\nspec: {roles: [ops, dev], origin: \"oidc:okta\"}\n")}); err != nil || res[0].Action != manage.Unchanged {
		t.Errorf("second apply: %v, %v; want unchanged", res, err)
	}

	cur, _ := st.Get(ctx, resource.KindUser, "alice@example.com")
	cur.Spec.(*resource.UserSpec).Upstream = nil
	cur.Spec.(*resource.UserSpec).DisplayName = "Alice"
	if err := m.Update(ctx, admin, cur); err != nil {
		t.Fatal(err)
	}
	if got := upstreamOf(t, ctx, st, "alice@example.com"); !reflect.DeepEqual(got, want) {
		t.Errorf("after an update without upstream: %v; want the record kept: %v", got, want)
	}

	// A document that gives it replaces it: an administrator unbinds the subject this way.
	if _, err := m.Apply(ctx, admin, []*resource.Object{decode(t, "kind: user\nmetadata: {name: alice@example.com}\nspec: {roles: [ops, dev], origin: \"oidc:okta\", upstream: {}}\n")}); err != nil {
		t.Fatal(err)
	}
	if got := upstreamOf(t, ctx, st, "alice@example.com"); len(got) != 0 {
		t.Errorf("after an apply with upstream: {}: %v; want no record", got)
	}
}

func TestActorDetailIsAudited(t *testing.T) {
	ctx, st := open(t)
	m := manage.New(st)
	actor := manage.Actor{User: "oidc:okta", Detail: "sign-in through oidc:okta"}
	if _, err := m.Create(ctx, actor, []*resource.Object{decode(t, "kind: user\nmetadata: {name: alice}\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Delete(ctx, actor, resource.KindUser, "alice", 0); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(ctx, st, audit.Filter{Actor: "oidc:okta"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries by oidc:okta; want 2", len(entries))
	}
	for _, e := range entries {
		if e.Detail != "sign-in through oidc:okta" {
			t.Errorf("%s entry detail %q; want the actor's detail", e.Action, e.Detail)
		}
	}
	// A detail of its own (a cascade) keeps it, followed by the actor's.
	e := manage.Actor{User: "x", Detail: "why"}.Entry(audit.Entry{Detail: "with eng"})
	if e.Detail != "with eng; why" {
		t.Errorf("detail %q; want %q", e.Detail, "with eng; why")
	}
}
