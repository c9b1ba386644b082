package server

// Administration of users (/admin/users: a page of users, a search by the start of the name,
// invitations; /admin/users/{name}: disable or enable, sessions, API tokens) and the identity
// settings, read only (/admin/identity: the SAML identity provider, the OIDC connectors).

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

func (s *Server) uiAdminUserRoutes() {
	s.handle("GET /admin/users", s.uiAdmin(web.SectionAdmin, s.usersPage))
	s.handle("POST /admin/users/invite", s.uiAdmin(web.SectionAdmin, s.usersInvite))
	s.handle("GET /admin/users/{name}", s.uiAdmin(web.SectionAdmin, s.userPage))
	s.handle("POST /admin/users/{name}/disable", s.uiAdmin(web.SectionAdmin, s.userDisable))
	s.handle("POST /admin/users/{name}/sessions/revoke", s.uiAdmin(web.SectionAdmin, s.userSessionRevoke))
	s.handle("POST /admin/users/{name}/tokens/revoke", s.uiAdmin(web.SectionAdmin, s.userTokenRevoke))
	s.handle("GET /admin/identity", s.uiAdmin(web.SectionAdmin, s.identityPage))
}

// usersPageSize is a page of the users page.
const usersPageSize = 50

// usersPageData is the users page.
type usersPageData struct {
	Flash   string
	Problem string
	Q       string
	Users   []userRow
	Next    string
	Paged   bool
	Errors  map[string]string
	// InviteUser is the invitation form's value; Invite the invitation just made (its link shown
	// once, never put in a URL).
	InviteUser string
	Invite     *InviteResponse
	LocalOn    bool
	StepUpDone bool
}

type userRow struct {
	Name string
	*resource.UserSpec
}

