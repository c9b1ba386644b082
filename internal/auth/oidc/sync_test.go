package oidc_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/oidc"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

var admin = manage.Actor{User: "root", Admin: true}

// newStore is a SQLite store with the roles and access lists the rules name, and an owner for the
// lists.
func newStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	apply(t, st, admin, `kind: user
metadata: {name: owner}
spec: {origin: warden}
---
kind: role
metadata: {name: admin-role}
---
kind: role
metadata: {name: auditor}
---
kind: role
metadata: {name: dev}
---
kind: role
metadata: {name: ops-role}
---
kind: access_list
metadata: {name: sre}
spec: {title: SRE, owners: [owner]}
---
kind: access_list
metadata: {name: ops}
spec: {title: Ops, owners: [owner]}
---
kind: access_list
metadata: {name: oncall}
spec: {title: On call, owners: [owner]}
`)
	return st
}

func apply(t *testing.T, st store.Store, actor manage.Actor, docs string) {
	t.Helper()
	objs, err := resource.DecodeAll("test", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(context.Background(), actor, objs); err != nil {
		t.Fatal(err)
	}
}

// syncConfig maps groups to roles and lists, and department and groups to traits. The role
// ghost-role and the list ghosts do not exist.
func syncConfig(p *provider) oidc.Config {
	cfg := baseConfig(p)
	cfg.CreateUsers = true
	cfg.Traits = map[string]string{"department": "department", "team": "groups"}
	cfg.Roles = []oidc.ClaimRule{
		{Claim: "groups", Value: "aws-admins", Role: "admin-role"},
		{Claim: "groups", Value: "audit", Role: "auditor"},
		{Claim: "groups", Value: "ghosts", Role: "ghost-role"},
	}
	cfg.Lists = []oidc.ClaimRule{
		{Claim: "groups", Value: "sre", List: "sre"},
		{Claim: "groups", Value: "ops", List: "ops"},
		{Claim: "groups", Value: "ghosts", List: "ghosts"},
	}
	return cfg
}

// signInAndSync signs login in through c and syncs the user.
func signInAndSync(t *testing.T, p *provider, c *oidc.Connector, st store.Store, login string) (string, error) {
	t.Helper()
	id, err := signIn(t, p, c, login)
	if err != nil {
		t.Fatalf("sign-in of %s: %v", login, err)
	}
	return c.Sync(context.Background(), st, id, "flow-1")
}

func userOf(t *testing.T, st store.Store, name string) *resource.UserSpec {
	t.Helper()
	o, err := st.Get(context.Background(), resource.KindUser, name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return o.Spec.(*resource.UserSpec)
}

// memberships is the user's lists: list -> added_by.
func memberships(t *testing.T, st store.Store, user string) map[string]string {
	t.Helper()
	objs, err := st.List(context.Background(), resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, user)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		m := o.Spec.(*resource.AccessListMemberSpec)
		out[m.List] = m.AddedBy
	}
	return out
}

func auditCount(t *testing.T, st store.Store) int {
	t.Helper()
	n, err := audit.Last(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestFirstSignInCreatesTheUser(t *testing.T) {
	p := needProvider(t)
	accounts := people()
	accounts["alice"]["groups"] = []string{"aws-admins", "sre", "ghosts"}
	p.setAccounts(t, accounts)
	st := newStore(t)
	c := newConnector(t, p, syncConfig(p))

	name, err := signInAndSync(t, p, c, st, "alice")
	if err != nil || name != "alice@example.com" {
		t.Fatalf("Sync = %q, %v", name, err)
	}
	u := userOf(t, st, "alice@example.com")
	want := &resource.UserSpec{Email: "alice@example.com", DisplayName: "Alice Liddell", GivenName: "Alice", FamilyName: "Liddell",
		Roles:  []string{"admin-role"},
		Traits: map[string][]string{"department": {"platform"}, "team": {"aws-admins", "sre", "ghosts"}},
		Origin: "oidc:okta",
		Upstream: map[string]*resource.UpstreamRecord{"oidc:okta": {Subject: "alice", Roles: []string{"admin-role"},
			Traits: map[string][]string{"department": {"platform"}, "team": {"aws-admins", "sre", "ghosts"}}}}}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("user\n got %+v\nwant %+v", u, want)
	}
	if m := memberships(t, st, "alice@example.com"); !reflect.DeepEqual(m, map[string]string{"sre": "oidc:okta"}) {
		t.Errorf("memberships = %v; want sre added by oidc:okta (and no list that does not exist)", m)
	}

	// Every write is audited as the connector's, naming the sign-in.
	entries, err := audit.List(context.Background(), st, audit.Filter{Actor: "oidc:okta"})
	if err != nil {
		t.Fatal(err)
	}
	var what []string
	for _, e := range entries {
		what = append(what, e.Action+" "+string(e.Kind)+" "+e.Name)
		if !strings.Contains(e.Detail, "sign-in of alice@example.com through oidc:okta (subject alice); flow-1") {
			t.Errorf("entry %d detail %q", e.Seq, e.Detail)
		}
	}
	if !reflect.DeepEqual(what, []string{"create user alice@example.com", "create access_list_member sre/alice@example.com"}) {
		t.Errorf("audited: %q", what)
	}

	// The same claims again change nothing, and write nothing.
	before := auditCount(t, st)
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, st) - before; n != 0 {
		t.Errorf("a sign-in with nothing new wrote %d audit entries", n)
	}
}

func TestUsersMustExistWithoutCreateUsers(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	st := newStore(t)
	cfg := syncConfig(p)
	cfg.CreateUsers = false
	c := newConnector(t, p, cfg)

	before := auditCount(t, st)
	if name, err := signInAndSync(t, p, c, st, "alice"); !errors.Is(err, oidc.ErrUnknownUser) {
		t.Fatalf("Sync of a user who does not exist = %q, %v; want ErrUnknownUser", name, err)
	}
	if _, err := st.Get(context.Background(), resource.KindUser, "alice@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user was made: %v", err)
	}
	if n := auditCount(t, st) - before; n != 0 {
		t.Errorf("a refused sign-in wrote %d audit entries", n)
	}

	// An administrator makes the user, of the connector's origin: now they sign in, and get what
	// their claims map.
	apply(t, st, admin, "kind: user\nmetadata: {name: alice@example.com}\nspec: {origin: \"oidc:okta\"}\n")
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	if u := userOf(t, st, "alice@example.com"); !slices.Equal(u.Roles, []string{"admin-role"}) || u.Email != "alice@example.com" {
		t.Errorf("user = %+v", u)
	}
}

