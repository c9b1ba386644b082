package reconcile_test

import (
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/resource"
)

// A request's assignment lives only while its requester may have it: dan may request because he is
// on the on-call list (which holds no assignments of its own); when he leaves it, a change of
// membership alone, the loop takes the assignment away at once, long before the request ends.
func TestRequestAssignmentGoesWithItsBasis(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 51})
	e.apply(org + `
---
kind: role
version: v1
metadata: {name: may-request-prod}
spec: {allow: {request: {account_assignments: [{account: Production, permission_set: AdministratorAccess}]}}}
---
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice@example.com], grants: {roles: [may-request-prod]}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {display_name: Dan Silva}
` + member("oncall", "dan@example.com", time.Time{}) + "---" + request("r1", "dan@example.com", e.now().Add(time.Hour).Format(time.RFC3339)))
	e.runLoop()
	granted := func() bool {
		ok := false
		e.sim.Update(func(d *idcsim.Directory) error {
			dan, _ := d.UserID("dan@example.com")
			for _, a := range d.Assignments() {
				ok = ok || (a.PrincipalID == dan && a.AccountID == "637423191929" && a.PermissionSetARN == e.arn["AdministratorAccess"])
			}
			return nil
		})
		return ok
	}
	e.waitFor("the request granted", 10*time.Second, granted)
	e.del(resource.KindAccessListMember, "oncall/dan@example.com")
	e.waitFor("the assignment revoked once dan left the list that let him request it", 10*time.Second, func() bool { return !granted() })
}