func (s *Server) usersData(r *http.Request, p *auth.Principal) (usersPageData, error) {
	q := r.URL.Query()
	d := usersPageData{Flash: uiFlash(r), Q: strings.TrimSpace(q.Get("q")), LocalOn: s.local != nil, StepUpDone: s.stepUpFresh(p), Errors: map[string]string{}}
	if r.Method != http.MethodGet {
		d.Q = ""
	}
	after := q.Get("after")
	if len(d.Q) > maxSearchField {
		d.Errors["q"] = fmt.Sprintf("at most %d characters", maxSearchField)
		return d, nil
	}
	d.Paged = after != ""
	opts := store.ListOptions{After: after, Limit: usersPageSize + 1}
	var objs []*resource.Object
	if d.Q != "" && after == "" {
		// The first page of a search: the name itself, then the names after it that begin with it.
		if o, err := s.store.Get(r.Context(), resource.KindUser, d.Q); err == nil {
			objs = append(objs, o)
		} else if !errors.Is(err, store.ErrNotFound) {
			return d, err
		}
		opts.After = d.Q
	}
	more, err := s.store.List(r.Context(), resource.KindUser, opts)
	if err != nil {
		return d, err
	}
	objs = append(objs, more...)
	for _, o := range objs {
		if d.Q != "" && !strings.HasPrefix(o.Metadata.Name, d.Q) {
			break // names are sorted: the ones beginning with Q are together
		}
		if len(d.Users) == usersPageSize {
			v := url.Values{"after": {d.Users[len(d.Users)-1].Name}}
			if d.Q != "" {
				v.Set("q", d.Q)
			}
			d.Next = "/admin/users?" + v.Encode()
			break
		}
		d.Users = append(d.Users, userRow{Name: o.Metadata.Name, UserSpec: o.Spec.(*resource.UserSpec)})
	}
	return d, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	d, err := s.usersData(r, p)
	if err != nil {
		s.uiFail(w, r, "/admin", err)
		return
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	s.uiRender(w, r, status, "admin_users", d)
}

// usersInvite makes an enrolment link for an existing user (POST /v1/auth/invites' rules:
// administrator, local accounts on, step-up, a valid user name) and shows it once.
func (s *Server) usersInvite(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user := strings.TrimSpace(r.PostForm.Get("user"))
	d, err := s.usersData(r, p)
	if err != nil {
		s.uiFail(w, r, "/admin/users", err)
		return
	}
	d.InviteUser = user
	fail := func(msg string) {
		d.Errors["user"] = msg
		s.uiRender(w, r, http.StatusBadRequest, "admin_users", d)
	}
	switch {
	case s.local == nil:
		s.uiRender(w, r, http.StatusNotFound, "error", web.ErrorData{Title: "Not Found", Message: "Local accounts are not enabled on this server.", Back: "/admin/users"})
		return
	case user == "":
		fail("required")
		return
	case len(user) > maxSearchField || !resource.ValidUserName(user):
		fail(fmt.Sprintf("%s is not a user name", quoted(user)))
		return
	}
	if err := s.stepUp(p, "inviting a user (an administrative change)"); err != nil {
		s.uiFail(w, r, "/admin/users", err)
		return
	}
	inv, err := s.local.Accounts.Invite(r.Context(), actorOf(p), user)
	if err != nil {
		if fe, ok := uiFieldErrors(err); ok {
			for _, m := range fe {
				fail(m)
				return
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			fail(fmt.Sprintf("%s is not a user of warden: create the user first", quoted(user)))
			return
		}
		s.uiFail(w, r, "/admin/users", err)
		return
	}
	d.Invite = &InviteResponse{User: inv.User, Link: strings.TrimSuffix(s.local.BaseURL, "/") + "/enroll/" + inv.Token, Expires: inv.Expires}
	d.InviteUser = ""
	s.uiRender(w, r, http.StatusOK, "admin_users", d)
}

// userPageData is one user's page.
type userPageData struct {
	Flash      string
	Problem    string
	Name       string
	User       *resource.UserSpec
	Sessions   []SessionInfo
	Tokens     []TokenInfo
	TokensMore bool
	StepUpDone bool
	LocalOn    bool
	// Provisioned names the SCIM connector that owns the user (their profile and whether they
	// are enabled), when one does.
	Provisioned string
}

// userPageTokens bounds the tokens the user page lists.
const userPageTokens = 50

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	name := r.PathValue("name")
	o, err := s.store.Get(r.Context(), resource.KindUser, name)
	if err != nil {
		s.uiFail(w, r, "/admin/users", err)
		return
	}
	d := userPageData{Flash: uiFlash(r), Name: name, User: o.Spec.(*resource.UserSpec), StepUpDone: s.stepUpFresh(p), LocalOn: s.local != nil}
	if u := d.User; u.Upstream[u.Origin] != nil && u.Upstream[u.Origin].ID != "" {
		d.Provisioned, _ = resource.SCIMConnector(u.Origin)
	}
	if s.sessions != nil {
		list, err := s.sessions.List(r.Context(), name)
		if err != nil {
			s.uiFail(w, r, "/admin/users", err)
			return
		}
		for _, ss := range list {
			d.Sessions = append(d.Sessions, sessionInfo(ss, p))
		}
	}
	toks, err := s.tokens.List(r.Context(), name, "", userPageTokens+1)
	if err != nil {
		s.uiFail(w, r, "/admin/users", err)
		return
	}
	if len(toks) > userPageTokens {
		toks, d.TokensMore = toks[:userPageTokens], true
	}
	for _, t := range toks {
		d.Tokens = append(d.Tokens, s.tokenInfo(t, p))
	}
	s.uiRender(w, r, http.StatusOK, "admin_user", d)
}

func userPath(name string) string { return "/admin/users/" + url.PathEscape(name) }

// userDisable sets or clears the user's spec.disabled, as PUT /v1/users/{name} would (the same
// authorization, step-up included, and manage.Update, which audits it).
func (s *Server) userDisable(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	name := r.PathValue("name")
	back := userPath(name)
	var disable bool
	switch r.PostForm.Get("disabled") {
	case "true":
		disable = true
	case "false":
	default:
		s.uiFail(w, r, back, &resource.FieldError{Field: "disabled", Message: "true or false"})
		return
	}
	o, err := s.store.Get(r.Context(), resource.KindUser, name)
	if err == nil {
		err = s.authorizeWrite(p, verbUpdate, o)
	}
	if err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	spec := o.Spec.(*resource.UserSpec)
	if spec.Disabled == disable {
		uiRedirect(w, r, back, name+" was already "+map[bool]string{true: "disabled", false: "enabled"}[disable]+".")
		return
	}
	spec.Disabled = disable
	if err := s.manage.Update(r.Context(), actor(p), o); err != nil {
		s.uiFail(w, r, back, unwrapSingle(err))
		return
	}
	if disable {
		uiRedirect(w, r, back, name+" is disabled: they hold nothing (the sync takes their groups and assignments away) and warden makes no SAML assertion for them (sessions and tokens are not ended by this).")
		return
	}
	uiRedirect(w, r, back, name+" is enabled again.")
}

func (s *Server) userSessionRevoke(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	name := r.PathValue("name")
	if s.sessions == nil {
		s.uiFail(w, r, userPath(name), &store.ObjectError{Kind: resource.KindSession, Name: "", Err: store.ErrNotFound})
		return
	}
	id := r.PostForm.Get("id")
	ss, err := s.sessions.Get(r.Context(), id)
	if err == nil && ss.User != name {
		err = &store.ObjectError{Kind: resource.KindSession, Name: id, Err: store.ErrNotFound}
	}
	if err == nil {
		_, err = s.endSession(r.Context(), p, id)
	}
	if err != nil {
		s.uiFail(w, r, userPath(name), err)
		return
	}
	uiRedirect(w, r, userPath(name), "Session "+id+" of "+name+" ended.")
}

func (s *Server) userTokenRevoke(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	name := r.PathValue("name")
	id := r.PostForm.Get("id")
	o, err := s.tokens.Get(r.Context(), id)
	if err == nil && o.Spec.(*resource.APITokenSpec).User != name {
		err = &store.ObjectError{Kind: resource.KindAPIToken, Name: id, Err: store.ErrNotFound}
	}
	if err == nil {
		_, err = s.revokeTokenOf(r.Context(), p, id)
	}
	if err != nil {
		s.uiFail(w, r, userPath(name), err)
		return
	}
	uiRedirect(w, r, userPath(name), "API token "+id+" of "+name+" revoked.")
}

// identityPageData is the identity settings page.
type identityPageData struct {
	SAMLOn                  bool
	EntityID, SSOURL, MDURL string
	Keys                    []samlKeyRow
	Rotation                string
	SPs                     []spRow
	SPsMore                 bool
	OIDC                    []OIDCConnector
}

type samlKeyRow struct {
	samlidp.Key
	Role string
}

type spRow struct {
	Name, Description string
	*resource.SAMLServiceProviderSpec
	LoginURL string
}

// identitySPs bounds the service providers listed.
const identitySPs = 50

func (s *Server) identityPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	d := identityPageData{OIDC: s.OIDCConnectors()}
	if idp := s.SAML(); idp != nil {
		d.SAMLOn = true
		d.EntityID, d.SSOURL, d.MDURL = idp.EntityID(), idp.SSOURL(), "/saml/metadata"
		ks, err := idp.Keys().Current(r.Context())
		if err != nil {
			s.uiFail(w, r, "/admin", err)
			return
		}
		d.Keys = append(d.Keys, samlKeyRow{Key: ks.Active, Role: "active: signs every assertion"})
		switch {
		case ks.Next != nil:
			d.Keys = append(d.Keys, samlKeyRow{Key: *ks.Next, Role: "next: published in the metadata, not yet signing"})
			d.Rotation = "Rotating: the next key is published. Upload the metadata to Identity Center, then finish (warden saml rotate --finish)."
		case ks.Old != nil:
			d.Keys = append(d.Keys, samlKeyRow{Key: *ks.Old, Role: "old: still published, no longer signing"})
			d.Rotation = "Finishing: the old key is still published. Once Identity Center has the new metadata, clean up (warden saml rotate --cleanup)."
		default:
			d.Rotation = "Not rotating: one key (warden saml rotate begins a rotation)."
		}
		sps, err := s.store.List(r.Context(), resource.KindSAMLServiceProvider, store.ListOptions{Limit: identitySPs + 1})
		if err != nil {
			s.uiFail(w, r, "/admin", err)
			return
		}
		if len(sps) > identitySPs {
			sps, d.SPsMore = sps[:identitySPs], true
		}
		for _, o := range sps {
			d.SPs = append(d.SPs, spRow{Name: o.Metadata.Name, Description: o.Metadata.Description,
				SAMLServiceProviderSpec: o.Spec.(*resource.SAMLServiceProviderSpec), LoginURL: idp.LoginURL(o.Metadata.Name)})
		}
	}
	s.uiRender(w, r, http.StatusOK, "admin_identity", d)
}
