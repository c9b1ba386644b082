// Package access holds the rules of warden's workflows: what a person may request, who may review
// it, how reviews decide, and which state changes a request may go through. The rules are pure
// functions over resources; Roles reads from the store the roles a person holds.
//
// Rules decided here (the seeds and the issue leave them open):
//   - A request is allowed when, for every role and resource it asks for, some allow.request of the
//     requester's roles matches it and no deny.request does.
//   - Of the conditions that allowed it, the longest max_duration caps the window (unset: 12h, the
//     longest session Identity Center gives); a reason is required when any of them requires one;
//     the strictest thresholds apply (the most approvals, the fewest denials).
//   - A reviewer must hold a role whose allow.review_requests matches every requested role (for a
//     resource request: some role that grants the resource) and no deny.review_requests matching
//     one; nobody reviews their own request, and each reviewer reviews once.
package access

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// DefaultMaxDuration caps a request when no condition says otherwise.
const DefaultMaxDuration = 12 * time.Hour

// DefaultPendingTTL is how long a request may wait for its reviews.
const DefaultPendingTTL = 24 * time.Hour

// Account is one account of the catalog.
type Account struct{ ID, Name string }

// Terms are what the conditions that allow a request say about it.
type Terms struct {
	MaxDuration    time.Duration
	ReasonRequired bool
	Approvals      int // approvals that approve it
	Denials        int // denials that deny it
}

