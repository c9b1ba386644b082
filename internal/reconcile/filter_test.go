package reconcile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
)

// An access list whose group the identity_center groups filter leaves out is never synced: its
// status says so, and the plan names it (and the accounts the accounts filter leaves out) rather
// than saying Identity Center matches warden.
func TestWhatTheFiltersLeaveOutIsSaid(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 91})
	_, e.engine = e.newEngine(e.engine.Endpoint(), idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond,
		Groups: idc.Filter{Exclude: []string{"^Platform$"}}, Accounts: idc.Filter{Exclude: []string{"^Development$"}}})
	e.apply(org)
	e.sync(true)
	if groups, _ := e.state(); groups["Platform"] != nil || groups["Everyone"] == nil {
		t.Fatalf("the filters were not applied: %v", groups)
	}
	o, err := e.store.Get(e.ctx, resource.KindAccessList, "platform")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(o.Status), `"state":"error"`) || !strings.Contains(string(o.Status), `not synced: its group \"Platform\" is outside the identity_center groups filter`) {
		t.Errorf("the left-out list's status: %s", o.Status)
	}
	p, _, _, err := e.engine.Plan(e.ctx, reconcile.PlanOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	out := p.String()
	if p.Changes() != 0 || strings.Contains(out, "Identity Center matches warden.") ||
		!strings.Contains(out, `Left out by the identity_center filters (not synced): access list platform (group "Platform"), account Development (293847561029).`) {
		t.Errorf("the plan does not say what the filters leave out:\n%s", out)
	}
	if st := e.engine.Status(); len(st.Problems) == 0 || !strings.Contains(strings.Join(st.Problems, "\n"), `access_list "platform": not synced`) {
		t.Errorf("sync status does not name the left-out list: %v", st.Problems)
	}
}