// A user made in warden (or imported, or another connector's) is not the provider's to sign in,
// unless the connector links existing users: a provider that lets people choose their email would
// otherwise hand them any local account.
func TestUsersOfAnotherOriginAreNotTakenOver(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	for _, origin := range []string{"warden", "identity_center", "oidc:google", ""} {
		t.Run("origin "+origin, func(t *testing.T) {
			st := newStore(t)
			apply(t, st, admin, "kind: user\nmetadata: {name: alice@example.com}\nspec: {display_name: Alice (local), admin: true, origin: \""+origin+"\"}\n")
			c := newConnector(t, p, syncConfig(p))
			before := auditCount(t, st)
			if _, err := signInAndSync(t, p, c, st, "alice"); !errors.Is(err, oidc.ErrNotLinked) {
				t.Fatalf("Sync = %v; want ErrNotLinked", err)
			}
			if n := auditCount(t, st) - before; n != 0 {
				t.Errorf("a refused sign-in wrote %d audit entries", n)
			}
			if m := memberships(t, st, "alice@example.com"); len(m) != 0 {
				t.Errorf("memberships = %v", m)
			}
		})
	}

	// With link_existing, they sign in and get what their claims map; their origin and profile stay.
	st := newStore(t)
	apply(t, st, admin, "kind: user\nmetadata: {name: alice@example.com}\nspec: {display_name: Alice (local), roles: [dev], origin: warden}\n")
	cfg := syncConfig(p)
	cfg.LinkExisting = true
	c := newConnector(t, p, cfg)
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	u := userOf(t, st, "alice@example.com")
	if u.Origin != "warden" || u.DisplayName != "Alice (local)" || u.Email != "" || !slices.Equal(u.Roles, []string{"dev", "admin-role"}) ||
		u.Upstream["oidc:okta"] == nil || u.Upstream["oidc:okta"].Subject != "alice" {
		t.Errorf("linked user = %+v", u)
	}
}

