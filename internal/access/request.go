// Package access holds the rules of warden's workflows: what a person may request, who may review
// it, how reviews decide, and which state changes a request may go through. The rules are pure
// functions over resources; Roles reads from the store the roles a person holds. What a person
// holds (policy.Holdings), how accounts and permission sets are named (policy.Catalog) and whether
// roles allow an item (policy.Entitle) are package policy's, shared with the sync, so that what a
// request may be granted and what the sync grants for it never diverge.
//
// Rules decided here (the seeds and the issue leave them open):
//   - A request is allowed when, for every role and resource it asks for, some allow.request of the
//     requester's roles matches it and no deny.request does (policy.Entitle). Accounts and permission
//     sets are resolved to account ids and permission set ARNs before any matching, and stored so.
//   - Each asked-for item is capped by the longest max_duration among the conditions that allow it
//     (unset: 12h, the longest session Identity Center gives); the request's window is the shortest
//     of its items' caps, so bundling a role capped at 1h with one capped at 12h gets 1h. A reason
//     is required when any allowing condition requires one; the strictest thresholds apply (the
//     most approvals, the fewest denials).
//   - A request starts at most MaxStartAhead (configurable) after it is made, and its end is never
//     later than its start plus the item caps.
//   - A reviewer must hold a role whose allow.review_requests matches every requested role (for a
//     resource request: some role that grants the resource) and no deny.review_requests matching
//     one; nobody reviews their own request, and each reviewer reviews once.
//   - An approved request keeps its basis only while its requester may still have it (the same
//     Entitle over what they hold now); once it has lost it, the sync grants nothing for it and
//     the server ends it (Revoke, with the reason).
package access

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
)

// DefaultMaxDuration caps a request when no condition says otherwise.
const DefaultMaxDuration = 12 * time.Hour

// DefaultPendingTTL is how long a request may wait for its reviews.
const DefaultPendingTTL = 24 * time.Hour

// DefaultMaxStartAhead is how far ahead a request may ask to start, unless configured.
const DefaultMaxStartAhead = 7 * 24 * time.Hour

// Terms are what the conditions that allow a request say about it.
type Terms struct {
	// MaxDuration caps the window: the shortest of the items' caps.
	MaxDuration time.Duration
	// CappedBy names the item whose cap is MaxDuration (spec.roles[1], say).
	CappedBy       string
	ReasonRequired bool
	Approvals      int // approvals that approve it
	Denials        int // denials that deny it
	// Resources are the resources asked for, resolved: what the request stores.
	Resources []resource.RequestedResource
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

func specsByName(all map[string]*resource.Object) map[string]*resource.RoleSpec {
	out := make(map[string]*resource.RoleSpec, len(all))
	for n, o := range all {
		if s, ok := o.Spec.(*resource.RoleSpec); ok {
			out[n] = s
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

// Entitle says whether a user holding roles may have what the request asks for now (its items,
// not its reason or duration): the check that an approved request keeps its basis.
func Entitle(req *resource.AccessRequestSpec, roles []*resource.Object, allRoles map[string]*resource.Object, cat *policy.Catalog) (*policy.Entitlement, []policy.Item, error) {
	items, err := policy.RequestItems(req, cat)
	if err != nil {
		return nil, nil, err
	}
	e, err := policy.Entitle(req.Roles, items, roleSpecs(roles), specsByName(allRoles), cat)
	if err != nil {
		return nil, nil, err
	}
	return e, items, nil
}

// CheckRequest decides whether a user holding roles may make the request, and on what terms. The
// request's roles must exist in allRoles; its resources are resolved against the catalog. Errors
// name the field at fault.
func CheckRequest(req *resource.AccessRequestSpec, roles []*resource.Object, allRoles map[string]*resource.Object, cat *policy.Catalog) (*Terms, error) {
	if len(req.Roles) == 0 && len(req.Resources) == 0 {
		return nil, fieldErr("spec.roles", "a request asks for roles or for one resource (account × permission set)")
	}
	if len(req.Roles) > 0 && len(req.Resources) > 0 {
		return nil, fieldErr("spec.resources", "a request asks for roles or for a resource, not both")
	}
	if len(req.Resources) > 1 {
		return nil, fieldErr("spec.resources", "a resource request is for one account × permission set")
	}
	e, items, err := Entitle(req, roles, allRoles, cat)
	if err != nil {
		return nil, err
	}
	t := &Terms{Approvals: 1}
	var matched []*resource.RequestConditions
	for _, it := range e.Items {
		cap := time.Duration(0) // the longest cap among the conditions that allow this item
		for _, c := range it.Conditions {
			d := c.MaxDurationValue()
			if d <= 0 {
				d = DefaultMaxDuration
			}
			cap = max(cap, d)
			if !slices.Contains(matched, c) {
				matched = append(matched, c)
			}
		}
		if t.MaxDuration == 0 || cap < t.MaxDuration {
			t.MaxDuration, t.CappedBy = cap, it.Field
		}
	}
	for _, c := range matched {
		if c.Reason == "required" {
			t.ReasonRequired = true
		}
		for _, th := range c.Thresholds {
			t.Approvals = max(t.Approvals, th.ApproveCount())
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
	for _, it := range items {
		t.Resources = append(t.Resources, resource.RequestedResource{
			Account: it.AccountID, PermissionSet: it.PermissionSetARN, AccountName: it.AccountName, PermissionSetName: it.PermissionSetName,
		})
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
	to = from.Add(d)
	if to.After(latest) {
		return time.Time{}, time.Time{}, false, fieldErr("spec.start", "%s is too far ahead: the window would end after %s", from.Format(time.RFC3339), latest.Format(time.DateOnly))
	}
	return from, to, capped, nil
}

// latest bounds every window warden computes, whatever limits are configured: beyond it a time
// no longer fits RFC 3339's four-digit year.
var latest = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)

// CanReview says whether reviewer, holding roles, may review the request, and why not.
func CanReview(req *resource.AccessRequestSpec, reviewer string, roles []*resource.Object, allRoles map[string]*resource.Object, cat *policy.Catalog) error {
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
	items, err := policy.RequestItems(req, cat)
	if err != nil {
		return err
	}
	for _, it := range items {
		ok := false
		for _, name := range sortedNames(allRoles) {
			s, isRole := allRoles[name].Spec.(*resource.RoleSpec)
			if !isRole || !may(name) {
				continue
			}
			if granted, _ := cat.RoleTargets(s); granted[it.Target] {
				ok = true
				break
			}
		}
		if !ok {
			return fieldErr("", "%s may not review requests for %s on %s", reviewer, it.PermissionSetName, it.AccountName)
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

// End ends a request early at now, as Cancel does, for a reason warden gives (it lost its basis),
// kept in end_reason.
func End(req *resource.AccessRequestSpec, now time.Time, why string) error {
	if err := Cancel(req, now); err != nil {
		return err
	}
	req.EndReason = why
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
