package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// OpKind is one kind of change to Identity Center. Plans run them in this order.
type OpKind int

// Operation kinds, in the order a plan applies them.
const (
	CreateUser OpKind = iota
	UpdateUser
	AdoptUser
	CreateGroup
	RenameGroup
	AdoptGroup
	AddMember
	CreateAssignment
	DeleteAssignment
	RemoveMember
	DeleteGroup
	ReleaseGroup // stop managing a group warden adopted, leaving it in Identity Center; no call to AWS
	DeleteUser
	ReleaseUser  // stop managing a user warden adopted, leaving it in Identity Center; no call to AWS
	ForgetRecord // drop a record of something that no longer exists; no call to AWS
)

var opNames = map[OpKind]string{
	CreateUser: "create user", UpdateUser: "update user", AdoptUser: "adopt user", CreateGroup: "create group",
	RenameGroup: "rename group", AdoptGroup: "adopt group", AddMember: "add member", CreateAssignment: "create assignment",
	DeleteAssignment: "delete assignment", RemoveMember: "remove member", DeleteGroup: "delete group", DeleteUser: "delete user",
	ReleaseGroup: "stop managing group", ReleaseUser: "stop managing user", ForgetRecord: "forget record",
}

func (k OpKind) String() string { return opNames[k] }

// Op is one change. Principals are named (user name, access list) and resolved to ids when applied,
// so that an operation may name a user or group created earlier in the same plan.
type Op struct {
	Kind OpKind
	// User is a user name; List an access list; Title the group's display name.
	User  string
	List  string
	Title string
	// ID is the Identity Center id the op acts on when known (user, group or membership id).
	ID string
	// UserID is the member's Identity Center user id (RemoveMember).
	UserID     string
	Attributes *policy.User
	Assignment policy.Assignment
	// Until is when the grant behind a created assignment ends (zero: standing).
	Until time.Time
	// Expired marks a deletion caused by a grant's end (on time, or early: a request cancelled or
	// revoked, its basis lost), which the safety brake never holds back.
	Expired bool
	// Members counts the memberships a deletion takes with it: a group's members, or a user's
	// memberships in groups warden does not manage (those in warden's are removed one by one).
	Members int
	// Adopted: the user or group deleted was there before warden (deleted only with --delete-in-aws).
	Adopted bool
	// Requests are the access requests behind a created assignment.
	Requests []string
	// RecordOnly: the assignment exists already; only warden's record of it is written (adopting it,
	// or noting a grant of another length).
	RecordOnly bool
	Record     string // the sync record a ForgetRecord drops
}

func (op Op) String() string {
	switch op.Kind {
	case CreateUser, UpdateUser, AdoptUser:
		return fmt.Sprintf("%s %s", op.Kind, op.User)
	case DeleteUser:
		s := fmt.Sprintf("%s %s", op.Kind, op.User)
		switch {
		case op.Adopted && op.Members > 0:
			s += fmt.Sprintf(" (there before warden; with its %s in groups warden does not manage)", plural(op.Members, "membership"))
		case op.Adopted:
			s += " (there before warden)"
		case op.Members > 0:
			s += fmt.Sprintf(" (with its %s in groups warden does not manage)", plural(op.Members, "membership"))
		}
		return s
	case ReleaseUser:
		return fmt.Sprintf("%s %s (there before warden: it stays in Identity Center; --delete-in-aws deletes it)", op.Kind, op.User)
	case CreateGroup, AdoptGroup:
		return fmt.Sprintf("%s %q (access list %s)", op.Kind, op.Title, op.List)
	case DeleteGroup:
		s := fmt.Sprintf("%s %q (access list %s", op.Kind, op.Title, op.List)
		if op.Adopted {
			s += "; there before warden"
		}
		if op.Members > 0 {
			s += fmt.Sprintf("; its %s go with it", plural(op.Members, "membership"))
		}
		return s + ")"
	case ReleaseGroup:
		return fmt.Sprintf("%s %q (access list %s; there before warden: it stays in Identity Center with its members; --delete-in-aws deletes it)", op.Kind, op.Title, op.List)
	case RenameGroup:
		return fmt.Sprintf("%s of access list %s to %q", op.Kind, op.List, op.Title)
	case AddMember:
		return fmt.Sprintf("%s %s to %q", op.Kind, op.User, op.Title)
	case RemoveMember:
		return fmt.Sprintf("%s %s from %q", op.Kind, op.User, op.Title)
	case CreateAssignment, DeleteAssignment:
		a := op.Assignment
		s := fmt.Sprintf("%s %s %s on %s with %s", op.Kind, strings.ToLower(a.PrincipalType), a.Principal, a.AccountID, psName(a.PermissionSetARN))
		if !op.Until.IsZero() {
			s += " until " + op.Until.UTC().Format(time.RFC3339)
		}
		if op.Expired {
			s += " (access ended: never held by the brake)"
		}
		if op.RecordOnly {
			s += " (exists; recorded as warden's)"
		}
		return s
	case ForgetRecord:
		return fmt.Sprintf("%s %s", op.Kind, op.Record)
	}
	return op.Kind.String()
}