// Once signed in, a user is bound to the provider's subject: another account at the provider that
// asserts the same email (reassigned, or an impostor) is refused.
func TestUserIsBoundToTheSubject(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	st := newStore(t)
	c := newConnector(t, p, syncConfig(p))
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	before := auditCount(t, st)
	if _, err := signInAndSync(t, p, c, st, "impostor"); !errors.Is(err, oidc.ErrSubject) {
		t.Fatalf("Sync of another subject with alice's email = %v; want ErrSubject", err)
	}
	if n := auditCount(t, st) - before; n != 0 {
		t.Errorf("a refused sign-in wrote %d audit entries", n)
	}

	// An administrator unbinds it (upstream given without the connector's record): the next
	// sign-in binds the new subject.
	apply(t, st, admin, "kind: user\nmetadata: {name: alice@example.com}\nspec: {origin: \"oidc:okta\", upstream: {}}\n")
	if _, err := signInAndSync(t, p, c, st, "impostor"); err != nil {
		t.Fatal(err)
	}
	if s := userOf(t, st, "alice@example.com").Upstream["oidc:okta"].Subject; s != "impostor" {
		t.Errorf("bound to %q; want impostor", s)
	}
}

// Re-evaluated at every sign-in: a claim removed upstream removes the role, trait value and list
// membership it mapped, and only those: what an administrator granted by hand stays, even where a
// rule maps the same thing.
func TestClaimRemovedUpstreamRemovesWhatItMapped(t *testing.T) {
	p := needProvider(t)
	accounts := people()
	alice := accounts["alice"]
	alice["groups"] = []string{"aws-admins", "audit", "sre", "ops"}
	p.setAccounts(t, accounts)
	st := newStore(t)
	c := newConnector(t, p, syncConfig(p))

	// By hand, before the first sign-in: the auditor role (which a rule also maps), the dev role, a
	// department, and memberships of ops (which a rule also maps) and oncall.
	apply(t, st, admin, `kind: user
metadata: {name: alice@example.com}
spec: {roles: [auditor, dev], traits: {department: [finance]}, origin: "oidc:okta"}
---
kind: access_list_member
metadata: {}
spec: {list: ops, member: alice@example.com}
---
kind: access_list_member
metadata: {}
spec: {list: oncall, member: alice@example.com}
`)
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	u := userOf(t, st, "alice@example.com")
	if !slices.Equal(u.Roles, []string{"auditor", "dev", "admin-role"}) || !slices.Equal(u.Traits["department"], []string{"finance", "platform"}) {
		t.Errorf("after the first sign-in: roles %v, department %v", u.Roles, u.Traits["department"])
	}
	if r := u.Upstream["oidc:okta"]; !slices.Equal(r.Roles, []string{"admin-role"}) || !slices.Equal(r.Traits["department"], []string{"platform"}) {
		t.Errorf("the connector's record %+v: want only what it added (admin-role, department platform)", r)
	}
	if m := memberships(t, st, "alice@example.com"); !reflect.DeepEqual(m, map[string]string{"sre": "oidc:okta", "ops": "root", "oncall": "root"}) {
		t.Errorf("memberships after the first sign-in = %v", m)
	}

	// By hand, after it: an administrator applies a user file (without the connector's record)
	// adding the ops-role role.
	apply(t, st, admin, `kind: user
metadata: {name: alice@example.com}
spec: {roles: [auditor, dev, admin-role, ops-role], traits: {department: [finance, platform], team: [aws-admins, audit, sre, ops]}, origin: "oidc:okta"}
`)

	// Upstream, alice leaves every group and the department.
	delete(alice, "department")
	alice["groups"] = []string{}
	p.setAccounts(t, accounts)
	before := auditCount(t, st)
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	u = userOf(t, st, "alice@example.com")
	if !slices.Equal(u.Roles, []string{"auditor", "dev", "ops-role"}) {
		t.Errorf("roles after the claims went: %v; want admin-role gone, the hand-granted kept", u.Roles)
	}
	if !reflect.DeepEqual(u.Traits, map[string][]string{"department": {"finance"}}) {
		t.Errorf("traits after the claims went: %v; want the hand-given department only", u.Traits)
	}
	if m := memberships(t, st, "alice@example.com"); !reflect.DeepEqual(m, map[string]string{"ops": "root", "oncall": "root"}) {
		t.Errorf("memberships after the claims went = %v; want sre gone, the hand-added kept", m)
	}
	if r := u.Upstream["oidc:okta"]; r == nil || r.Subject != "alice" || r.Roles != nil || r.Traits != nil {
		t.Errorf("the connector's record %+v: want the subject alone", r)
	}
	entries, err := audit.After(context.Background(), st, int64(before), 0)
	if err != nil {
		t.Fatal(err)
	}
	var what []string
	for _, e := range entries {
		if e.Actor != "oidc:okta" {
			t.Errorf("entry %d by %q", e.Seq, e.Actor)
		}
		what = append(what, e.Action+" "+string(e.Kind)+" "+e.Name)
	}
	if !reflect.DeepEqual(what, []string{"update user alice@example.com", "delete access_list_member sre/alice@example.com"}) {
		t.Errorf("audited: %q", what)
	}

	// The group comes back upstream: so does what it maps.
	alice["groups"] = []string{"aws-admins", "sre"}
	p.setAccounts(t, accounts)
	if _, err := signInAndSync(t, p, c, st, "alice"); err != nil {
		t.Fatal(err)
	}
	if u := userOf(t, st, "alice@example.com"); !slices.Equal(u.Roles, []string{"auditor", "dev", "ops-role", "admin-role"}) {
		t.Errorf("roles after the group came back: %v", u.Roles)
	}
	if m := memberships(t, st, "alice@example.com"); m["sre"] != "oidc:okta" {
		t.Errorf("memberships after the group came back = %v", m)
	}
}

