package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/auth"
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

func (s *Server) listRoutes() {
	s.handle("GET /v1/lists/{list}/members", s.authed(s.membersList))
	s.handle("POST /v1/lists/{list}/members", s.authed(s.memberAdd))
	s.handle("DELETE /v1/lists/{list}/members/{member...}", s.authed(s.memberRemove))
}

// mayGovern: only a list's owners and administrators change its membership.
func (s *Server) mayGovern(r *http.Request, p *auth.Principal, list string) error {
	o, err := s.store.Get(r.Context(), resource.KindAccessList, list)
	if err != nil {
		return err
	}
	if p.Admin || slices.Contains(o.Spec.(*resource.AccessListSpec).Owners, p.User) {
		return nil
	}
	return forbidden("only the owners of %q (or an administrator) change its members", list)
}

func (s *Server) membersList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if _, err := s.store.Get(r.Context(), resource.KindAccessList, list); err != nil {
		s.fail(w, r, err)
		return
	}
	objs, err := s.store.List(r.Context(), resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, list)})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, objs)
}

func (s *Server) memberAdd(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	if err := s.mayGovern(r, p, list); err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := readBody(r, MaxObjectBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in MemberAdd
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.fail(w, r, badRequest{fmt.Errorf("a member is {\"member\": NAME, \"kind\": \"user\"|\"list\", \"expires\": TIME, \"reason\": TEXT}: %w", err)})
		return
	}
	if in.Expires != nil && !in.Expires.After(time.Now()) {
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
