package reconcile

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// scaleSnapshot builds the organisation of the benchmark: 50,000 users, 5,000 access lists
// (each granting one role of 20 account assignments: 100,000 group assignments), 1,000 accounts, 200
// permission sets, 500,000 memberships (100 per list), and 5,000 approved requests in their window.
func scaleSnapshot(now time.Time) *policy.Snapshot {
	s := &policy.Snapshot{}
	for i := 0; i < 1000; i++ {
		s.Accounts = append(s.Accounts, policy.Account{ID: fmt.Sprintf("%012d", 100000000000+i), Name: fmt.Sprintf("account-%04d", i)})
	}
	for i := 0; i < 200; i++ {
		s.PermissionSets = append(s.PermissionSets, policy.PermissionSet{Name: fmt.Sprintf("PS%03d", i), ARN: fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-%016d", i)})
	}
	// Every tenth user may request any assignment: the requests below are theirs.
	requester := resource.New(resource.KindRole, "requester")
	requester.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{Request: &resource.RequestConditions{
		AccountAssignments: []resource.AccountAssignment{{Account: "*", PermissionSet: "*"}}}}}
	s.Roles = append(s.Roles, requester)
	for i := 0; i < 50000; i++ {
		u := resource.New(resource.KindUser, fmt.Sprintf("user%05d@example.com", i))
		u.Spec = &resource.UserSpec{DisplayName: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%05d@example.com", i)}
		if i%10 == 0 {
			u.Spec.(*resource.UserSpec).Roles = []string{"requester"}
		}
		s.Users = append(s.Users, u)
	}
	for i := 0; i < 5000; i++ {
		role := resource.New(resource.KindRole, fmt.Sprintf("role%04d", i))
		spec := &resource.RoleSpec{}
		for j := 0; j < 20; j++ {
			spec.Allow.AccountAssignments = append(spec.Allow.AccountAssignments, resource.AccountAssignment{
				Account: s.Accounts[(i*7+j*13)%1000].ID, PermissionSet: s.PermissionSets[(i+j)%200].Name})
		}
		role.Spec = spec
		s.Roles = append(s.Roles, role)
		l := resource.New(resource.KindAccessList, fmt.Sprintf("list%04d", i))
		l.Spec = &resource.AccessListSpec{Title: fmt.Sprintf("List %04d", i), Owners: []string{"user00000@example.com"}, Grants: resource.Grants{Roles: []string{role.Metadata.Name}}}
		s.AccessLists = append(s.AccessLists, l)
		for j := 0; j < 100; j++ {
			m := resource.New(resource.KindAccessListMember, "")
			m.Spec = &resource.AccessListMemberSpec{List: l.Metadata.Name, Member: fmt.Sprintf("user%05d@example.com", (i*37+j*101)%50000)}
			s.Members = append(s.Members, m)
		}
	}
	start, end := now.Add(-time.Hour), now.Add(time.Hour)
	for i := 0; i < 5000; i++ {
		r := resource.New(resource.KindAccessRequest, fmt.Sprintf("req%04d", i))
		r.Spec = &resource.AccessRequestSpec{User: fmt.Sprintf("user%05d@example.com", i*10), State: resource.StateApproved, Start: &start, End: &end,
			Resources: []resource.RequestedResource{{Account: s.Accounts[i%1000].ID, PermissionSet: s.PermissionSets[i%200].Name}}}
		s.Requests = append(s.Requests, r)
	}
	return s
}

// converged builds the observation of an Identity Center that already matches d, and warden's records.
func converged(d *policy.Desired) (*Observed, map[string]*resource.Object) {
	o := newObserved()
	records := map[string]*resource.Object{}
	rec := func(key string, spec *resource.SyncRecordSpec) {
		records[key] = &resource.Object{Kind: resource.KindSyncRecord, Metadata: resource.Metadata{Name: key}, Spec: spec}
	}
	for name, u := range d.Users {
		id := "u-" + name
		o.UserIDs[name], o.UserNames[id] = id, name
		o.Users[name] = toIDCUser(id, u)
		rec(userKey(name), &resource.SyncRecordSpec{Type: resource.RecordUser, IDCID: id, Name: name})
	}
	for title, g := range d.Groups {
		id := "g-" + g.List
		o.GroupIDs[g.List] = id
		m := map[string]string{}
		for _, u := range g.Members {
			m["u-"+u] = "m-" + g.List + "-" + u
		}
		o.Members[id] = m
		rec(groupKey(g.List), &resource.SyncRecordSpec{Type: resource.RecordGroup, IDCID: id, Name: title})
	}
	for a, grant := range d.Assignments {
		var pid string
		if a.PrincipalType == policy.PrincipalGroup {
			pid = o.GroupIDs[d.Groups[a.Principal].List]
		} else {
			pid = o.UserIDs[a.Principal]
		}
		if o.Assignments[pid] == nil {
			o.Assignments[pid] = map[target]bool{}
		}
		o.Assignments[pid][target{a.AccountID, a.PermissionSetARN}] = true
		if a.PrincipalType == policy.PrincipalUser {
			rec(assignmentKey(a), &resource.SyncRecordSpec{Type: resource.RecordAssignment, IDCID: pid, Name: a.Principal,
				PrincipalType: a.PrincipalType, AccountID: a.AccountID, PermissionSetARN: a.PermissionSetARN, Until: grant.Until})
		}
	}
	return o, records
}

// BenchmarkCompileAndPlan: full compile + plan of the large organisation, converged (target: under
// 1 s and 512 MiB).
func BenchmarkCompileAndPlan(b *testing.B) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	snap := scaleSnapshot(now)
	d, _ := policy.Compile(snap, now)
	o, records := converged(d)
	b.Logf("desired: %d users, %d groups, %d assignments", len(d.Users), len(d.Groups), len(d.Assignments))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _ := policy.Compile(snap, now)
		p := makePlan(d, o, records, now, 0.1, false)
		if p.Changes() != 0 {
			b.Fatalf("converged plan has %d changes", p.Changes())
		}
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(after.Sys)/(1<<20), "sys-MB")
}

// BenchmarkPlanAfterOneMembershipChange: in the large organisation, one member joins one list: the
// kept compile is updated and the plan computed (target: under 5 ms).
func BenchmarkPlanAfterOneMembershipChange(b *testing.B) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	snap := scaleSnapshot(now)
	k := policy.NewCompiler(snap, now)
	d := k.Desired()
	o, records := converged(d)
	m := resource.New(resource.KindAccessListMember, "list0042/user49999@example.com")
	m.Spec = &resource.AccessListMemberSpec{List: "list0042", Member: "user49999@example.com"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.PutMember(m)
		changed := k.Recompute([]string{"list0042"})
		p := planMembers(d, o, changed, records, 0.1, 500000)
		if p.Changes() != 1 || p.Ops[0].Kind != AddMember {
			b.Fatalf("plan: %s", p)
		}
		k.DeleteMember(m)
		k.Recompute([]string{"list0042"})
	}
}
