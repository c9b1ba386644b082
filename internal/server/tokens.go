package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
)

// API tokens: administrators issue them (POST /v1/tokens) for any user; every issue is audited
// (package auth).

// TokenRequest asks for an API token acting as User.
type TokenRequest struct {
	User string `json:"user"`
	// TTL in Go's form; default 720h.
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

// DefaultTokenTTL is a new token's lifetime when none is asked for (capped by tokens.max_ttl).
const DefaultTokenTTL = 720 * time.Hour

// MaxTokenTTL caps user tokens.
const MaxTokenTTL = 366 * 24 * time.Hour

func (s *Server) tokenRoutes() {
	s.handle("POST /v1/tokens", s.authed(s.createToken))
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
	var req TokenRequest
	if err := decodeBody(r, &req, `{"user": "...", "ttl": "720h"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.User == "" {
		s.fail(w, r, &resource.FieldError{Field: "user", Message: "required"})
		return
	}
	maxTTL := MaxTokenTTL
	ttl := min(DefaultTokenTTL, maxTTL)
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		switch {
		case err != nil || d < time.Second:
			s.fail(w, r, &resource.FieldError{Field: "ttl", Message: fmt.Sprintf("%s is not a duration from 1s to %s, like 720h", quoted(req.TTL), auth.FormatDuration(maxTTL))})
			return
		case d > maxTTL:
			s.fail(w, r, &resource.FieldError{Field: "ttl", Message: fmt.Sprintf("%s is longer than %s", req.TTL, auth.FormatDuration(maxTTL))})
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
