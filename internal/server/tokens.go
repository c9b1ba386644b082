package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
)

// API tokens: administrators issue them (POST /v1/tokens) for any user, for at most
// tokens.max_ttl; everyone lists (GET /v1/tokens) and revokes (DELETE /v1/tokens/{id}) their own,
// administrators anyone's. Every issue and revocation is audited (package auth). A listing never
// holds a secret or its hash.

// TokenRequest asks for an API token acting as User.
type TokenRequest struct {
	User string `json:"user"`
	// TTL in Go's form; default 720h (or tokens.max_ttl, when shorter), at most tokens.max_ttl.
	TTL string `json:"ttl,omitempty"`
}

// TokenResponse carries the new token, shown once.
type TokenResponse struct {
	Token   string    `json:"token"`
	User    string    `json:"user"`
	ID      string    `json:"id"`
	Expires time.Time `json:"expires,omitzero"`
	// Issuer is who issued it; OnBehalf, that the issuer is someone other than User.
	Issuer   string `json:"issuer,omitempty"`
	OnBehalf bool   `json:"on_behalf,omitempty"`
}

// TokenInfo is a token as a listing shows it: never its secret or the secret's hash.
type TokenInfo struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Issuer   string    `json:"issuer,omitempty"`
	OnBehalf bool      `json:"on_behalf,omitempty"`
	Admin    bool      `json:"admin,omitempty"` // a bootstrap admin token
	Created  time.Time `json:"created,omitzero"`
	Expires  time.Time `json:"expires,omitzero"`
	Expired  bool      `json:"expired,omitempty"`
	// Current: the token this listing was asked with.
	Current bool `json:"current,omitempty"`
}

// TokenList is a page of tokens; Next, when set, is the after of the next page.
type TokenList struct {
	Items []TokenInfo `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// DefaultTokenTTL is a new token's lifetime when none is asked for (capped by tokens.max_ttl).
const DefaultTokenTTL = 720 * time.Hour

// MaxTokenTTL is the longest tokens.max_ttl there can be.
const MaxTokenTTL = auth.MaxTTLLimit

// SetTokenMaxTTL caps the lifetime of user tokens (tokens.max_ttl; 0: auth.DefaultMaxTTL).
func (s *Server) SetTokenMaxTTL(d time.Duration) { s.tokens.SetMaxTTL(d) }

func (s *Server) tokenRoutes() {
	s.handle("POST /v1/tokens", s.authed(s.createToken))
	s.handle("GET /v1/tokens", s.authed(s.listTokens))
	s.handle("DELETE /v1/tokens/{id}", s.authed(s.revokeToken))
}

// quoted quotes an input for an error message, shortened if long.
func quoted(v string) string {
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return strconv.Quote(v)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, fmt.Errorf("only administrators create tokens for users: %w", errForbidden))
		return
	}
	if !s.requireStepUp(w, r, p, "creating a token (an administrative change)") {
		return
	}
	var req TokenRequest
	if err := decodeBody(r, &req, `{"user": "...", "ttl": "720h"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.User == "" {
		s.fail(w, r, &resource.FieldError{Field: "user", Message: "required"})
		return
	}
	maxTTL := s.tokens.MaxTTL()
	ttl := min(DefaultTokenTTL, maxTTL)
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		switch {
		case err != nil || d < time.Second:
			s.fail(w, r, &resource.FieldError{Field: "ttl", Message: fmt.Sprintf("%s is not a duration from 1s to %s, like 720h", quoted(req.TTL), auth.FormatDuration(maxTTL))})
			return
		case d > maxTTL:
			s.fail(w, r, &resource.FieldError{Field: "ttl", Message: fmt.Sprintf("%s is longer than %s, the most tokens.max_ttl allows", req.TTL, auth.FormatDuration(maxTTL))})
			return
		}
		ttl = d
	}
	token, o, err := s.tokens.Issue(r.Context(), p, req.User, ttl)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	spec := o.Spec.(*resource.APITokenSpec)
	writeJSON(w, http.StatusCreated, TokenResponse{Token: token, User: spec.User, ID: o.Metadata.Name, Expires: spec.Expires, Issuer: spec.Issuer, OnBehalf: spec.OnBehalf})
}