// Removal counts what operations remove from Identity Center, by kind.
type Removal struct {
	Users, Groups, Memberships, Assignments int
}

// removal is what op removes from Identity Center: the one weighing the safety brake applies to
// every destructive operation. A group's deletion takes its memberships with it, a user's its
// memberships in groups warden does not manage (its memberships in warden's groups are removed one
// by one before it, each weighed as such).
func (op Op) removal() Removal {
	switch op.Kind {
	case DeleteAssignment:
		return Removal{Assignments: 1}
	case RemoveMember:
		return Removal{Memberships: 1}
	case DeleteGroup:
		return Removal{Groups: 1, Memberships: op.Members}
	case DeleteUser:
		return Removal{Users: 1, Memberships: op.Members}
	}
	return Removal{}
}

func (r *Removal) add(o Removal) {
	r.Users += o.Users
	r.Groups += o.Groups
	r.Memberships += o.Memberships
	r.Assignments += o.Assignments
}

// recordsOnly reports whether op only changes warden's records (nothing is called in AWS).
func (op Op) recordsOnly() bool {
	switch op.Kind {
	case ForgetRecord, AdoptUser, AdoptGroup, ReleaseUser, ReleaseGroup:
		return true
	}
	return op.RecordOnly
}

// key names the change an operation makes, the same in every plan that calls for it.
func (op Op) key() string { return op.Kind.String() + "\x00" + op.sortKey() }

// sortKey orders operations of one kind.
func (op Op) sortKey() string {
	switch op.Kind {
	case CreateAssignment, DeleteAssignment:
		return assignmentKey(op.Assignment)
	case ForgetRecord:
		return op.Record
	}
	return op.List + "\x00" + op.User
}

// plural says n things ("1 membership", "2 memberships").
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func psName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Plan is the ordered difference between desired and observed Identity Center state.
type Plan struct {
	Ops []Op
	// Owned counts what warden owns now, the safety brake's denominators.
	OwnedAssignments, OwnedMemberships, OwnedGroups, OwnedUsers int
	// Removes is what the plan's operations remove from Identity Center, expiries aside (what the
	// safety brake weighs).
	Removes Removal
	// Brake, when set, says why the plan must not be applied without force.
	Brake string
	// Held counts operations waiting to be retried after failing; Wake is when the first may go.
	Held int
	Wake time.Time
	// Released names the users and groups warden adopted and stopped managing, left in Identity
	// Center, which --delete-in-aws would delete ("user NAME", "group TITLE").
	Released []string
	// LeftOut names what the identity_center filters leave out of the sync: access lists whose
	// group the groups filter excludes, and accounts the accounts filter excludes.
	LeftOut []string
	// Stuck names the operations of a plan made on a full observation that warden applied before
	// it: changed outside warden since, or not kept by Identity Center though it answered them (a
	// sync applying the plan reads them back to tell).
	Stuck []string
	stuck []Op
}

