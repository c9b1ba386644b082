package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// RequestCreate is what a person asks for: roles, or one account × permission set.
type RequestCreate struct {
	Roles     []string                     `json:"roles,omitempty"`
	Resources []resource.AccountAssignment `json:"resources,omitempty"`
	Reason    string                       `json:"reason,omitempty"`
	Duration  string                       `json:"duration,omitempty"`
	Start     *time.Time                   `json:"start,omitempty"`
}

// RequestReview is one reviewer's decision.
type RequestReview struct {
	Decision string `json:"decision"` // APPROVE or DENY
	Reason   string `json:"reason,omitempty"`
}

// RequestResponse is a request and what warden has to say about it (a capped duration, say).
type RequestResponse struct {
	Request *resource.Object `json:"request"`
	Notes   []string         `json:"notes,omitempty"`
}

func (s *Server) requestRoutes() {
	s.handle("POST /v1/access/requests", s.authed(s.requestCreate))
	s.handle("GET /v1/access/requests", s.authed(s.requestList))
	s.handle("GET /v1/access/requests/{id}", s.authed(s.requestShow))
	s.handle("POST /v1/access/requests/{id}/review", s.authed(s.requestReview))
	s.handle("POST /v1/access/requests/{id}/cancel", s.authed(s.requestCancel))
	s.handle("POST /v1/access/requests/{id}/revoke", s.authed(s.requestRevoke))
}

func (s *Server) now() time.Time { return s.clk().Now() }

func (s *Server) clk() clock.Clock {
	if s.clock != nil {
		return s.clock
	}
	return clock.Real()
}

// SetClock makes the request and list workflows read the time from now; KeepRequests still waits
// in real time. UseClock sets its timers too.
func (s *Server) SetClock(now func() time.Time) { s.clock = clock.Func(now) }

// UseClock makes the request and list workflows and KeepRequests read the time from c and wait on
// its timers (tests move a fake clock instead of sleeping); the audit entries of requests are
// timed by it too. Set it before the requests it should govern.
func (s *Server) UseClock(c clock.Clock) { s.clock = c }

// SetPendingTTL sets how long a request waits for its reviews (zero: access.DefaultPendingTTL).
func (s *Server) SetPendingTTL(d time.Duration) { s.pendingTTL = d }

// SetMaxStartAhead sets how far ahead a request may ask to start (zero: access.DefaultMaxStartAhead).
func (s *Server) SetMaxStartAhead(d time.Duration) { s.maxStartAhead = d }

func (s *Server) startAhead() time.Duration {
	if s.maxStartAhead > 0 {
		return s.maxStartAhead
	}
	return access.DefaultMaxStartAhead
}

func (s *Server) pending() time.Duration {
	if s.pendingTTL > 0 {
		return s.pendingTTL
	}
	return access.DefaultPendingTTL
}

// catalog is what the rules need to know: the accounts and permission sets warden has on record,
// and the roles (kept between calls while nothing changes them: catalog_cache.go). The roles are
// shared: callers only read them.
func (s *Server) catalog(ctx context.Context) (*policy.Catalog, map[string]*resource.Object, error) {
	in, err := s.catalogInputs(ctx)
	if err != nil {
		return nil, nil, err
	}
	return policy.NewCatalog(in.accounts, in.sets), in.roles, nil
}

func rolesList(m map[string]*resource.Object) []*resource.Object {
	out := make([]*resource.Object, 0, len(m))
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

// terms are the terms of a request, from its requester's roles now.
func (s *Server) terms(ctx context.Context, req *resource.AccessRequestSpec) (*access.Terms, error) {
	cat, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	held, err := access.Roles(ctx, s.store, req.User, s.now())
	if err != nil {
		return nil, err
	}
	return access.CheckRequest(req, rolesList(held), all, cat)
}

func (s *Server) requestCreate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in RequestCreate
	if err := decodeBody(r, &in, "{\"roles\": [...]} or {\"resources\": [{\"account\", \"permission_set\"}]}, with reason, duration, start"); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.createRequests(r.Context(), p, []RequestCreate{in})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res[0])
}