func (s *Server) tokenInfo(o *resource.Object, p *auth.Principal) TokenInfo {
	spec := o.Spec.(*resource.APITokenSpec)
	return TokenInfo{ID: o.Metadata.Name, User: spec.User, Issuer: spec.Issuer, OnBehalf: spec.OnBehalf, Admin: spec.Admin,
		Created: o.Metadata.CreatedAt, Expires: spec.Expires, Expired: !spec.Expires.IsZero() && !s.now().Before(spec.Expires),
		Current: p != nil && o.Metadata.Name == p.TokenID}
}

// listTokens lists tokens: an administrator's listing holds everyone's (or user's, with ?user=),
// anyone else's only their own.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "user", "limit", "after":
		default:
			s.fail(w, r, &resource.FieldError{Field: key, Message: "tokens are listed with user, limit and after"})
			return
		}
	}
	user := q.Get("user")
	if !p.Admin {
		if user != "" && user != p.User {
			s.fail(w, r, forbidden("%s may list only their own tokens", p.User))
			return
		}
		user = p.User
	}
	limit := DefaultPageSize
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageSize {
			s.fail(w, r, &resource.FieldError{Field: "limit", Message: fmt.Sprintf("%s is not a number from 1 to %d", quoted(l), MaxPageSize)})
			return
		}
		limit = n
	}
	objs, err := s.tokens.List(r.Context(), user, q.Get("after"), limit+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := TokenList{Items: []TokenInfo{}}
	if len(objs) > limit {
		objs = objs[:limit]
		out.Next = objs[limit-1].Metadata.Name
	}
	for _, o := range objs {
		out.Items = append(out.Items, s.tokenInfo(o, p))
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeToken revokes a token: administrators any, everyone else their own.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	old, err := s.revokeTokenOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.tokenInfo(old, nil))
}

// revokeTokenOf revokes token id for p: administrators any (someone else's needs step-up), everyone
// else their own: DELETE /v1/tokens/{id} and the user page's "Revoke".
func (s *Server) revokeTokenOf(ctx context.Context, p *auth.Principal, id string) (*resource.Object, error) {
	o, err := s.tokens.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.Admin && o.Spec.(*resource.APITokenSpec).User != p.User {
		return nil, forbidden("%s may revoke only their own tokens", p.User)
	}
	if o.Spec.(*resource.APITokenSpec).User != p.User {
		if err := s.stepUp(p, "revoking someone else's token (an administrative change)"); err != nil {
			return nil, err
		}
	}
	return s.tokens.Revoke(ctx, p, id)
}

// persons are the people answerable for an act: its user and, for a token a named administrator
// minted for that user, the administrator (see auth.Principal.Accountable).
func persons(user, tokenIssuer string) []string {
	out := []string{user}
	if tokenIssuer != "" && tokenIssuer != auth.BootstrapUser && !strings.EqualFold(tokenIssuer, user) {
		out = append(out, tokenIssuer)
	}
	return out
}

func sharePerson(a, b []string) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				return x, true
			}
		}
	}
	return "", false
}

// checkActingReviewer keeps a token minted for someone else from defeating the review rules:
// nobody reviews a request they made (in their own name, or through a token they minted for the
// requester), and one person's reviews count once however many users' tokens they hold.
func checkActingReviewer(p *auth.Principal, req *resource.AccessRequestSpec) error {
	me := persons(p.User, p.TokenIssuer())
	if who, ok := sharePerson(me, persons(req.User, req.TokenIssuer)); ok {
		return forbidden("nobody reviews their own request: %s made this one or minted the token it is reviewed with", who)
	}
	for i, rv := range req.Reviews {
		if who, ok := sharePerson(me, persons(rv.Author, rv.TokenIssuer)); ok {
			return forbidden("%s has reviewed this request already (review %d, by %s): one person reviews once, whoever's token they use", who, i+1, rv.Author)
		}
	}
	return nil
}