// Changes counts the operations that call AWS.
func (p *Plan) Changes() int {
	n := 0
	for _, op := range p.Ops {
		if !op.recordsOnly() {
			n++
		}
	}
	return n
}

// String prints the plan like terraform plan.
func (p *Plan) String() string {
	var b strings.Builder
	switch {
	case p.Changes() == 0 && len(p.Ops) == 0 && p.Held == 0 && len(p.LeftOut) > 0:
		b.WriteString("No changes. Identity Center matches warden, apart from what the filters leave out (below).\n")
	case p.Changes() == 0 && len(p.Ops) == 0 && p.Held == 0:
		b.WriteString("No changes. Identity Center matches warden.\n")
	default:
		counts := map[string]int{}
		for _, op := range p.Ops {
			sign := "~"
			switch op.Kind {
			case CreateUser, CreateGroup, AddMember, CreateAssignment:
				sign = "+"
			case DeleteAssignment, RemoveMember, DeleteGroup, DeleteUser:
				sign = "-"
			}
			switch {
			case op.recordsOnly():
				sign = " "
				counts["record"]++
			case sign == "+":
				counts["add"]++
			case sign == "-":
				counts["destroy"]++
			default:
				counts["change"]++
			}
			fmt.Fprintf(&b, "  %s %s\n", sign, op)
		}
		fmt.Fprintf(&b, "\nPlan: %d to add, %d to change, %d to destroy.\n", counts["add"], counts["change"], counts["destroy"])
		if p.Held > 0 {
			fmt.Fprintf(&b, "%s to be retried, the first at %s.\n", plural(p.Held, "failed assignment operation"), p.Wake.UTC().Format(time.RFC3339))
		}
		if p.Brake != "" {
			fmt.Fprintf(&b, "\nRefused by the safety brake: %s. Apply with --force if this is intended.\n", p.Brake)
		}
		if len(p.Stuck) > 0 {
			fmt.Fprintf(&b, "\nApplied before, and planned again (changed outside warden, or not kept by Identity Center):\n  %s\n", strings.Join(p.Stuck, "\n  "))
		}
	}
	if len(p.LeftOut) > 0 {
		fmt.Fprintf(&b, "\nLeft out by the identity_center filters (not synced): %s.\n", strings.Join(p.LeftOut, ", "))
	}
	if len(p.Released) > 0 {
		fmt.Fprintf(&b, "\nLeft in Identity Center, no longer managed (there before warden; warden sync apply --delete-in-aws deletes them): %s.\n",
			strings.Join(p.Released, ", "))
	}
	return b.String()
}

