package server

// The SCIM service provider (package scim) at /scim/v2/, for the company's identity provider:
//
//	/scim/v2/...              the connector's bearer token (package scim authenticates it)
//	POST /v1/scim/tokens      administrators (step-up): make or replace a connector's token
//
// A user a connector deactivates is deprovisioned at once (deprovision): their browser sessions
// end, their API and CLI tokens are revoked, their pending requests cancelled and approved ones
// ended (so the sync takes the assignments away), each audited as scim:<connector>.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/scim"
	"github.com/wardenhq/warden/internal/store"
)

// SetSCIMConnectors turns the SCIM service provider on for these connectors (validated by the
// config).
func (s *Server) SetSCIMConnectors(connectors []scim.Config) {
	svc := scim.New(s.store, connectors, scim.Hooks{Deprovision: s.deprovision}, s.log)
	svc.SetClock(s.now)
	s.scimIn = svc
}

// SCIMService is the SCIM service provider (nil: off).
func (s *Server) SCIMService() *scim.Service { return s.scimIn }

func (s *Server) scimRoutes() {
	s.mux.HandleFunc("/scim/v2/", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if s.scimIn == nil {
			sw.Header().Set("Content-Type", scim.ContentType)
			sw.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(sw, `{"schemas":[%q],"status":"404","detail":"SCIM is off on this warden: the config file has no scim.connectors"}`+"\n", scim.SchemaError)
		} else {
			s.scimIn.ServeHTTP(sw, r)
		}
		s.metrics.requests.WithLabelValues(r.Method, "/scim/v2/", strconv.Itoa(sw.code)).Inc()
		s.metrics.latency.WithLabelValues(r.Method, "/scim/v2/").Observe(time.Since(start).Seconds())
	})
	s.handle("POST /v1/scim/tokens", s.authed(s.scimToken))
}

// SCIMTokenRequest asks for a connector's token.
type SCIMTokenRequest struct {
	Connector string `json:"connector"`
}

// SCIMTokenResponse is the new token, shown once.
type SCIMTokenResponse struct {
	Connector string `json:"connector"`
	Token     string `json:"token"`
	// Replaced says the connector had a token, which no longer works.
	Replaced bool `json:"replaced"`
}

func (s *Server) scimToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators make SCIM connector tokens"))
		return
	}
	if !s.requireStepUp(w, r, p, "making a SCIM connector's token (an administrative change)") {
		return
	}
	if s.scimIn == nil {
		writeError(w, http.StatusNotFound, errors.New("SCIM is off on this warden: the config file has no scim.connectors"))
		return
	}
	var req SCIMTokenRequest
	if err := decodeBody(r, &req, `{"connector": "<name>"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	_, err := s.store.Get(r.Context(), resource.KindSCIMToken, req.Connector)
	replaced := err == nil
	token, err := s.scimIn.CreateToken(r.Context(), req.Connector, actor(p))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SCIMTokenResponse{Connector: req.Connector, Token: token, Replaced: replaced})
}

// deprovision ends what a user a SCIM connector just disabled could still use: their sessions,
// their API and CLI tokens, and their requests (pending ones cancelled, approved ones ended, so
// the sync takes the assignments away at once), each audited as actor.
func (s *Server) deprovision(ctx context.Context, user, actor string) error {
	by := &auth.Principal{User: actor}
	if _, err := s.sessions.EndAllBy(ctx, by, user); err != nil {
		return fmt.Errorf("ending %s's sessions: %w", user, err)
	}
	toks, err := s.tokens.List(ctx, user, "", 0)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if _, err := s.tokens.Revoke(ctx, by, t.Metadata.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoking %s's token %s: %w", user, t.Metadata.Name, err)
		}
	}
	reqs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexUser, user)})
	if err != nil {
		return err
	}
	why := fmt.Sprintf("%s was disabled by the identity provider (%s)", user, actor)
	for _, o := range reqs {
		for attempt := 0; ; attempt++ {
			req := o.Spec.(*resource.AccessRequestSpec)
			now := s.now()
			if req.State != resource.StatePending && (req.State != resource.StateApproved || (req.End != nil && !now.Before(*req.End))) {
				break
			}
			before, action := o.Clone(), "revoke"
			if req.State == resource.StatePending {
				action = "cancel"
			}
			if err := access.End(req, now, why); err != nil {
				return err
			}
			err := s.writeRequest(ctx, actor, action, why, before, o)
			if errors.Is(err, store.ErrConflict) && attempt < 5 {
				if o, err = s.store.Get(ctx, resource.KindAccessRequest, o.Metadata.Name); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("ending %s's request %s: %w", user, o.Metadata.Name, err)
			}
			break
		}
	}
	return nil
}