// Sync admits the identity again: one made by hand, not by Finish, is held to the same rules.
func TestSyncAdmitsTheIdentity(t *testing.T) {
	p := needProvider(t)
	st := newStore(t)
	c := newConnector(t, p, syncConfig(p))
	for name, id := range map[string]*oidc.Identity{
		"another connector's": {Connector: "google", Subject: "x", UserName: "x@example.com", Email: "x@example.com", EmailVerified: true},
		"unverified email":    {Connector: "okta", Subject: "x", UserName: "x@example.com", Email: "x@example.com"},
		"another domain":      {Connector: "okta", Subject: "x", UserName: "x@evil.example", Email: "x@evil.example", EmailVerified: true},
		"no subject":          {Connector: "okta", UserName: "x@example.com", Email: "x@example.com", EmailVerified: true},
		"bad user name":       {Connector: "okta", Subject: "x", UserName: "x y@example.com", Email: "x y@example.com", EmailVerified: true},
	} {
		t.Run(name, func(t *testing.T) {
			if u, err := c.Sync(context.Background(), st, id, ""); err == nil {
				t.Errorf("Sync = %q; want an error", u)
			}
		})
	}
	if objs, err := st.List(context.Background(), resource.KindUser, store.ListOptions{}); err != nil || len(objs) != 1 {
		t.Errorf("users = %d, %v; want the owner alone", len(objs), err)
	}
}

// racingStore makes a write of its own just after Sync first reads the user: what an administrator
// (or another sign-in) does meanwhile.
type racingStore struct {
	store.Store
	once sync.Once
	race func()
}

func (r *racingStore) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	o, err := r.Store.Get(ctx, k, name)
	if k == resource.KindUser && name == "alice@example.com" {
		r.once.Do(r.race)
	}
	return o, err
}

// A write made between Sync's read of the user and its own is neither lost nor fatal: the store's
// revisions catch it, and the sync is redone over it.
func TestWriteDuringSyncIsKept(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, syncConfig(p))
	id, err := signIn(t, p, c, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		before, meanwhile string
	}{
		"the user created meanwhile": {
			meanwhile: "kind: user\nmetadata: {name: alice@example.com}\nspec: {roles: [dev], origin: \"oidc:okta\"}\n"},
		"the user changed meanwhile": {
			before:    "kind: user\nmetadata: {name: alice@example.com}\nspec: {origin: \"oidc:okta\"}\n",
			meanwhile: "kind: user\nmetadata: {name: alice@example.com}\nspec: {roles: [dev], origin: \"oidc:okta\"}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			st := newStore(t)
			if tc.before != "" {
				apply(t, st, admin, tc.before)
			}
			racing := &racingStore{Store: st, race: func() { apply(t, st, admin, tc.meanwhile) }}
			if _, err := c.Sync(context.Background(), racing, id, ""); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if u := userOf(t, st, "alice@example.com"); !slices.Equal(u.Roles, []string{"dev", "admin-role"}) {
				t.Errorf("roles = %v; want the administrator's dev and the claims' admin-role", u.Roles)
			}
		})
	}
}
