package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
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

func (s *Server) now() time.Time { return time.Now() }

// SetPendingTTL sets how long a request waits for its reviews (zero: access.DefaultPendingTTL).
func (s *Server) SetPendingTTL(d time.Duration) { s.pendingTTL = d }

func (s *Server) pending() time.Duration {
	if s.pendingTTL > 0 {
		return s.pendingTTL
	}
	return access.DefaultPendingTTL
}

// catalog is what the rules need to know about accounts and roles.
func (s *Server) catalog(ctx context.Context) ([]access.Account, map[string]*resource.Object, error) {
	accounts, err := s.store.List(ctx, resource.KindAccount, store.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	var out []access.Account
	for _, a := range accounts {
		out = append(out, access.Account{ID: a.Metadata.Name, Name: a.Spec.(*resource.AccountSpec).Name})
	}
	roles, err := s.store.List(ctx, resource.KindRole, store.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	all := make(map[string]*resource.Object, len(roles))
	for _, r := range roles {
		all[r.Metadata.Name] = r
	}
	return out, all, nil
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
	accounts, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	held, err := access.Roles(ctx, s.store, req.User, s.now())
	if err != nil {
		return nil, err
	}
	return access.CheckRequest(req, rolesList(held), all, accounts)
}

func (s *Server) requestCreate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in RequestCreate
	if err := decodeBody(r, &in, "{\"roles\": [...]} or {\"resources\": [{\"account\", \"permission_set\"}]}, with reason, duration, start"); err != nil {
		s.fail(w, r, err)
		return
	}
	spec := &resource.AccessRequestSpec{User: p.User, Roles: in.Roles, Resources: in.Resources, Reason: in.Reason, Duration: in.Duration, State: resource.StatePending,
		TokenIssuer: p.TokenIssuer()}
	now := s.now()
	if in.Start != nil && in.Start.Before(now.Add(-time.Minute)) {
		s.fail(w, r, &resource.FieldError{Field: "spec.start", Message: "is in the past"})
		return
	}
	spec.Start = in.Start
	terms, err := s.terms(r.Context(), spec)
	if err != nil {
		s.fail(w, r, asBadRequest(err))
		return
	}
	var notes []string
	if _, _, capped, err := access.Window(spec, terms, now); err != nil {
		s.fail(w, r, err)
		return
	} else if capped {
		notes = append(notes, fmt.Sprintf("duration %s is capped at %s, the longest your roles allow", spec.Duration, terms.MaxDuration))
		spec.Duration = terms.MaxDuration.String()
	}
	if spec.Duration == "" {
		spec.Duration = terms.MaxDuration.String()
	}
	notes = append(notes, fmt.Sprintf("needs %d approval(s); %d denial(s) deny it", terms.Approvals, terms.Denials))
	o := &resource.Object{Kind: resource.KindAccessRequest, Version: resource.Version, Spec: spec}
	res, err := s.manage.Create(r.Context(), actor(p), []*resource.Object{o})
	if err != nil {
		s.fail(w, r, unwrapSingle(err))
		return
	}
	writeJSON(w, http.StatusCreated, RequestResponse{Request: res[0].Object, Notes: notes})
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
		if err := s.writeRequest(ctx, "warden", "expire", before, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// reviewer is what deciding whether someone may review needs: the catalog and their roles, read
// once however many requests are judged.
type reviewer struct {
	p        *auth.Principal
	accounts []access.Account
	all      map[string]*resource.Object
	held     []*resource.Object
}

func (s *Server) reviewer(ctx context.Context, p *auth.Principal) (*reviewer, error) {
	accounts, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	held, err := access.Roles(ctx, s.store, p.User, s.now())
	if err != nil && !errors.Is(err, store.ErrNotFound) { // the bootstrap administrator is no user
		return nil, err
	}
	return &reviewer{p, accounts, all, rolesList(held)}, nil
}

// may says whether the reviewer may review the request.
func (rv *reviewer) may(req *resource.AccessRequestSpec) error {
	err := access.CanReview(req, rv.p.User, rv.held, rv.all, rv.accounts)
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
	o, err := s.loadRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := o.Spec.(*resource.AccessRequestSpec)
	if !p.Admin && req.User != p.User {
		if err := s.mayReview(r.Context(), p, req); err != nil && len(req.Reviews) == 0 {
			s.fail(w, r, forbidden("%s may not read request %s", p.User, o.Metadata.Name))
			return
		}
	}
	if err := s.showGrants(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
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
	if s.sync == nil {
		return nil
	}
	grants := s.sync.RequestGrants(o.Metadata.Name)
	if len(grants) == 0 {
		return nil
	}
	out := make([]GrantState, 0, len(grants))
	for _, g := range grants {
		st := GrantState{RequestGrant: g, State: "pending"}
		rec, err := s.store.Get(ctx, resource.KindSyncRecord, g.Record)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
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
	status := map[string]any{}
	if len(o.Status) > 0 {
		json.Unmarshal(o.Status, &status)
	}
	status["assignments"] = out
	b, err := json.Marshal(status)
	if err != nil {
		return err
	}
	o.Status = b
	return nil
}

func (s *Server) requestList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	opts := store.ListOptions{}
	if st := q.Get("state"); st != "" {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexState, st)...)
	}
	toReview := q.Get("to_review") == "true"
	if toReview && q.Get("state") == "" {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexState, resource.StatePending)...) // only those are reviewed
	}
	if q.Get("mine") == "true" {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexUser, p.User)...)
	}
	objs, err := s.store.List(r.Context(), resource.KindAccessRequest, opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rv *reviewer
	if toReview {
		if rv, err = s.reviewer(r.Context(), p); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	out := []*resource.Object{}
	for _, o := range objs {
		req := o.Spec.(*resource.AccessRequestSpec)
		access.Expire(req, o.Metadata.CreatedAt, s.pending(), s.now()) // as shown; stored on the next write
		switch {
		case toReview:
			if req.State != resource.StatePending || rv.may(req) != nil {
				continue
			}
		case p.Admin || req.User == p.User:
		default:
			continue
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) requestReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in RequestReview
	if err := decodeBody(r, &in, "{\"decision\": \"APPROVE\"|\"DENY\", \"reason\": \"...\"}"); err != nil {
		s.fail(w, r, err)
		return
	}
	s.changeRequest(w, r, p, "review", func(ctx context.Context, o *resource.Object) error {
		req := o.Spec.(*resource.AccessRequestSpec)
		if err := s.mayReview(ctx, p, req); err != nil {
			return forbidden("%s", err.Error())
		}
		if err := checkActingReviewer(p, req); err != nil { // tokens.go
			return err
		}
		terms, err := s.terms(ctx, req)
		if err != nil {
			return fmt.Errorf("the requester may no longer make this request: %w", err)
		}
		_, err = access.Review(req, terms, resource.Review{Author: p.User, Decision: in.Decision, Reason: in.Reason, TokenIssuer: p.TokenIssuer()}, s.now())
		return err
	})
}

func (s *Server) requestCancel(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.changeRequest(w, r, p, "cancel", func(ctx context.Context, o *resource.Object) error {
		req := o.Spec.(*resource.AccessRequestSpec)
		if req.User != p.User && !p.Admin {
			return forbidden("only %s (or an administrator) cancels this request", req.User)
		}
		return access.Cancel(req, s.now())
	})
}

func (s *Server) requestRevoke(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.changeRequest(w, r, p, "revoke", func(ctx context.Context, o *resource.Object) error {
		if !p.Admin {
			return forbidden("only administrators revoke requests")
		}
		return access.Cancel(o.Spec.(*resource.AccessRequestSpec), s.now())
	})
}

// changeRequest reads a request, applies change, and writes it back if nobody changed it meanwhile
// (a lost race is tried again: two reviewers at once are both counted).
func (s *Server) changeRequest(w http.ResponseWriter, r *http.Request, p *auth.Principal, action string, change func(context.Context, *resource.Object) error) {
	ctx := r.Context()
	for attempt := 0; ; attempt++ {
		o, err := s.loadRequest(ctx, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		before := o.Clone()
		if err := change(ctx, o); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := resource.Validate(o); err != nil {
			s.fail(w, r, err)
			return
		}
		err = s.writeRequestEntry(ctx, p.Entry(audit.Entry{Action: action}), before, o)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, RequestResponse{Request: o})
		return
	}
}

// writeRequest stores a request's new state (if nobody changed it since it was read) with its audit
// entry, in one transaction.
// ExpireRequests writes EXPIRED on the requests whose window has ended, or whose reviews did not come
// within requests.pending_ttl, every interval until ctx ends. Reading a request expires it too, but
// nothing else would: without this, ended requests would stay APPROVED in the store, and the sync
// and the notifier, which list approved and pending requests, would carry them forever. Access does
// not wait for it: the sync revokes at the end's instant. Several replicas may run it; a request
// changed meanwhile is left to the next pass.
func (s *Server) ExpireRequests(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.expireDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("expiring requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireDue expires what is due now and says how many it expired.
func (s *Server) expireDue(ctx context.Context) (int, error) {
	n := 0
	for _, state := range []string{resource.StateApproved, resource.StatePending} {
		objs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexState, state)})
		if err != nil {
			return n, err
		}
		for _, o := range objs {
			before := o.Clone()
			if !access.Expire(o.Spec.(*resource.AccessRequestSpec), o.Metadata.CreatedAt, s.pending(), s.now()) {
				continue
			}
			if err := s.writeRequest(ctx, "warden", "expire", before, o); err != nil {
				if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
					continue // changed meanwhile: the next pass sees it as it is now
				}
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (s *Server) writeRequest(ctx context.Context, actor, action string, before, after *resource.Object) error {
	return s.writeRequestEntry(ctx, audit.Entry{Actor: actor, Action: action}, before, after)
}

// writeRequestEntry is writeRequest with the audit entry's actor, action and token given in e.
func (s *Server) writeRequestEntry(ctx context.Context, e audit.Entry, before, after *resource.Object) error {
	return s.store.Txn(ctx, func(tx store.Tx) error {
		if err := tx.Update(ctx, after); err != nil {
			return err
		}
		e.Before, e.After = before, after
		return audit.Append(ctx, tx, e)
	})
}