// prepareRequest checks what p asks for against the rules (start, what their roles allow, the
// window) and returns the request to store, with warden's notes on it (a capped duration). It
// writes nothing.
func (s *Server) prepareRequest(ctx context.Context, p *auth.Principal, in RequestCreate) (*resource.Object, []string, error) {
	spec := &resource.AccessRequestSpec{User: p.User, Roles: in.Roles, Reason: in.Reason, Duration: in.Duration, State: resource.StatePending,
		TokenIssuer: p.TokenIssuer()}
	for _, aa := range in.Resources {
		spec.Resources = append(spec.Resources, resource.RequestedResource{Account: aa.Account, PermissionSet: aa.PermissionSet})
	}
	now := s.now()
	if in.Start != nil {
		switch ahead := s.startAhead(); {
		case in.Start.Before(now.Add(-time.Minute)):
			return nil, nil, &resource.FieldError{Field: "spec.start", Message: "is in the past"}
		case in.Start.After(now.Add(ahead)):
			return nil, nil, &resource.FieldError{Field: "spec.start", Message: fmt.Sprintf("%s is more than %s ahead (requests.max_start_ahead); ask again closer to the time", in.Start.Format(time.RFC3339), ahead)}
		}
	}
	spec.Start = in.Start
	terms, err := s.terms(ctx, spec)
	if err != nil {
		return nil, nil, asBadRequest(err)
	}
	if len(terms.Resources) > 0 {
		spec.Resources = terms.Resources // stored resolved: account id and permission set ARN, with names
	}
	var notes []string
	if _, _, capped, err := access.Window(spec, terms, now); err != nil {
		return nil, nil, err
	} else if capped {
		notes = append(notes, fmt.Sprintf("duration %s is capped at %s, the longest your roles allow for %s", spec.Duration, terms.MaxDuration, terms.CappedBy))
		spec.Duration = terms.MaxDuration.String()
	}
	if spec.Duration == "" {
		spec.Duration = terms.MaxDuration.String()
	}
	notes = append(notes, fmt.Sprintf("needs %d approval(s); %d denial(s) deny it", terms.Approvals, terms.Denials))
	if note, err := s.credentialsNote(ctx, spec); err != nil {
		return nil, nil, err
	} else if note != "" {
		notes = append(notes, note)
	}
	return &resource.Object{Kind: resource.KindAccessRequest, Version: resource.Version, Spec: spec}, notes, nil
}

// credentialsNote is a new request's note on how long AWS credentials fetched during it stay valid.
func (s *Server) credentialsNote(ctx context.Context, spec *resource.AccessRequestSpec) (string, error) {
	cat, all, err := s.catalog(ctx)
	if err != nil {
		return "", err
	}
	items, err := policy.RequestItems(spec, cat)
	if err != nil {
		return "", nil
	}
	for _, name := range spec.Roles {
		if o := all[name]; o != nil {
			granted, _ := cat.RoleTargets(o.Spec.(*resource.RoleSpec))
			for _, t := range sortedTargets(granted) {
				if it, err := cat.Lookup(t.AccountID, t.PermissionSetARN); err == nil {
					items = append(items, it)
				}
			}
		}
	}
	durations, err := s.sessionDurations(ctx)
	if err != nil {
		return "", err
	}
	window, _ := time.ParseDuration(spec.Duration)
	return credentialsAtCreate(items, durations, window), nil
}

// createRequests makes p's requests, all or none: each is checked first (prepareRequest), then
// all are stored in one transaction. An error about one of several is wrapped in a
// manage.ItemError naming it (its index); for a single one it is the error itself.
func (s *Server) createRequests(ctx context.Context, p *auth.Principal, ins []RequestCreate) ([]RequestResponse, error) {
	objs := make([]*resource.Object, len(ins))
	out := make([]RequestResponse, len(ins))
	for i, in := range ins {
		o, notes, err := s.prepareRequest(ctx, p, in)
		if err != nil {
			if len(ins) > 1 {
				return nil, &manage.ItemError{Index: i, Err: err}
			}
			return nil, err
		}
		objs[i], out[i].Notes = o, notes
	}
	res, err := s.manage.Create(ctx, actor(p), objs)
	if err != nil {
		if len(ins) > 1 {
			return nil, err
		}
		return nil, unwrapSingle(err)
	}
	for i := range res {
		out[i].Request = res[i].Object
	}
	return out, nil
}

// asBadRequest makes a user-lookup failure (no such user: the token's user was deleted) a 400.
func asBadRequest(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return badRequest{err}
	}
	return err
}