// makePlan diffs desired against observed, given what warden owns (records), at now. A user or
// group warden adopted and no longer wants is released (left in Identity Center) unless
// deleteInAWS.
func makePlan(d *policy.Desired, o *Observed, records map[string]*resource.Object, now time.Time, brake float64, deleteInAWS bool) *Plan {
	p := &Plan{}
	add := func(op Op) { p.Ops = append(p.Ops, op) }
	rec := func(key string) *resource.SyncRecordSpec {
		if r := records[key]; r != nil {
			return r.Spec.(*resource.SyncRecordSpec)
		}
		return nil
	}

	// Users.
	for _, name := range slices.Sorted(maps.Keys(d.Users)) {
		want := d.Users[name]
		id := o.UserIDs[name]
		switch {
		case id == "":
			add(Op{Kind: CreateUser, User: name, Attributes: want})
		case rec(userKey(name)) == nil || rec(userKey(name)).IDCID != id || rec(userKey(name)).Released:
			add(Op{Kind: AdoptUser, User: name, ID: id})
			if u, ok := o.Users[name]; ok && !sameUser(u.DisplayName, u.GivenName, u.FamilyName, u.Email, want) {
				add(Op{Kind: UpdateUser, User: name, ID: id, Attributes: want})
			}
		default:
			if u, ok := o.Users[name]; ok && !sameUser(u.DisplayName, u.GivenName, u.FamilyName, u.Email, want) {
				add(Op{Kind: UpdateUser, User: name, ID: id, Attributes: want})
			}
		}
	}

	// Groups.
	desiredLists := map[string]*policy.Group{}
	for _, g := range d.Groups {
		desiredLists[g.List] = g
	}
	for _, list := range slices.Sorted(maps.Keys(desiredLists)) {
		g := desiredLists[list]
		id := o.GroupIDs[list]
		r := rec(groupKey(list))
		switch {
		case id == "":
			add(Op{Kind: CreateGroup, List: list, Title: g.DisplayName})
		case r == nil || r.IDCID != id || r.Released:
			add(Op{Kind: AdoptGroup, List: list, Title: g.DisplayName, ID: id})
		case r.Name != g.DisplayName:
			add(Op{Kind: RenameGroup, List: list, Title: g.DisplayName, ID: id})
		}
	}

	// Memberships of desired groups.
	var removals []Op
	for _, list := range slices.Sorted(maps.Keys(desiredLists)) {
		g := desiredLists[list]
		gid := o.GroupIDs[list]
		have := o.Members[gid]
		want := map[string]bool{}
		for _, u := range g.Members {
			want[u] = true
			if uid := o.UserIDs[u]; gid == "" || uid == "" || have[uid] == "" {
				add(Op{Kind: AddMember, List: list, Title: g.DisplayName, User: u})
			}
		}
		for uid, mid := range have {
			name := o.UserNames[uid]
			if name == "" || !want[name] {
				if name == "" {
					name = uid
				}
				removals = append(removals, Op{Kind: RemoveMember, List: list, Title: g.DisplayName, User: name, ID: mid, UserID: uid, Expired: d.Expired[list][name] || d.Disabled[name]})
			}
		}
	}
	// The memberships warden owns: those of every group it manages, wanted or not.
	managed := map[string]bool{}
	for list, gid := range o.GroupIDs {
		if r := rec(groupKey(list)); gid != "" && (desiredLists[list] != nil || (r != nil && r.IDCID == gid && !r.Released)) && !managed[gid] {
			managed[gid] = true
			p.OwnedMemberships += len(o.Members[gid])
		}
	}

	// Assignments: desired ones that are missing, and owned ones that are not desired.
	principalID := func(ptype, name string) string {
		if ptype == policy.PrincipalGroup {
			if g, ok := d.Groups[name]; ok {
				return o.GroupIDs[g.List]
			}
			return ""
		}
		return o.UserIDs[name]
	}
	for a, grant := range d.Assignments {
		pid := principalID(a.PrincipalType, a.Principal)
		list := ""
		if a.PrincipalType == policy.PrincipalGroup {
			list = d.Groups[a.Principal].List
		}
		if r := rec(assignmentKey(a)); r != nil && r.Op != "" && r.RequestID != "" {
			// In flight, its outcome being polled: a creation is done once seen to end; after a
			// revocation, the assignment is created anew.
			continue
		}
		if pid != "" && o.Assignments[pid][target{a.AccountID, a.PermissionSetARN}] {
			// It exists. A user's assignment must be on record as warden's (adopting it, or noting
			// its grant's new end); a group's belongs to warden with the group, so its record is
			// only a journal entry to close.
			r := rec(assignmentKey(a))
			if (a.PrincipalType == policy.PrincipalUser && (r == nil || !r.Until.Equal(grant.Until))) || (r != nil && r.Op != "") {
				add(Op{Kind: CreateAssignment, List: list, Assignment: a, Until: grant.Until, RecordOnly: true})
			}
			continue
		}
		if r := rec(assignmentKey(a)); r != nil && r.NotBefore.After(now) {
			p.Held++
			p.wake(r.NotBefore) // failed before: wait for its backoff
			continue
		}
		add(Op{Kind: CreateAssignment, List: list, Assignment: a, Until: grant.Until, Requests: grant.Requests})
	}
	desiredGIDs := map[string]bool{}
	for list := range desiredLists {
		if gid := o.GroupIDs[list]; gid != "" {
			desiredGIDs[gid] = true
		}
	}
	var deletes []Op
	seen := map[string]bool{}
	// Owned groups: every observed assignment not desired is removed.
	for list, gid := range o.GroupIDs {
		r := rec(groupKey(list))
		if gid == "" || r == nil || r.IDCID != gid || r.Released {
			continue
		}
		title := r.Name
		if g, ok := desiredLists[list]; ok {
			title = g.DisplayName
		}
		if desiredLists[list] == nil && desiredGIDs[gid] {
			continue // the group now belongs to another list (same title): its assignments are that list's
		}
		for t := range o.Assignments[gid] {
			if o.Accounts != nil && !o.Accounts[t.account] {
				continue // an account outside the filter: not warden's to manage
			}
			p.OwnedAssignments++
			a := policy.Assignment{PrincipalType: policy.PrincipalGroup, Principal: title, AccountID: t.account, PermissionSetARN: t.psARN}
			seen[assignmentKey(a)] = true
			if _, desired := d.Assignments[a]; !desired || desiredLists[list] == nil {
				deletes = append(deletes, Op{Kind: DeleteAssignment, List: list, Assignment: a, ID: gid})
			}
		}
	}
	// Users: only assignments warden recorded as its own.
	for key, r := range records {
		s := r.Spec.(*resource.SyncRecordSpec)
		if s.Type != resource.RecordAssignment {
			continue
		}
		a := policy.Assignment{PrincipalType: s.PrincipalType, Principal: s.Name, AccountID: s.AccountID, PermissionSetARN: s.PermissionSetARN}
		if s.PrincipalType == policy.PrincipalGroup {
			if !seen[key] {
				if _, desired := d.Assignments[a]; !desired {
					add(Op{Kind: ForgetRecord, Record: key})
				}
			}
			continue
		}
		pid := o.UserIDs[s.Name]
		if pid == "" {
			pid = s.IDCID
		}
		exists := pid != "" && o.Assignments[pid][target{a.AccountID, a.PermissionSetARN}]
		if exists {
			p.OwnedAssignments++
		}
		if _, desired := d.Assignments[a]; desired {
			continue
		}
		if s.Op != "" && s.RequestID != "" {
			// Sent already, its outcome being polled: a revocation ends by itself; a creation no
			// longer wanted is deleted once it is seen to end.
			continue
		}
		if o.Accounts != nil && !o.Accounts[s.AccountID] {
			continue // not observed this time (an account outside the filter): neither kept nor dropped
		}
		// A temporary grant's assignment (one with an end, not adopted) that is no longer desired
		// is that grant ending: on time, or early (its request cancelled or revoked, its basis
		// lost). Ending access is never what the brake holds back, so it is marked as an expiry.
		// So is taking a disabled user's access away.
		expired := !s.Until.IsZero() || d.Disabled[s.Name]
		switch {
		case s.Adopted && !s.Until.IsZero():
			// It existed before a temporary grant adopted it: the grant's end does not take it away.
			add(Op{Kind: ForgetRecord, Record: key})
		case !exists && s.Op == "":
			add(Op{Kind: ForgetRecord, Record: key})
		default:
			// Present, or perhaps created by an operation whose outcome was never seen: delete it
			// (deleting an assignment that is not there is harmless).
			deletes = append(deletes, Op{Kind: DeleteAssignment, User: s.Name, Assignment: a, ID: pid, Expired: expired})
		}
	}
	p.Ops = append(p.Ops, deletes...)
	p.Ops = append(p.Ops, removals...)

	// Owned groups and users no longer desired: deleted if warden made them, released if it adopted
	// them (unless deleteInAWS), forgotten if they are gone.
	var groupDeletes, userDeletes []Op
	for key, r := range records {
		s := r.Spec.(*resource.SyncRecordSpec)
		switch s.Type {
		case resource.RecordGroup:
			list := strings.TrimPrefix(key, "group:")
			if desiredLists[list] != nil {
				continue
			}
			if !s.Released {
				p.OwnedGroups++
			}
			gid := o.GroupIDs[list]
			switch {
			case gid != s.IDCID || desiredGIDs[gid]: // gone, or another list's now (same title)
				groupDeletes = append(groupDeletes, Op{Kind: ForgetRecord, Record: key})
			case s.Adopted && !deleteInAWS && s.Released:
				p.Released = append(p.Released, fmt.Sprintf("group %q", s.Name))
			case s.Adopted && !deleteInAWS:
				groupDeletes = append(groupDeletes, Op{Kind: ReleaseGroup, List: list, Title: s.Name, ID: s.IDCID})
			default:
				groupDeletes = append(groupDeletes, Op{Kind: DeleteGroup, List: list, Title: s.Name, ID: s.IDCID, Adopted: s.Adopted, Members: len(o.Members[gid])})
			}
		case resource.RecordUser:
			if !s.Released {
				p.OwnedUsers++
			}
			if _, desired := d.Users[s.Name]; desired {
				continue
			}
			switch id := o.UserIDs[s.Name]; {
			case id != s.IDCID:
				userDeletes = append(userDeletes, Op{Kind: ForgetRecord, Record: key})
			case s.Adopted && !deleteInAWS && s.Released:
				p.Released = append(p.Released, "user "+s.Name)
			case s.Adopted && !deleteInAWS:
				userDeletes = append(userDeletes, Op{Kind: ReleaseUser, User: s.Name, ID: s.IDCID})
			default:
				// Its memberships in groups warden does not manage are counted before it is weighed
				// (Engine.weighDeletions).
				userDeletes = append(userDeletes, Op{Kind: DeleteUser, User: s.Name, ID: s.IDCID, Adopted: s.Adopted})
			}
		}
	}
	for list := range desiredLists {
		if r := rec(groupKey(list)); r != nil && !r.Released {
			p.OwnedGroups++
		}
	}
	p.Ops = append(p.Ops, groupDeletes...)
	p.Ops = append(p.Ops, userDeletes...)
	sortOps(p.Ops)
	sort.Strings(p.Released)
	p.weigh(brake)
	return p
}

