package importer_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/importer"
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