// loadRequest reads a request, refreshing its state (a pending one past its TTL, an approved one past
// its end, is EXPIRED).
func (s *Server) loadRequest(ctx context.Context, id string) (*resource.Object, error) {
	o, err := s.store.Get(ctx, resource.KindAccessRequest, id)
	if err != nil {
		return nil, err
	}
	before := o.Clone()
	if access.Expire(o.Spec.(*resource.AccessRequestSpec), o.Metadata.CreatedAt, s.pending(), s.now()) {
		if err := s.writeRequest(ctx, "warden", "expire", "", before, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// reviewer is what deciding whether someone may review needs: the catalog and their roles, read
// once however many requests are judged.
type reviewer struct {
	p    *auth.Principal
	cat  *policy.Catalog
	all  map[string]*resource.Object
	held []*resource.Object
}

func (s *Server) reviewer(ctx context.Context, p *auth.Principal) (*reviewer, error) {
	cat, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	held, err := access.Roles(ctx, s.store, p.User, s.now())
	if err != nil && !errors.Is(err, store.ErrNotFound) { // the bootstrap administrator is no user
		return nil, err
	}
	return &reviewer{p, cat, all, rolesList(held)}, nil
}

// may says whether the reviewer may review the request.
func (rv *reviewer) may(req *resource.AccessRequestSpec) error {
	err := access.CanReview(req, rv.p.User, rv.held, rv.all, rv.cat)
	if err != nil && rv.p.Admin && !strings.EqualFold(rv.p.User, req.User) {
		return nil // administrators may review any request but their own
	}
	return err
}

// mayReview says whether p may review the request.
func (s *Server) mayReview(ctx context.Context, p *auth.Principal, req *resource.AccessRequestSpec) error {
	rv, err := s.reviewer(ctx, p)
	if err != nil {
		return err
	}
	return rv.may(req)
}

func (s *Server) requestShow(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	o, err := s.showRequest(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.showGrants(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// showRequest reads a request for p: its state refreshed (loadRequest), refused (403) unless p may
// read it (mayRead).
func (s *Server) showRequest(ctx context.Context, p *auth.Principal, id string) (*resource.Object, error) {
	o, err := s.loadRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	req := o.Spec.(*resource.AccessRequestSpec)
	if err := s.mayRead(ctx, p, req); err != nil {
		return nil, forbidden("%s may not read request %s: only its requester, those who may review it or reviewed it, and administrators do", p.User, o.Metadata.Name)
	}
	return o, nil
}

// mayRead says whether p may read a request: its requester, administrators, those who reviewed it
// and those who may review it.
func (s *Server) mayRead(ctx context.Context, p *auth.Principal, req *resource.AccessRequestSpec) error {
	if p.Admin || req.User == p.User {
		return nil
	}
	for _, rv := range req.Reviews {
		if strings.EqualFold(rv.Author, p.User) {
			return nil
		}
	}
	return s.mayReview(ctx, p, req)
}

// GrantState is an assignment an approved request grants and where it stands in Identity Center, as
// request show puts it in status.assignments.
type GrantState struct {
	reconcile.RequestGrant
	// State: granted, creating, revoking, failed (retried; Error says why) or pending (not yet made).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// showGrants puts in a request's status the assignments it grants (while its window is open) and
// their state in Identity Center, from the sync engine's last plan and its records.
func (s *Server) showGrants(ctx context.Context, o *resource.Object) error {
	out, err := s.grantStates(ctx, o.Metadata.Name)
	if err != nil || len(out) == 0 {
		return err
	}
	status := map[string]any{}
	if len(o.Status) > 0 {
		json.Unmarshal(o.Status, &status)
	}
	status["assignments"] = out
	if req := o.Spec.(*resource.AccessRequestSpec); req.End != nil {
		durations, err := s.sessionDurations(ctx)
		if err != nil {
			return err
		}
		status["credentials"] = credentialsNow(out, durations, *req.End, s.now())
	}
	b, err := json.Marshal(status)
	if err != nil {
		return err
	}
	o.Status = b
	return nil
}

// grantStates are the assignments the request id grants, as of the sync's last plan, and their
// state in Identity Center (none without a sync, or outside the request's window).
func (s *Server) grantStates(ctx context.Context, id string) ([]GrantState, error) {
	if s.sync == nil {
		return nil, nil
	}
	grants := s.sync.RequestGrants(id)
	if len(grants) == 0 {
		return nil, nil
	}
	out := make([]GrantState, 0, len(grants))
	for _, g := range grants {
		st := GrantState{RequestGrant: g, State: "pending"}
		rec, err := s.store.Get(ctx, resource.KindSyncRecord, g.Record)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			spec := rec.Spec.(*resource.SyncRecordSpec)
			switch {
			case spec.Op == "create":
				st.State = "creating"
			case spec.Op == "delete":
				st.State = "revoking"
			case spec.LastError != "":
				st.State, st.Error = "failed", spec.LastError
			default:
				st.State = "granted"
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// requestList answers a page of requests (ListResponse): the caller's own (mine=true, or always for
// one who is no administrator), or those they may review (to_review=true: pending ones), or, for an
// administrator, all; state filters. The store filters by user and state; only to_review judges
// requests one by one, and reads pages until it has a page of them.
func (s *Server) requestList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "state", "mine", "to_review", "limit", "after":
		default:
			s.fail(w, r, &resource.FieldError{Field: key, Message: "unknown filter (filters: state, mine, to_review, limit, after)"})
			return
		}
	}
	limit := DefaultPageSize
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageSize {
			s.fail(w, r, &resource.FieldError{Field: "limit", Message: fmt.Sprintf("%q is not a number from 1 to %d", l, MaxPageSize)})
			return
		}
		limit = n
	}
	opts := store.ListOptions{After: q.Get("after")}
	state := q.Get("state")
	if state != "" {
		st, err := ParseRequestState(state)
		if err != nil {
			s.fail(w, r, &resource.FieldError{Field: "state", Message: err.Error()})
			return
		}
		state = st
	}
	toReview := q.Get("to_review") == "true"
	if toReview {
		if state != "" && state != resource.StatePending {
			s.fail(w, r, &resource.FieldError{Field: "state", Message: "only PENDING requests are reviewed"})
			return
		}
		state = resource.StatePending
	}
	if state != "" {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexState, state)...)
	}
	if q.Get("mine") == "true" || (!p.Admin && !toReview) {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexUser, p.User)...)
	}
	var rv *reviewer
	if toReview {
		var err error
		if rv, err = s.reviewer(r.Context(), p); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	resp := ListResponse{Items: []*resource.Object{}}
	for {
		opts.Limit = limit + 1 // one more tells whether there is a next page
		objs, err := s.store.List(r.Context(), resource.KindAccessRequest, opts)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i, o := range objs[:min(len(objs), limit)] {
			opts.After = o.Metadata.Name
			req := o.Spec.(*resource.AccessRequestSpec)
			access.Expire(req, o.Metadata.CreatedAt, s.pending(), s.now()) // as shown; stored on the next write
			if toReview && (req.State != resource.StatePending || rv.may(req) != nil) {
				continue
			}
			resp.Items = append(resp.Items, o)
			if len(resp.Items) == limit {
				if i < len(objs)-1 {
					resp.Next = o.Metadata.Name
				}
				writeJSON(w, http.StatusOK, resp)
				return
			}
		}
		if len(objs) <= limit {
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
}

func (s *Server) requestReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in RequestReview
	if err := decodeBody(r, &in, "{\"decision\": \"APPROVE\"|\"DENY\", \"reason\": \"...\"}"); err != nil {
		s.fail(w, r, err)
		return
	}
	s.answerChange(w, r)(s.reviewRequest(r.Context(), p, r.PathValue("id"), in))
}

func (s *Server) requestCancel(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.answerChange(w, r)(s.cancelRequest(r.Context(), p, r.PathValue("id")))
}

func (s *Server) requestRevoke(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.answerChange(w, r)(s.revokeRequest(r.Context(), p, r.PathValue("id")))
}

// answerChange answers a request's change: the request as written, or the error.
func (s *Server) answerChange(w http.ResponseWriter, r *http.Request) func(*resource.Object, error) {
	return func(o *resource.Object, err error) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, RequestResponse{Request: o})
	}
}

// reviewRequest adds p's review to request id (mayReview, step-up to approve) and moves it on.
func (s *Server) reviewRequest(ctx context.Context, p *auth.Principal, id string, in RequestReview) (*resource.Object, error) {
	return s.changeRequest(ctx, p, id, "review", func(ctx context.Context, o *resource.Object) error {
		req := o.Spec.(*resource.AccessRequestSpec)
		if err := s.mayReview(ctx, p, req); err != nil {
			return forbidden("%s", err.Error())
		}
		if err := checkActingReviewer(p, req); err != nil { // tokens.go
			return err
		}
		if strings.EqualFold(in.Decision, resource.DecisionApprove) {
			if err := s.stepUp(p, "approving an access request"); err != nil {
				return err
			}
		}
		terms, err := s.terms(ctx, req)
		if err != nil {
			return fmt.Errorf("the requester may no longer make this request: %w", err)
		}
		_, err = access.Review(req, terms, resource.Review{Author: p.User, Decision: in.Decision, Reason: in.Reason, TokenIssuer: p.TokenIssuer()}, s.now())
		return err
	})
}

// cancelRequest ends request id early: its requester, or an administrator (step-up).
func (s *Server) cancelRequest(ctx context.Context, p *auth.Principal, id string) (*resource.Object, error) {
	return s.changeRequest(ctx, p, id, "cancel", func(ctx context.Context, o *resource.Object) error {
		req := o.Spec.(*resource.AccessRequestSpec)
		if req.User != p.User && !p.Admin {
			return forbidden("only %s (or an administrator) cancels this request", req.User)
		}
		if req.User != p.User {
			if err := s.stepUp(p, "cancelling someone else's request (an administrative change)"); err != nil {
				return err
			}
		}
		return access.Cancel(req, s.now())
	})
}

// revokeRequest ends request id early, as an administrator (step-up).
func (s *Server) revokeRequest(ctx context.Context, p *auth.Principal, id string) (*resource.Object, error) {
	return s.changeRequest(ctx, p, id, "revoke", func(ctx context.Context, o *resource.Object) error {
		if !p.Admin {
			return forbidden("only administrators revoke requests")
		}
		if err := s.stepUp(p, "revoking an access request (an administrative change)"); err != nil {
			return err
		}
		return access.Cancel(o.Spec.(*resource.AccessRequestSpec), s.now())
	})
}

// changeRequest reads a request, applies change, and writes it back if nobody changed it meanwhile
// (a lost race is tried again: two reviewers at once are both counted). It returns the request as
// written.
func (s *Server) changeRequest(ctx context.Context, p *auth.Principal, id, action string, change func(context.Context, *resource.Object) error) (*resource.Object, error) {
	for attempt := 0; ; attempt++ {
		o, err := s.loadRequest(ctx, id)
		if err != nil {
			return nil, err
		}
		before := o.Clone()
		if err := change(ctx, o); err != nil {
			return nil, err
		}
		if err := resource.Validate(o); err != nil {
			return nil, err
		}
		err = s.writeRequestEntry(ctx, p.Entry(audit.Entry{Action: action}), before, o)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return o, nil
	}
}

// KeepRequests keeps requests' states true until ctx ends. It writes EXPIRED on the requests whose
// window has ended, or whose reviews did not come within requests.pending_ttl; and it ends an
// approved request whose requester no longer may have what it grants (a role or membership that
// allowed it is gone, a deny now covers it), with end_reason and an audit entry saying why: when
// its window opens and at every change of users, roles, lists, memberships or the catalog during
// it. It wakes at each such change, at the next instant something is due, and every interval at the
// latest. Access does not wait for it: the sync revokes at an end's instant, and grants nothing for
// a request that has lost its basis (the same rule, policy.Entitle). Several replicas may run it;
// a request changed meanwhile is left to the next pass.
func (s *Server) KeepRequests(ctx context.Context, interval time.Duration) {
	rev, _ := s.store.Revision(ctx)
	watch := s.store.Watch(ctx, rev+1)
	// Two timers: due, in the server's clock, for the next instant something falls due (or the
	// interval); settle, in real time, lets a burst of store changes settle before a pass.
	due := s.clk().NewTimer(interval)
	defer due.Stop()
	settle := time.NewTimer(0)
	defer settle.Stop()
	var last time.Time // when the last pass ended, in real time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-watch.Events:
			if !ok {
				if ctx.Err() != nil {
					return
				}
				rev, _ = s.store.Revision(ctx)
				watch = s.store.Watch(ctx, rev+1)
				resetTimer(settle, 0)
				continue
			}
			if basisKinds[ev.Object.Kind] {
				resetTimer(settle, keepDebounce)
			}
			continue
		case <-due.C():
		case <-settle.C:
			if gap := keepMinGap - time.Since(last); gap > 0 {
				resetTimer(settle, gap) // changes keep coming: one pass a keepMinGap at most
				continue
			}
		}
		next, err := s.keepDue(ctx)
		last = time.Now()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("keeping access requests", "err", err)
		}
		wait := interval
		if !next.IsZero() {
			wait = min(wait, max(0, next.Sub(s.now())))
		}
		due.Reset(wait)
	}
}