// weigh applies the safety brake: a plan removing from Identity Center more than the brake's share
// of what warden owns, of any kind (users, groups, memberships, assignments), by more than a few,
// needs force. Every destructive operation is weighed by what it removes (Op.removal); an expiry's
// never: expired access must go.
func (p *Plan) weigh(brake float64) {
	p.Removes = Removal{}
	for _, op := range p.Ops {
		if !op.Expired {
			p.Removes.add(op.removal())
		}
	}
	var over []string
	for _, k := range []struct {
		n, owned int
		what     string
	}{
		{p.Removes.Users, p.OwnedUsers, "users"},
		{p.Removes.Groups, p.OwnedGroups, "groups"},
		{p.Removes.Memberships, p.OwnedMemberships, "group memberships"},
		{p.Removes.Assignments, p.OwnedAssignments, "assignments"},
	} {
		if k.n > brakeFloor && float64(k.n) > brake*float64(k.owned) {
			over = append(over, fmt.Sprintf("%d of %d %s", k.n, k.owned, k.what))
		}
	}
	p.Brake = ""
	if len(over) > 0 {
		p.Brake = fmt.Sprintf("it removes %s warden owns (more than %.0f%%)", strings.Join(over, ", "), brake*100)
	}
}

// brakeFloor: a few deletions in a small organisation are no cause for alarm.
const brakeFloor = 3

// sortOps puts operations in plan order: by kind, then by what they act on.
func sortOps(ops []Op) {
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].Kind != ops[j].Kind {
			return ops[i].Kind < ops[j].Kind
		}
		return ops[i].sortKey() < ops[j].sortKey()
	})
}

func (p *Plan) wake(t time.Time) {
	if p.Wake.IsZero() || t.Before(p.Wake) {
		p.Wake = t
	}
}

func sameUser(display, given, family, email string, want *policy.User) bool {
	return display == want.DisplayName && given == want.GivenName && family == want.FamilyName && (want.Email == "" || email == want.Email)
}
