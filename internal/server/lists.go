package server

import (
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
func (s *Server) mayGovern(r *http.Request, p *auth.Principal, list string) error {
	o, err := s.store.Get(r.Context(), resource.KindAccessList, list)
	if err != nil {
		return err
	}
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
	ctx, list := r.Context(), r.PathValue("list")
	lo, err := s.store.Get(ctx, resource.KindAccessList, list)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	objs, err := s.store.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, list)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	for _, o := range objs {
		m := o.Spec.(*resource.AccessListMemberSpec)
		st := MembershipState{State: MemberActive}
		switch {
		case m.Expires != nil && !now.Before(*m.Expires):
			st = MembershipState{State: MemberExpired, Reason: "expired " + m.Expires.UTC().Format(time.RFC3339)}
		case m.Kind() == resource.MemberUser:
			u, err := s.store.Get(ctx, resource.KindUser, m.Member)
			switch {
			case errors.Is(err, store.ErrNotFound):
				st = MembershipState{State: MemberIneligible, Reason: "no such user"}
			case err != nil:
				s.fail(w, r, err)
				return
			default:
				if ok, why := policy.Eligible(lo.Spec.(*resource.AccessListSpec), u.Spec.(*resource.UserSpec)); !ok {
					st = MembershipState{State: MemberIneligible, Reason: why}
				}
			}
		}
		status := map[string]any{}
		if len(o.Status) > 0 {
			json.Unmarshal(o.Status, &status)
		}
		status["membership"] = st
		o.Status, _ = json.Marshal(status)
	}
	writeJSON(w, http.StatusOK, objs)
}

func (s *Server) memberAdd(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r, p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	var in MemberAdd
	if err := decodeBody(r, &in, "{\"member\": NAME, \"kind\": \"user\"|\"list\", \"expires\": TIME, \"reason\": TEXT}"); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Expires != nil && !in.Expires.After(s.now()) {
		s.fail(w, r, &resource.FieldError{Field: "spec.expires", Message: "is not in the future"})
		return
	}
	o := &resource.Object{Kind: resource.KindAccessListMember, Version: resource.Version,
		Spec: &resource.AccessListMemberSpec{List: list, Member: in.Member, MemberKind: in.Kind, Expires: in.Expires, Reason: in.Reason}}
	resource.Normalize(o)
	// Owners act with the rights of this one change: the manage layer checks references and cycles.
	res, err := s.manage.Create(r.Context(), actor(p), []*resource.Object{o})
	if err != nil {
		s.fail(w, r, unwrapSingle(err))
		return
	}
	writeJSON(w, http.StatusCreated, res[0].Object)
}

func (s *Server) memberRemove(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r, p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = resource.MemberUser
	}
	name := resource.MemberName(list, r.PathValue("member"), kind)
	o, err := s.manage.Delete(r.Context(), actor(p), resource.KindAccessListMember, name, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// listsList lists access lists; review_due=true keeps those whose periodic review is due.
func (s *Server) listsList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	objs, err := s.store.List(r.Context(), resource.KindAccessList, store.ListOptions{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	due := r.URL.Query().Get("review_due") == "true"
	out := []*resource.Object{}
	for _, o := range objs {
		if !due || access.ReviewDue(o.Spec.(*resource.AccessListSpec), s.now()) {
			out = append(out, o)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listReview records a periodic review: removes the named members, moves the next review date by
// the list's recurrence, and logs the review with its notes, all in one transaction.
func (s *Server) listReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r, p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	var in ListReview
	if err := decodeBody(r, &in, "{\"remove\": [MEMBER...], \"notes\": TEXT}"); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(in.Notes) == "" {
		s.fail(w, r, &resource.FieldError{Field: "notes", Message: "required: what the review found"})
		return
	}
	var updated *resource.Object
	err := s.store.Txn(r.Context(), func(tx store.Tx) error {
		lo, err := tx.Get(r.Context(), resource.KindAccessList, list)
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
			old, err := tx.Get(r.Context(), resource.KindAccessListMember, name)
			if errors.Is(err, store.ErrNotFound) {
				if old, err = tx.Get(r.Context(), resource.KindAccessListMember, resource.MemberName(list, m, resource.MemberList)); errors.Is(err, store.ErrNotFound) {
					return &resource.FieldError{Field: fmt.Sprintf("remove[%d]", i), Message: fmt.Sprintf("%q is not a member of %q", m, list)}
				}
			}
			if err != nil {
				return err
			}
			if _, err := tx.Delete(r.Context(), old.Kind, old.Metadata.Name, 0); err != nil {
				return err
			}
			entries = append(entries, p.Entry(audit.Entry{Action: "delete", Detail: "removed by the review of " + list, Before: old}))
		}
		now := s.now()
		next := access.NextAudit(l.Audit.Recurrence, now)
		l.Audit.NextAuditDate = &next
		if err := tx.Update(r.Context(), lo); err != nil {
			return err
		}
		entries = append(entries, p.Entry(audit.Entry{Action: "review", Detail: in.Notes, Before: before, After: lo}))
		updated = lo
		return audit.Append(r.Context(), tx, entries...)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}