// keepDebounce is how long KeepRequests lets a burst of store changes settle, and keepMinGap the
// least time between two passes that changes start (a pass judges every request in its window;
// the sync's compile applies the same rule at once, so the state written may lag by this much,
// the access itself does not).
const (
	keepDebounce = 50 * time.Millisecond
	keepMinGap   = time.Second
)

// basisKinds are the kinds whose changes may change a request's state or basis.
var basisKinds = map[resource.Kind]bool{
	resource.KindUser: true, resource.KindRole: true, resource.KindAccessList: true, resource.KindAccessListMember: true,
	resource.KindAccount: true, resource.KindPermissionSet: true, resource.KindAccessRequest: true,
}

func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

// keepDue expires what is due now, ends approved requests in their window that lost their basis,
// and returns the next instant something may be due.
func (s *Server) keepDue(ctx context.Context) (time.Time, error) {
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	var (
		cat      *policy.Catalog
		all      map[string]*resource.Object
		holdings = map[string]*policy.Holding{} // per requester, read once a pass
	)
	for _, state := range []string{resource.StateApproved, resource.StatePending} {
		objs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexState, state)})
		if err != nil {
			return next, err
		}
		for _, o := range objs {
			now := s.now()
			req := o.Spec.(*resource.AccessRequestSpec)
			before := o.Clone()
			action, why := "", ""
			switch {
			case access.Expire(req, o.Metadata.CreatedAt, s.pending(), now):
				action = "expire"
			case req.State == resource.StatePending:
				soonest(o.Metadata.CreatedAt.Add(s.pending()))
			case req.Start != nil && now.Before(*req.Start):
				soonest(*req.Start) // judged when it opens
			default: // approved, in its window
				if req.End != nil {
					soonest(*req.End)
				}
				if cat == nil {
					if cat, all, err = s.catalog(ctx); err != nil {
						return next, err
					}
				}
				h, lost, err := s.basis(ctx, req, cat, all, holdings, now)
				if err != nil {
					return next, err
				}
				if h != nil {
					soonest(h.Next)
				}
				if lost != nil {
					why = fmt.Sprintf("%s: %s may no longer have it: %v", policy.LostBasis, req.User, lost)
					if err := access.End(req, now, why); err != nil {
						return next, err
					}
					action = "revoke"
				}
			}
			if action == "" {
				continue
			}
			if err := s.writeRequest(ctx, "warden", action, why, before, o); err != nil {
				if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
					soonest(now) // changed meanwhile: look again at once
					continue
				}
				return next, err
			}
			if action == "revoke" {
				s.log.Info("access request ended: it lost its basis", "request", o.Metadata.Name, "user", req.User, "reason", why)
			}
		}
	}
	return next, nil
}

