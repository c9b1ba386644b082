package reconcile_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// BenchmarkDirectoryProvisioning provisions an organisation of 50,000 users and 5,000 access lists
// (20 members each: 100,000 memberships; each list granting one account assignment) into an empty
// Identity Center, through each directory driver, and reports the calls it took against the bound
// Identity Center's rate sets: every call counts against the 20 per second the whole account
// shares, so calls / 20 is the least time the provisioning can take in AWS. The simulator's rate
// limit is off, so that wall-s is warden's own cost; directory-calls counts user, group and
// membership writes, bound-s is all calls / 20.
func BenchmarkDirectoryProvisioning(b *testing.B) {
	for _, driver := range []string{idc.DirectoryIdentityStore, idc.DirectorySCIM} {
		b.Run(driver, func(b *testing.B) {
			for range b.N {
				benchProvision(b, driver, benchScale(50000), benchScale(5000), 20)
			}
		})
	}
}

func benchProvision(b *testing.B, driver string, users, lists, members int) {
	ctx := context.Background()
	sim := idcsim.New(idcsim.Options{Seed: 11, ProvisioningDelay: time.Millisecond})
	var arn string
	sim.Update(func(d *idcsim.Directory) error {
		d.AddAccount("058264527036", "Staging", "staging@example.com")
		arn, _ = d.CreatePermissionSet("AdministratorAccess", "", "PT1H")
		return nil
	})
	hs := httptest.NewServer(sim)
	defer hs.Close()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var objs []*resource.Object
	role := resource.New(resource.KindRole, "staging-admin")
	role.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{AccountAssignments: []resource.AccountAssignment{{Account: "058264527036", PermissionSet: "AdministratorAccess"}}}}
	objs = append(objs, role)
	for i := range users {
		u := resource.New(resource.KindUser, fmt.Sprintf("user%05d@example.com", i))
		u.Spec = &resource.UserSpec{DisplayName: fmt.Sprintf("User %d", i), GivenName: "User", FamilyName: fmt.Sprint(i), Email: fmt.Sprintf("user%05d@example.com", i)}
		objs = append(objs, u)
	}
	for i := range lists {
		l := resource.New(resource.KindAccessList, fmt.Sprintf("list%04d", i))
		l.Spec = &resource.AccessListSpec{Title: fmt.Sprintf("List %04d", i), Owners: []string{"user00000@example.com"}, Grants: resource.Grants{Roles: []string{"staging-admin"}}}
		objs = append(objs, l)
		for j := range members {
			m := resource.New(resource.KindAccessListMember, fmt.Sprintf("list%04d/user%05d@example.com", i, (i*37+j*101)%users))
			m.Spec = &resource.AccessListMemberSpec{List: l.Metadata.Name, Member: fmt.Sprintf("user%05d@example.com", (i*37+j*101)%users)}
			objs = append(objs, m)
		}
	}
	for len(objs) > 0 {
		n := min(len(objs), 5000)
		if err := st.CreateMany(ctx, objs[:n]); err != nil {
			b.Fatal(err)
		}
		objs = objs[n:]
	}
	e := &env{t: &testing.T{}, ctx: ctx, sim: sim, store: st, writer: manage.New(st), arn: map[string]string{"AdministratorAccess": arn}}
	cfg := idc.Config{Region: "us-east-1", RateLimit: 100000, RetryMaxBackoff: 100 * time.Millisecond}
	var c *idc.Client
	c, e.engine = e.newEngine(hs.URL, cfg)
	if driver == idc.DirectorySCIM {
		if err := c.UseSCIM(idc.SCIMConfig{Endpoint: hs.URL + "/scim/v2"}, idc.StaticTokens{sim.SCIMToken()}, nil); err != nil {
			b.Fatal(err)
		}
	}
	sim.ResetStats()
	b.ResetTimer()
	start := time.Now()
	res, err := e.engine.Sync(ctx, reconcile.PlanOptions{Full: true}, true)
	wall := time.Since(start)
	b.StopTimer()
	if err != nil || len(res.Errors) > 0 {
		b.Fatalf("sync: %v %v", err, res.Errors[:min(len(res.Errors), 3)])
	}
	stats := sim.Stats()
	dir, total := 0, 0
	for op, n := range stats.Calls {
		total += n
		name := op[strings.Index(op, ":")+1:]
		if strings.HasPrefix(op, "scim:POST") || strings.HasPrefix(op, "scim:PATCH") || strings.HasPrefix(op, "scim:DELETE") ||
			(strings.HasPrefix(op, "identitystore:") && (strings.HasPrefix(name, "Create") || strings.HasPrefix(name, "Update") || strings.HasPrefix(name, "Delete"))) {
			dir += n
		}
	}
	var got map[string]int
	sim.Update(func(d *idcsim.Directory) error { got = d.Counts(); return nil })
	if got["users"] != users || got["groups"] != lists || got["memberships"] < lists*members*9/10 {
		b.Fatalf("Identity Center holds %v; want %d users, %d groups, about %d memberships", got, users, lists, lists*members)
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(dir), "directory-calls")
	b.ReportMetric(float64(total), "calls")
	b.ReportMetric(float64(total)/20, "bound-s")
}

// benchScale scales a benchmark's organisation by WARDEN_BENCH_SCALE (a fraction, default 1).
func benchScale(n int) int {
	var f float64
	if _, err := fmt.Sscan(os.Getenv("WARDEN_BENCH_SCALE"), &f); err != nil || f <= 0 {
		return n
	}
	return max(1, int(float64(n)*f))
}