func fieldErr(field, format string, args ...any) error {
	return &resource.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// roleSpecs returns the specs of roles, skipping any that are not roles.
func roleSpecs(roles []*resource.Object) []*resource.RoleSpec {
	out := make([]*resource.RoleSpec, 0, len(roles))
	for _, r := range roles {
		if s, ok := r.Spec.(*resource.RoleSpec); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyGlob(patterns []string, name string) bool {
	for _, p := range patterns {
		if resource.MatchGlob(p, name) {
			return true
		}
	}
	return false
}

// matchAssignment reports whether the pattern (account id, name or glob; permission set name, ARN
// or glob) covers the account and permission set.
func matchAssignment(p resource.AccountAssignment, a Account, permissionSet string) bool {
	accountOK := resource.MatchGlob(p.Account, a.ID) || (a.Name != "" && resource.MatchGlob(p.Account, a.Name))
	return accountOK && resource.MatchGlob(p.PermissionSet, permissionSet)
}

// ResolveAccount finds an account by id or name.
func ResolveAccount(accounts []Account, s string) (Account, bool) {
	var found []Account
	for _, a := range accounts {
		if a.ID == s {
			return a, true
		}
		if a.Name == s {
			found = append(found, a)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Account{}, false
}

// CheckRequest decides whether a user holding roles may make the request, and on what terms. The
// request's roles must exist in allRoles. Errors name the field at fault.
func CheckRequest(req *resource.AccessRequestSpec, roles []*resource.Object, allRoles map[string]*resource.Object, accounts []Account) (*Terms, error) {
	if len(req.Roles) == 0 && len(req.Resources) == 0 {
		return nil, fieldErr("spec.roles", "a request asks for roles or for one resource (account × permission set)")
	}
	if len(req.Roles) > 0 && len(req.Resources) > 0 {
		return nil, fieldErr("spec.resources", "a request asks for roles or for a resource, not both")
	}
	if len(req.Resources) > 1 {
		return nil, fieldErr("spec.resources", "a resource request is for one account × permission set")
	}
	specs := roleSpecs(roles)
	var matched []*resource.RequestConditions
	denied := func(match func(*resource.RequestConditions) bool) bool {
		for _, s := range specs {
			if s.Deny.Request != nil && match(s.Deny.Request) {
				return true
			}
		}
		return false
	}
	allowed := func(match func(*resource.RequestConditions) bool) bool {
		ok := false
		for _, s := range specs {
			if s.Allow.Request != nil && match(s.Allow.Request) {
				ok = true
				if !slices.Contains(matched, s.Allow.Request) {
					matched = append(matched, s.Allow.Request)
				}
			}
		}
		return ok
	}
	for i, name := range req.Roles {
		if allRoles[name] == nil {
			return nil, fieldErr(fmt.Sprintf("spec.roles[%d]", i), "role %q does not exist", name)
		}
		match := func(c *resource.RequestConditions) bool { return anyGlob(c.Roles, name) }
		if denied(match) || !allowed(match) {
			return nil, fieldErr(fmt.Sprintf("spec.roles[%d]", i), "you may not request role %q", name)
		}
	}
	for i, r := range req.Resources {
		a, ok := ResolveAccount(accounts, r.Account)
		if !ok {
			return nil, fieldErr(fmt.Sprintf("spec.resources[%d].account", i), "%q is not an account id or the name of one account", r.Account)
		}
		if resource.IsGlob(r.PermissionSet) || r.PermissionSet == "" {
			return nil, fieldErr(fmt.Sprintf("spec.resources[%d].permission_set", i), "name one permission set")
		}
		match := func(c *resource.RequestConditions) bool {
			for _, p := range c.AccountAssignments {
				if matchAssignment(p, a, r.PermissionSet) {
					return true
				}
			}
			return false
		}
		if denied(match) || !allowed(match) {
			return nil, fieldErr(fmt.Sprintf("spec.resources[%d]", i), "you may not request %s on %s", r.PermissionSet, r.Account)
		}
	}
	t := &Terms{Approvals: 1, Denials: 1}
	for _, c := range matched {
		t.MaxDuration = max(t.MaxDuration, c.MaxDurationValue())
		if c.Reason == "required" {
			t.ReasonRequired = true
		}
		for _, th := range c.Thresholds {
			t.Approvals = max(t.Approvals, th.ApproveCount())
		}
	}
	t.Denials = 0
	for _, c := range matched {
		for _, th := range c.Thresholds {
			if t.Denials == 0 || th.DenyCount() < t.Denials {
				t.Denials = th.DenyCount()
			}
		}
	}
	if t.Denials == 0 {
		t.Denials = 1
	}
	if t.MaxDuration == 0 {
		t.MaxDuration = DefaultMaxDuration
	}
	if t.ReasonRequired && strings.TrimSpace(req.Reason) == "" {
		return nil, fieldErr("spec.reason", "required by the roles that allow this request")
	}
	return t, nil
}

// Window fixes a request's access window: it starts at start (now when zero) and lasts the asked
// duration (the longest allowed when none), capped at the terms' maximum. capped says it was cut.
func Window(req *resource.AccessRequestSpec, t *Terms, start time.Time) (from, to time.Time, capped bool, err error) {
	d := t.MaxDuration
	if req.Duration != "" {
		asked, perr := time.ParseDuration(req.Duration)
		if perr != nil || asked <= 0 {
			return time.Time{}, time.Time{}, false, fieldErr("spec.duration", "%q is not a positive duration like 2h or 90m", req.Duration)
		}
		if asked > t.MaxDuration {
			capped = true
		} else {
			d = asked
		}
	}
	from = start.Truncate(time.Second)
	return from, from.Add(d), capped, nil
}

// grantsResource reports whether a role's allow (minus deny) account assignments cover the resource.
func grantsResource(s *resource.RoleSpec, a Account, permissionSet string) bool {
	for _, p := range s.Deny.AccountAssignments {
		if matchAssignment(p, a, permissionSet) {
			return false
		}
	}
	for _, p := range s.Allow.AccountAssignments {
		if matchAssignment(p, a, permissionSet) {
			return true
		}
	}
	return false
}

// CanReview says whether reviewer, holding roles, may review the request, and why not.
func CanReview(req *resource.AccessRequestSpec, reviewer string, roles []*resource.Object, allRoles map[string]*resource.Object, accounts []Account) error {
	if strings.EqualFold(reviewer, req.User) {
		return fieldErr("", "nobody reviews their own request")
	}
	for _, r := range req.Reviews {
		if strings.EqualFold(r.Author, reviewer) {
			return fieldErr("", "%s has reviewed this request already", reviewer)
		}
	}
	specs := roleSpecs(roles)
	may := func(role string) bool {
		ok := false
		for _, s := range specs {
			if s.Deny.ReviewRequests != nil && anyGlob(s.Deny.ReviewRequests.Roles, role) {
				return false
			}
			if s.Allow.ReviewRequests != nil && anyGlob(s.Allow.ReviewRequests.Roles, role) {
				ok = true
			}
		}
		return ok
	}
	for _, role := range req.Roles {
		if !may(role) {
			return fieldErr("", "%s may not review requests for role %q", reviewer, role)
		}
	}
	for _, res := range req.Resources {
		a, _ := ResolveAccount(accounts, res.Account)
		ok := false
		for _, name := range sortedNames(allRoles) {
			if s, isRole := allRoles[name].Spec.(*resource.RoleSpec); isRole && grantsResource(s, a, res.PermissionSet) && may(name) {
				ok = true
				break
			}
		}
		if !ok {
			return fieldErr("", "%s may not review requests for %s on %s", reviewer, res.PermissionSet, res.Account)
		}
	}
	return nil
}

func sortedNames(m map[string]*resource.Object) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Review adds a review to a pending request and moves it on when the terms' thresholds are met:
// to APPROVED, with its window fixed from now (or its asked start, if later), or to DENIED. It
// reports whether the state changed. Callers check CanReview first.
func Review(req *resource.AccessRequestSpec, t *Terms, r resource.Review, now time.Time) (changed bool, err error) {
	if req.State != resource.StatePending {
		return false, fieldErr("spec.state", "the request is %s; only a PENDING request is reviewed", req.State)
	}
	if r.Decision != resource.DecisionApprove && r.Decision != resource.DecisionDeny {
		return false, fieldErr("decision", "%q is not APPROVE or DENY", r.Decision)
	}
	r.Created = now
	req.Reviews = append(req.Reviews, r)
	approvals, denials := 0, 0
	for _, x := range req.Reviews {
		if x.Decision == resource.DecisionApprove {
			approvals++
		} else {
			denials++
		}
	}
	switch {
	case denials >= t.Denials:
		req.State = resource.StateDenied
		return true, nil
	case approvals >= t.Approvals:
		start := now
		if req.Start != nil && req.Start.After(now) {
			start = *req.Start
		}
		from, to, _, err := Window(req, t, start)
		if err != nil {
			return false, err
		}
		req.State, req.Start, req.End = resource.StateApproved, &from, &to
		return true, nil
	}
	return false, nil
}

// Cancel ends a request early at now: a pending one never starts, an approved one's window closes
// (its assignments go at the sync's next run). Ended requests cannot be cancelled.
func Cancel(req *resource.AccessRequestSpec, now time.Time) error {
	switch req.State {
	case resource.StatePending:
	case resource.StateApproved:
		if req.End != nil && !now.Before(*req.End) {
			return fieldErr("spec.state", "the request's window ended already")
		}
		end := now.Truncate(time.Second)
		if req.Start != nil && !req.Start.Before(end) {
			req.Start, req.End = nil, nil // it had not begun: no window at all
		} else {
			req.End = &end
		}
	default:
		return fieldErr("spec.state", "the request is %s; only a PENDING or APPROVED request can be cancelled", req.State)
	}
	req.State = resource.StateCancelled
	return nil
}

// Expire moves a pending request older than ttl, or an approved one whose window has ended, to
// EXPIRED. It reports whether it changed anything.
func Expire(req *resource.AccessRequestSpec, created time.Time, ttl time.Duration, now time.Time) bool {
	switch {
	case req.State == resource.StatePending && !now.Before(created.Add(ttl)):
	case req.State == resource.StateApproved && req.End != nil && !now.Before(*req.End):
	default:
		return false
	}
	req.State = resource.StateExpired
	return true
}