// basis judges an approved request against what its requester holds now: lost is why it may no
// longer be had (nil while it may), and h what they hold (nil when the user is gone).
// holdings caches what each requester holds for one pass (nil: the user no longer exists).
func (s *Server) basis(ctx context.Context, req *resource.AccessRequestSpec, cat *policy.Catalog, all map[string]*resource.Object, holdings map[string]*policy.Holding, now time.Time) (h *policy.Holding, lost error, err error) {
	h, seen := holdings[req.User]
	if !seen {
		h, err = access.Holdings(ctx, s.store, req.User, now)
		if errors.Is(err, store.ErrNotFound) {
			h, err = nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		holdings[req.User] = h
	}
	if h == nil {
		return nil, fmt.Errorf("the user no longer exists"), nil
	}
	held := make([]*resource.Object, 0, len(h.Roles))
	for _, n := range h.Roles {
		if r := all[n]; r != nil {
			held = append(held, r)
		}
	}
	_, _, lost = access.Entitle(req, held, all, cat)
	return h, lost, nil
}

// writeRequest stores a request's new state (if nobody changed it since it was read) with its audit
// entry, in one transaction.
func (s *Server) writeRequest(ctx context.Context, actor, action, detail string, before, after *resource.Object) error {
	return s.writeRequestEntry(ctx, audit.Entry{Actor: actor, Action: action, Detail: detail}, before, after)
}

// writeRequestEntry is writeRequest with the audit entry's actor, action and token given in e. The
// entry is timed by the workflow's clock, the one that judged the change.
func (s *Server) writeRequestEntry(ctx context.Context, e audit.Entry, before, after *resource.Object) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	return s.store.Txn(ctx, func(tx store.Tx) error {
		if err := tx.Update(ctx, after); err != nil {
			return err
		}
		e.Before, e.After = before, after
		return audit.Append(ctx, tx, e)
	})
}
