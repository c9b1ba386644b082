package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// MemberAdd adds a member (a user, or a list with kind "list") to an access list.
type MemberAdd struct {
	Member  string     `json:"member"`
	Kind    string     `json:"kind,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
	Reason  string     `json:"reason,omitempty"`
}

// ListReview records a periodic review of a list: the members removed, and the reviewer's notes.
type ListReview struct {
	Remove []string `json:"remove,omitempty"`
	Notes  string   `json:"notes"`
}

func (s *Server) listRoutes() {
	s.handle("GET /v1/access/lists", s.authed(s.listsList))
	s.handle("POST /v1/access/lists/{list}/review", s.authed(s.listReview))
	s.handle("GET /v1/access/lists/{list}/members", s.authed(s.membersList))
	s.handle("POST /v1/access/lists/{list}/members", s.authed(s.memberAdd))
	s.handle("DELETE /v1/access/lists/{list}/members/{member...}", s.authed(s.memberRemove))
}

// mayGovern: only a list's owners and administrators change its membership.
func (s *Server) mayGovern(ctx context.Context, p *auth.Principal, list string) error {
	o, err := s.store.Get(ctx, resource.KindAccessList, list)
	if err != nil {
		return err
	}
	return s.mayGovernList(p, o)
}

// mayGovernList is mayGovern for a list already read.
func (s *Server) mayGovernList(p *auth.Principal, o *resource.Object) error {
	list := o.Metadata.Name
	if slices.Contains(o.Spec.(*resource.AccessListSpec).Owners, p.User) {
		return nil
	}
	if p.Admin { // not an owner: an administrative change
		return s.stepUp(p, fmt.Sprintf("changing the members of %q as an administrator", list))
	}
	return forbidden("only the owners of %q (or an administrator) change its members", list)
}

// MembershipState is what the members listing says of each member, in its status.membership: active
// (synced to the list's Identity Center group), expired, or ineligible (kept, not synced: the user
// lacks what the list's membership_requires asks for, or does not exist), with the reason.
type MembershipState struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Membership states.
const (
	MemberActive     = "active"
	MemberExpired    = "expired"
	MemberIneligible = "ineligible"
)

func (s *Server) membersList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	_, objs, err := s.listMembers(r.Context(), r.PathValue("list"), store.ListOptions{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, objs)
}

// listMembers reads a list and its members (opts pages them; its list filter is added here), each
// member's state put in its status.membership.
func (s *Server) listMembers(ctx context.Context, list string, opts store.ListOptions) (*resource.Object, []*resource.Object, error) {
	lo, err := s.store.Get(ctx, resource.KindAccessList, list)
	if err != nil {
		return nil, nil, err
	}
	opts.Filters = append(store.Filter(resource.IndexList, list), opts.Filters...)
	objs, err := s.store.List(ctx, resource.KindAccessListMember, opts)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	for _, o := range objs {
		m := o.Spec.(*resource.AccessListMemberSpec)
		st, err := s.membershipState(ctx, lo.Spec.(*resource.AccessListSpec), m, now)
		if err != nil {
			return nil, nil, err
		}
		status := map[string]any{}
		if len(o.Status) > 0 {
			json.Unmarshal(o.Status, &status)
		}
		status["membership"] = st
		o.Status, _ = json.Marshal(status)
	}
	return lo, objs, nil
}

// membershipState is a member's state in list l at now.
func (s *Server) membershipState(ctx context.Context, l *resource.AccessListSpec, m *resource.AccessListMemberSpec, now time.Time) (MembershipState, error) {
	switch {
	case m.Expires != nil && !now.Before(*m.Expires):
		return MembershipState{State: MemberExpired, Reason: "expired " + m.Expires.UTC().Format(time.RFC3339)}, nil
	case m.Kind() == resource.MemberUser:
		u, err := s.store.Get(ctx, resource.KindUser, m.Member)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return MembershipState{State: MemberIneligible, Reason: "no such user"}, nil
		case err != nil:
			return MembershipState{}, err
		}
		if ok, why := policy.Eligible(l, u.Spec.(*resource.UserSpec)); !ok {
			return MembershipState{State: MemberIneligible, Reason: why}, nil
		}
	}
	return MembershipState{State: MemberActive}, nil
}

func (s *Server) memberAdd(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r.Context(), p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	var in MemberAdd
	if err := decodeBody(r, &in, "{\"member\": NAME, \"kind\": \"user\"|\"list\", \"expires\": TIME, \"reason\": TEXT}"); err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.addMember(r.Context(), p, list, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

// addMember adds a member to a list, as p (who may govern it: checked here too).
func (s *Server) addMember(ctx context.Context, p *auth.Principal, list string, in MemberAdd) (*resource.Object, error) {
	if err := s.mayGovern(ctx, p, list); err != nil {
		return nil, err
	}
	if in.Expires != nil && !in.Expires.After(s.now()) {
		return nil, &resource.FieldError{Field: "spec.expires", Message: "is not in the future"}
	}
	o := &resource.Object{Kind: resource.KindAccessListMember, Version: resource.Version,
		Spec: &resource.AccessListMemberSpec{List: list, Member: in.Member, MemberKind: in.Kind, Expires: in.Expires, Reason: in.Reason}}
	resource.Normalize(o)
	// Owners act with the rights of this one change: the manage layer checks references and cycles.
	res, err := s.manage.Create(ctx, actor(p), []*resource.Object{o})
	if err != nil {
		return nil, unwrapSingle(err)
	}
	return res[0].Object, nil
}

func (s *Server) memberRemove(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	o, err := s.removeMember(r.Context(), p, r.PathValue("list"), r.PathValue("member"), r.URL.Query().Get("kind"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// removeMember removes a member (kind user, the default, or list) from a list, as p.
func (s *Server) removeMember(ctx context.Context, p *auth.Principal, list, member, kind string) (*resource.Object, error) {
	if err := s.mayGovern(ctx, p, list); err != nil {
		return nil, err
	}
	if kind == "" {
		kind = resource.MemberUser
	}
	return s.manage.Delete(ctx, actor(p), resource.KindAccessListMember, resource.MemberName(list, member, kind), 0)
}

// listsList lists access lists; review_due=true keeps those whose periodic review is due.
func (s *Server) listsList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	out, err := s.accessLists(r.Context(), r.URL.Query().Get("review_due") == "true")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// accessLists reads every access list; due keeps those whose periodic review is due.
func (s *Server) accessLists(ctx context.Context, due bool) ([]*resource.Object, error) {
	objs, err := s.store.List(ctx, resource.KindAccessList, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := []*resource.Object{}
	for _, o := range objs {
		if !due || access.ReviewDue(o.Spec.(*resource.AccessListSpec), s.now()) {
			out = append(out, o)
		}
	}
	return out, nil
}

// listReview records a periodic review: removes the named members, moves the next review date by
// the list's recurrence, and logs the review with its notes, all in one transaction.
func (s *Server) listReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r.Context(), p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	var in ListReview
	if err := decodeBody(r, &in, "{\"remove\": [MEMBER...], \"notes\": TEXT}"); err != nil {
		s.fail(w, r, err)
		return
	}
	updated, err := s.reviewList(r.Context(), p, list, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

// reviewList records p's periodic review of a list (p may govern it: checked here too).
func (s *Server) reviewList(ctx context.Context, p *auth.Principal, list string, in ListReview) (*resource.Object, error) {
	if err := s.mayGovern(ctx, p, list); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Notes) == "" {
		return nil, &resource.FieldError{Field: "notes", Message: "required: what the review found"}
	}
	var updated *resource.Object
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		lo, err := tx.Get(ctx, resource.KindAccessList, list)
		if err != nil {
			return err
		}
		before := lo.Clone()
		l := lo.Spec.(*resource.AccessListSpec)
		if l.Audit == nil {
			return &resource.FieldError{Field: "spec.audit", Message: fmt.Sprintf("access list %q has no review schedule", list)}
		}
		var entries []audit.Entry
		for i, m := range in.Remove {
			name := resource.MemberName(list, m, resource.MemberUser)
			old, err := tx.Get(ctx, resource.KindAccessListMember, name)
			if errors.Is(err, store.ErrNotFound) {
				if old, err = tx.Get(ctx, resource.KindAccessListMember, resource.MemberName(list, m, resource.MemberList)); errors.Is(err, store.ErrNotFound) {
					return &resource.FieldError{Field: fmt.Sprintf("remove[%d]", i), Message: fmt.Sprintf("%q is not a member of %q", m, list)}
				}
			}
			if err != nil {
				return err
			}
			if _, err := tx.Delete(ctx, old.Kind, old.Metadata.Name, 0); err != nil {
				return err
			}
			entries = append(entries, p.Entry(audit.Entry{Action: "delete", Detail: "removed by the review of " + list, Before: old}))
		}
		now := s.now()
		next := access.NextAudit(l.Audit.Recurrence, now)
		l.Audit.NextAuditDate = &next
		if err := tx.Update(ctx, lo); err != nil {
			return err
		}
		entries = append(entries, p.Entry(audit.Entry{Action: "review", Detail: in.Notes, Before: before, After: lo}))
		updated = lo
		return audit.Append(ctx, tx, entries...)
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}
