package importer_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Production": "production", "Shared Services": "shared-services",
		"  Data / ML (EU) ": "data-ml-eu", "a.b_c@d+e": "a.b_c@d+e", "---": ""} {
		if got := importer.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// The demo organisation imported: the first sync plan after it has nothing to change.
func TestImportThenNothingToSync(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, sim, c, st := demo(t, cfg)
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, nil); err == nil {
		t.Fatal("an import without default owners was accepted")
	}
	stats, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Created == 0 || len(stats.Skipped) != 0 {
		t.Fatalf("import: %+v", stats)
	}
	role, err := st.Get(ctx, resource.KindRole, "AdministratorAccess-on-staging")
	if err != nil {
		t.Fatalf("role named <permission-set>-on-<account-name>: %v", err)
	}
	if aa := role.Spec.(*resource.RoleSpec).Allow.AccountAssignments; len(aa) != 1 || aa[0].Account != "058264527036" {
		t.Fatalf("role grants %+v", aa)
	}
	kemi, err := st.Get(ctx, resource.KindUser, "kemi@example.com")
	if err != nil || len(kemi.Spec.(*resource.UserSpec).Roles) != 1 {
		t.Fatalf("a user-level assignment became a standing role: %+v %v", kemi, err)
	}
	members, _ := st.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, "everyone")})
	if len(members) != 12 {
		t.Fatalf("Everyone imported with %d members, want 12", len(members))
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes() != 0 {
		t.Fatalf("the first plan after an import has changes:\n%s", p)
	}
	// Importing again duplicates nothing.
	again, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"})
	if err != nil || again.Created != 0 || again.Recorded != 0 || again.Updated != 0 {
		t.Fatalf("re-import: %+v %v", again, err)
	}

	// Changes made in AWS before warden took over are picked up by a re-import: a new group with a
	// member, a new member of an imported group, a new grant to it, a new user-level assignment.
	err = sim.Update(func(d *idcsim.Directory) error {
		sre, err := d.CreateGroup("SRE", "On call")
		if err != nil {
			return err
		}
		kemiID, _ := d.UserID("kemi@example.com")
		if _, err := d.AddMember(sre, kemiID); err != nil {
			return err
		}
		devs, _ := d.GroupID("Developers")
		if _, err := d.AddMember(devs, kemiID); err != nil {
			return err
		}
		admin, _ := d.PermissionSetARN("AdministratorAccess")
		if err := d.Assign(idcsim.Assignment{AccountID: "293847561029", PermissionSetARN: admin, PrincipalType: "GROUP", PrincipalID: devs}); err != nil {
			return err
		}
		lenaID, _ := d.UserID("lena@example.com")
		return d.Assign(idcsim.Assignment{AccountID: "637423191929", PermissionSetARN: admin, PrincipalType: "USER", PrincipalID: lenaID})
	})
	if err != nil {
		t.Fatal(err)
	}
	// An edit made in warden since the import survives the re-import.
	devs, _ := st.Get(ctx, resource.KindAccessList, "developers")
	devs.Spec.(*resource.AccessListSpec).Owners = []string{"bob@example.com"}
	if err := st.Update(ctx, devs); err != nil {
		t.Fatal(err)
	}
	third, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// Created: list sre, members kemi@sre and kemi@developers, roles AdministratorAccess-on-development
	// and AdministratorAccess-on-production already exists; updated: developers' grants and lena's roles.
	if third.Created != 4 || third.Updated != 2 {
		t.Fatalf("re-import after changes: %+v", third)
	}
	devs, _ = st.Get(ctx, resource.KindAccessList, "developers")
	ds := devs.Spec.(*resource.AccessListSpec)
	if !slices.Contains(ds.Grants.Roles, "AdministratorAccess-on-development") || !slices.Contains(ds.Grants.Roles, "PowerUserAccess-on-development") {
		t.Fatalf("developers' grants after re-import: %v", ds.Grants.Roles)
	}
	if !slices.Equal(ds.Owners, []string{"bob@example.com"}) {
		t.Fatalf("re-import overwrote the owners edited in warden: %v", ds.Owners)
	}
	lena, _ := st.Get(ctx, resource.KindUser, "lena@example.com")
	if !slices.Contains(lena.Spec.(*resource.UserSpec).Roles, "AdministratorAccess-on-production") {
		t.Fatalf("lena's new user-level assignment was not picked up: %v", lena.Spec.(*resource.UserSpec).Roles)
	}
	if _, err := st.Get(ctx, resource.KindAccessList, "sre"); err != nil {
		t.Fatalf("new group not imported: %v", err)
	}
	p, _, _, err = engine.Plan(ctx, reconcile.PlanOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes() != 0 {
		t.Fatalf("the plan after a re-import has changes:\n%s", p)
	}
}

// A running sync engine that read its records before an import must take over the records the
// import wrote, not fail on them (seen in `warden demo`, which imports while the sync runs).
func TestImportWhileTheEngineRuns(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, _, c, st := demo(t, cfg)
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync of an empty warden: %v %v", err, res)
	}
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("sync after the import failed %d operations, first: %v", len(res.Errors), res.Errors[0])
	}
	p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true})
	if err != nil || p.Changes() != 0 {
		t.Fatalf("not converged after the import: %v\n%s", err, p)
	}
}

// The identity_center filters scope import the way they scope the sync: what they leave out is not
// imported, and the sync, with the same filters, has nothing to do after the import.
func TestImportKeepsToTheFilters(t *testing.T) {
	scope := importer.Scope{
		Accounts: idc.Filter{Exclude: []string{"^Staging$"}},                        // by name
		Groups:   idc.Filter{Include: []string{"."}, Exclude: []string{"^Billing"}}, // by display name
	}
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond, Accounts: scope.Accounts, Groups: scope.Groups}
	ctx, _, c, st := demo(t, cfg)
	stats, err := importer.Import(ctx, st, c, scope, []string{"alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(stats.OutOfScope, "account Staging (058264527036)") || !slices.Contains(stats.OutOfScope, "group BillingAdmin") || len(stats.OutOfScope) != 2 {
		t.Fatalf("out of scope: %q", stats.OutOfScope)
	}
	roles, _ := st.List(ctx, resource.KindRole, store.ListOptions{})
	for _, r := range roles {
		for _, a := range r.Spec.(*resource.RoleSpec).Allow.AccountAssignments {
			if a.Account == "058264527036" {
				t.Errorf("role %s grants the excluded account", r.Metadata.Name)
			}
		}
	}
	if len(roles) == 0 {
		t.Fatal("no roles imported")
	}
	if _, err := st.Get(ctx, resource.KindAccessList, "billingadmin"); err == nil {
		t.Error("the excluded group BillingAdmin became an access list")
	}
	if _, err := st.Get(ctx, resource.KindAccessList, "devops"); err != nil {
		t.Errorf("the included group DevOps: %v", err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes() != 0 {
		t.Fatalf("the first plan after a filtered import has changes:\n%s", p)
	}
}

// demo starts a simulator holding the demo organisation and returns a client for it (with cfg)
// and an empty SQLite store.
func demo(t *testing.T, cfg idc.Config) (context.Context, *idcsim.Sim, *idc.Client, store.Store) {
	t.Helper()
	ctx := context.Background()
	sim := idcsim.New(idcsim.Options{Seed: 3})
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	c, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("A", "B", ""), BaseEndpoint: aws.String(hs.URL)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ctx, sim, c, st
}

// bobMaySecurity lets bob request PowerUserAccess on Security, as one of the requesters.
const bobMaySecurity = `
kind: role
version: v1
metadata: {name: may-request-security}
spec: {allow: {request: {account_assignments: [{account: Security, permission_set: PowerUserAccess}]}}}
---
kind: access_list
version: v1
metadata: {name: requesters}
spec: {title: Requesters, owners: [alice@example.com], grants: {roles: [may-request-security]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: requesters, member: bob@example.com}
---
`

// An access request's assignment is warden's own: importing again while the request is in its
// window, or once it has ended and before the sync has deleted the assignment, turns it into
// neither a standing role nor a new role, so it still ends with the request.
func TestReimportKeepsRequestAccessTemporary(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, sim, c, st := demo(t, cfg)
	// The sync takes its time from the wall clock; the import from this one, set to the same.
	now := time.Now().UTC().Truncate(time.Second)
	clock := importer.WithClock(func() time.Time { return now })
	owners := []string{"alice@example.com"}
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, owners, clock); err != nil {
		t.Fatal(err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Bob, who may ask for it as one of the requesters, asks for PowerUserAccess on Security (which
	// nothing else grants), for an hour.
	end := now.Add(time.Hour)
	objs, err := resource.DecodeAll("request.yaml", []byte(bobMaySecurity+`
kind: access_request
version: v1
metadata: {name: bob-security}
spec: {user: bob@example.com, resources: [{account: Security, permission_set: PowerUserAccess}], state: APPROVED, start: "`+
		now.Add(-time.Minute).Format(time.RFC3339)+`", end: "`+end.Format(time.RFC3339)+`"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync granting the request: %v %v", err, res)
	}
	bobHas := func() bool {
		var has bool
		sim.Update(func(d *idcsim.Directory) error {
			bob, _ := d.UserID("bob@example.com")
			pu, _ := d.PermissionSetARN("PowerUserAccess")
			for _, a := range d.Assignments() {
				if a.PrincipalID == bob && a.AccountID == "410928374651" && a.PermissionSetARN == pu {
					has = true
				}
			}
			return nil
		})
		return has
	}
	if !bobHas() {
		t.Fatal("the approved request's assignment was not made")
	}
	reimport := func(when string) {
		t.Helper()
		plan, err := importer.Preview(ctx, st, c, importer.Scope{}, clock)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Changes) != 0 {
			t.Errorf("%s: the preview says an import adds %q", when, plan.Changes)
		}
		stats, err := importer.Import(ctx, st, c, importer.Scope{}, owners, clock)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Created != 0 || stats.Updated != 0 || stats.Recorded != 0 {
			t.Errorf("%s: the re-import wrote something: %+v", when, stats)
		}
		bob, err := st.Get(ctx, resource.KindUser, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if roles := bob.Spec.(*resource.UserSpec).Roles; len(roles) != 0 {
			t.Fatalf("%s: the re-import made the request's access standing: bob's roles %v", when, roles)
		}
		if _, err := st.Get(ctx, resource.KindRole, "PowerUserAccess-on-security"); err == nil {
			t.Fatalf("%s: the re-import made a role of the request's assignment", when)
		}
	}
	reimport("in the request's window")
	// The window has ended and the sync has not yet deleted the assignment: its record says whose it is.
	now = end.Add(time.Second)
	reimport("after the request's end, before the sync deleted the assignment")

	// The request ends (cancelled now, by the wall clock the sync keeps): the sync takes the access away.
	req, err := st.Get(ctx, resource.KindAccessRequest, "bob-security")
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Cancel(req.Spec.(*resource.AccessRequestSpec), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, req); err != nil {
		t.Fatal(err)
	}
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync after the request ended: %v %v", err, res)
	}
	if bobHas() {
		t.Fatal("the request ended but its assignment outlived it")
	}
}

// A request that ends while an import reads Identity Center: the read saw its assignment, which the
// sync then deleted with its record. The records as they were before the read still say the
// assignment was warden's, so the import does not bring it back as a standing role.
func TestImportReadAcrossARequestsEnd(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, _, c, st := demo(t, cfg)
	now := time.Now().UTC().Truncate(time.Second)
	owners := []string{"alice@example.com"}
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, owners, importer.WithClock(func() time.Time { return now })); err != nil {
		t.Fatal(err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	objs, err := resource.DecodeAll("request.yaml", []byte(bobMaySecurity+`
kind: access_request
version: v1
metadata: {name: bob-security}
spec: {user: bob@example.com, resources: [{account: Security, permission_set: PowerUserAccess}], state: APPROVED, start: "`+
		now.Add(-time.Minute).Format(time.RFC3339)+`", end: "`+now.Add(time.Hour).Format(time.RFC3339)+`"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync granting the request: %v %v", err, res)
	}

	// The import's steps, with the request's end and the sync's deletion between the read and the rest.
	earlier, err := importer.Records(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(earlier)), func(k string) bool {
		return strings.HasPrefix(k, "assignment:USER:bob@example.com:410928374651:")
	}) {
		t.Fatal("the sync did not grant bob's request: nothing here would test an import across its end")
	}
	src, err := importer.Read(ctx, c, importer.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	req, err := st.Get(ctx, resource.KindAccessRequest, "bob-security")
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Cancel(req.Spec.(*resource.AccessRequestSpec), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, req); err != nil {
		t.Fatal(err)
	}
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync after the request ended: %v %v", err, res)
	}
	plan, err := importer.Prepare(ctx, st, src, owners, now.Add(time.Minute), earlier)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || len(plan.Records) != 0 {
		t.Fatalf("an import that read the ended request's assignment adds %q and records %v", plan.Changes, slices.Sorted(maps.Keys(plan.Records)))
	}
}

// A preview says exactly what an import adds: nothing on a re-import with nothing new; after a user,
// a group with that user, and a user assignment are made directly in Identity Center, exactly
// those; and the import then writes exactly what the preview said, with the calls of the read alone.
func TestReimportPreviewIsExact(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, sim, c, st := demo(t, cfg)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := importer.WithClock(func() time.Time { return now })
	owners := []string{"alice@example.com"}
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, owners, clock); err != nil {
		t.Fatal(err)
	}
	src, err := importer.Read(ctx, c, importer.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	reads := minimumReads(src)

	sim.ResetStats()
	plan, err := importer.Preview(ctx, st, c, importer.Scope{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || len(plan.Create) != 0 || len(plan.Update) != 0 || len(plan.Records) != 0 {
		t.Fatalf("a re-import with nothing new: the preview says it adds %q (%d objects, %d updates, %d records)",
			plan.Changes, len(plan.Create), len(plan.Update), len(plan.Records))
	}
	// The client knows the instance and the permission sets' names by now: the rest is the read.
	previewCalls := sim.Stats().TotalCalls()
	if previewCalls > reads {
		t.Errorf("a preview made %d calls; reading the demo organisation takes %d", previewCalls, reads)
	}

	err = sim.Update(func(d *idcsim.Directory) error {
		mia, err := d.CreateUser("mia@example.com", "Mia", "Rossi", "mia@example.com")
		if err != nil {
			return err
		}
		sre, err := d.CreateGroup("SRE", "On call")
		if err != nil {
			return err
		}
		if _, err := d.AddMember(sre, mia); err != nil {
			return err
		}
		lena, _ := d.UserID("lena@example.com")
		admin, _ := d.PermissionSetARN("AdministratorAccess")
		return d.Assign(idcsim.Assignment{AccountID: "637423191929", PermissionSetARN: admin, PrincipalType: "USER", PrincipalID: lena})
	})
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	plan, err = importer.Preview(ctx, st, c, importer.Scope{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	previewCalls = sim.Stats().TotalCalls()
	want := []string{
		"user mia@example.com",
		"access list sre (group SRE)",
		"member mia@example.com of access list sre",
		"standing role AdministratorAccess-on-production for user lena@example.com",
	}
	if !slices.Equal(plan.Changes, want) {
		t.Fatalf("the preview after three changes in Identity Center says an import adds\n%q\nwant\n%q", plan.Changes, want)
	}
	previewed := map[string]bool{}
	for _, o := range append(slices.Clone(plan.Create), plan.Update...) {
		previewed[string(o.Kind)+"/"+o.Metadata.Name] = true
	}
	for key := range plan.Records {
		previewed["sync_record/"+key] = true
	}

	before, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	stats, err := importer.Import(ctx, st, c, importer.Scope{}, owners, clock)
	if err != nil {
		t.Fatal(err)
	}
	importCalls := sim.Stats().TotalCalls()
	if importCalls != previewCalls {
		t.Errorf("an import made %d calls, a preview %d: they read the same", importCalls, previewCalls)
	}
	if !slices.Equal(stats.Changes, want) {
		t.Errorf("the import reports it added %q; the preview said %q", stats.Changes, want)
	}
	written := map[string]bool{}
	for _, k := range []resource.Kind{resource.KindAccount, resource.KindPermissionSet, resource.KindRole, resource.KindUser,
		resource.KindAccessList, resource.KindAccessListMember, resource.KindSyncRecord} {
		objs, err := st.List(ctx, k, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.Metadata.Revision > before {
				written[string(k)+"/"+o.Metadata.Name] = true
			}
		}
	}
	if !maps.Equal(written, previewed) {
		t.Fatalf("the import wrote %v; the preview said %v", slices.Sorted(maps.Keys(written)), slices.Sorted(maps.Keys(previewed)))
	}
	lena, _ := st.Get(ctx, resource.KindUser, "lena@example.com")
	if !slices.Contains(lena.Spec.(*resource.UserSpec).Roles, "AdministratorAccess-on-production") {
		t.Fatalf("lena's new assignment: roles %v", lena.Spec.(*resource.UserSpec).Roles)
	}

	plan, err = importer.Preview(ctx, st, c, importer.Scope{}, clock)
	if err != nil || len(plan.Changes) != 0 {
		t.Fatalf("the preview after importing it all says an import adds %q (%v)", plan.Changes, err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true}); err != nil || p.Changes() != 0 {
		t.Fatalf("the plan after the re-import has changes: %v\n%s", err, p)
	}
}

// What warden made itself comes back from a re-import as nothing new: a group it created for an
// access list is that list (not a new list named after the group), the group's assignment is the
// list's grant (not a grant of an imported role of another name), and members it has through a
// nested list do not become direct members.
func TestReimportRecognisesWardensOwnGroups(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, sim, c, st := demo(t, cfg)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := importer.WithClock(func() time.Time { return now })
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"}, clock); err != nil {
		t.Fatal(err)
	}
	objs, err := resource.DecodeAll("oncall.yaml", []byte(`
kind: role
version: v1
metadata: {name: production-admin}
spec: {allow: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice@example.com], grants: {roles: [production-admin]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: kemi@example.com}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: devops, member_kind: list}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if res, err := engine.Sync(ctx, reconcile.PlanOptions{Full: true}, false); err != nil || len(res.Errors) != 0 {
		t.Fatalf("sync: %v %v", err, res)
	}
	var members int
	sim.Update(func(d *idcsim.Directory) error {
		id, _ := d.GroupID("On call")
		members = len(d.GroupMembers(id))
		return nil
	})
	if members != 4 {
		t.Fatalf("the On call group has %d members, want kemi and DevOps' three", members)
	}
	plan, err := importer.Preview(ctx, st, c, importer.Scope{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || len(plan.Records) != 0 {
		t.Fatalf("a re-import after warden made a group of its own adds %q and records %v", plan.Changes, slices.Sorted(maps.Keys(plan.Records)))
	}
	for _, g := range plan.Groups {
		if g.DisplayName == "On call" && (g.List != "oncall" || g.New) {
			t.Fatalf("the On call group is taken for access list %q (new: %v), not oncall", g.List, g.New)
		}
	}
}

// A group warden has no record of is the access list of its title, or else the list an import made
// of it: a re-import adds the group's members to that list rather than making a second one.
func TestReimportFindsTheListOfAGroup(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, sim, c, st := demo(t, cfg)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := importer.WithClock(func() time.Time { return now })
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"}, clock); err != nil {
		t.Fatal(err)
	}
	objs, err := resource.DecodeAll("sre.yaml", []byte(`
kind: access_list
version: v1
metadata: {name: sre}
spec: {title: Site Reliability, owners: [alice@example.com]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	err = sim.Update(func(d *idcsim.Directory) error {
		g, err := d.CreateGroup("site reliability", "made by hand")
		if err != nil {
			return err
		}
		kemi, _ := d.UserID("kemi@example.com")
		_, err = d.AddMember(g, kemi)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := importer.Preview(ctx, st, c, importer.Scope{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"member kemi@example.com of access list sre"}; !slices.Equal(plan.Changes, want) {
		t.Fatalf("the preview says an import adds %q, want %q", plan.Changes, want)
	}

	// A list an import made of a group (that grants nothing, so the sync leaves its group alone)
	// stays that group's list when its title is changed in warden.
	err = sim.Update(func(d *idcsim.Directory) error {
		g, err := d.CreateGroup("Auditors", "made by hand")
		if err != nil {
			return err
		}
		lena, _ := d.UserID("lena@example.com")
		_, err = d.AddMember(g, lena)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"}, clock); err != nil {
		t.Fatal(err)
	}
	auditors, err := st.Get(ctx, resource.KindAccessList, "auditors")
	if err != nil {
		t.Fatal(err)
	}
	auditors.Spec.(*resource.AccessListSpec).Title = "Audit team"
	if err := st.Update(ctx, auditors); err != nil {
		t.Fatal(err)
	}
	if plan, err = importer.Preview(ctx, st, c, importer.Scope{}, clock); err != nil || len(plan.Changes) != 0 {
		t.Fatalf("after an imported list's title changed in warden, the preview says an import adds %q (%v)", plan.Changes, err)
	}
}

// An assignment warden's own grants already hold, though the sync has yet to record it, is not
// imported again under another name: kemi's break-glass access, which warden grants through the role
// breakglass, does not also become the standing role AdministratorAccess-on-production (which would
// keep it after breakglass is taken away). It is on record as there before warden, and the sync then
// has nothing to do.
func TestImportRespectsWardensGrants(t *testing.T) {
	cfg := idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond}
	ctx, _, c, st := demo(t, cfg)
	objs, err := resource.DecodeAll("breakglass.yaml", []byte(`
kind: role
version: v1
metadata: {name: breakglass}
spec: {allow: {account_assignments: [{account: "637423191929", permission_set: AdministratorAccess}]}}
---
kind: user
version: v1
metadata: {name: kemi@example.com}
spec: {display_name: Kemi Adeyemi, given_name: Kemi, family_name: Adeyemi, email: kemi@example.com, roles: [breakglass]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	stats, err := importer.Import(ctx, st, c, importer.Scope{}, []string{"alice@example.com"}, importer.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range stats.Changes {
		if strings.Contains(line, "kemi") && !strings.Contains(line, "member kemi") {
			t.Errorf("the import added %q", line)
		}
	}
	kemi, _ := st.Get(ctx, resource.KindUser, "kemi@example.com")
	if roles := kemi.Spec.(*resource.UserSpec).Roles; !slices.Equal(roles, []string{"breakglass"}) {
		t.Fatalf("kemi's standing roles after the import: %v", roles)
	}
	sets, err := c.PermissionSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var admin string
	for _, ps := range sets {
		if ps.Name == "AdministratorAccess" {
			admin = ps.ARN
		}
	}
	rec, err := st.Get(ctx, resource.KindSyncRecord, "assignment:USER:kemi@example.com:637423191929:"+admin)
	if err != nil || !rec.Spec.(*resource.SyncRecordSpec).Adopted {
		t.Fatalf("kemi's assignment is not on record as there before warden: %+v %v", rec, err)
	}
	engine := reconcile.New(st, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if p, _, _, err := engine.Plan(ctx, reconcile.PlanOptions{Full: true}); err != nil || p.Changes() != 0 {
		t.Fatalf("the plan after the import has changes: %v\n%s", err, p)
	}
}
