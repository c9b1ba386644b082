package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/integration"
)

// SCIMTokenStatus is GET /v1/integration/scim-token: how warden writes Identity Center's directory,
// and the SCIM tokens it holds (never the tokens themselves).
type SCIMTokenStatus struct {
	Directory string                      `json:"directory"`
	Tokens    []integration.SCIMTokenInfo `json:"tokens"`
	// Warnings: a token expiring within 30 days, or none held in SCIM mode.
	Warnings []string `json:"warnings,omitempty"`
}

// SCIMTokenSet is the body of PUT /v1/integration/scim-token.
type SCIMTokenSet struct {
	Token string `json:"token"`
	// Expires is when Identity Center stops taking it (RFC 3339, or a date); empty: a year from now,
	// Identity Center's token life.
	Expires string `json:"expires,omitempty"`
}

// SCIMTestResult is POST /v1/integration/scim-test.
type SCIMTestResult struct {
	OK bool `json:"ok"`
	// Token is the position of the token that worked (1: the newest).
	Token int    `json:"token,omitempty"`
	Error string `json:"error,omitempty"`
}

// SetSCIM gives the server the key that seals the SCIM tokens set through the API (the auth key),
// and says whether a token comes from the config too.
func (s *Server) SetSCIM(b *secret.Box, configured bool) { s.scimBox, s.scimConfigured = b, configured }

func (s *Server) scimTokenRoutes() {
	s.handle("GET /v1/integration/scim-token", s.authed(s.scimTokenStatus))
	s.handle("PUT /v1/integration/scim-token", s.authed(s.scimTokenSet))
	s.handle("POST /v1/integration/scim-test", s.authed(s.scimTest))
}

var errNotSCIM = errors.New("identity_center.directory is not scim: warden writes Identity Center's directory through the identitystore API, and holds no SCIM token")

// SCIMTokenWarnings says what an operator must act on about the SCIM tokens: none held in SCIM
// mode, or one expiring within 30 days (or expired).
func SCIMTokenWarnings(directory string, tokens []integration.SCIMTokenInfo, configured bool, now time.Time) []string {
	var out []string
	if directory == idc.DirectorySCIM && len(tokens) == 0 && !configured {
		out = append(out, "no SCIM token: generate one in Identity Center's console (Settings, Automatic provisioning) and give it to `warden integration scim-token set`")
	}
	for _, t := range tokens {
		switch {
		case !t.Expires.After(now):
			out = append(out, fmt.Sprintf("SCIM token %s expired on %s: Identity Center refuses it; generate a new one and give it to `warden integration scim-token set`", t.ID, t.Expires.Format(time.DateOnly)))
		case t.Expiring:
			out = append(out, fmt.Sprintf("SCIM token %s expires on %s (in %d days): generate a new one in Identity Center's console and give it to `warden integration scim-token set`",
				t.ID, t.Expires.Format(time.DateOnly), int(t.Expires.Sub(now).Hours()/24)))
		}
	}
	return out
}

func (s *Server) scimTokenStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) {
		return
	}
	now := s.now()
	tokens, err := integration.SCIMTokenInfos(r.Context(), s.store, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dir := s.sync.Client().Dir().Kind()
	writeJSON(w, http.StatusOK, SCIMTokenStatus{Directory: dir, Tokens: tokens, Warnings: SCIMTokenWarnings(dir, tokens, s.scimConfigured, now)})
}

func (s *Server) scimTokenSet(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) || !s.requireStepUp(w, r, p, "setting Identity Center's SCIM token (an administrative change)") {
		return
	}
	if s.sync.Client().Dir().Kind() != idc.DirectorySCIM || s.scimBox == nil {
		writeError(w, http.StatusConflict, errNotSCIM)
		return
	}
	b, err := readBody(r, 64<<10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req SCIMTokenSet
	if err := decodeJSON(b, &req, `{"token": "...", "expires": "2027-11-30" (optional)}`); err != nil {
		s.fail(w, r, err)
		return
	}
	var expires time.Time
	if req.Expires != "" {
		if expires, err = time.Parse(time.RFC3339, req.Expires); err != nil {
			if expires, err = time.Parse(time.DateOnly, req.Expires); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("expires: %q is not a date (2027-11-30) or an RFC 3339 time", req.Expires))
				return
			}
		}
	}
	info, err := integration.SetSCIMToken(r.Context(), s.store, s.scimBox, p.User, req.Token, expires, s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) scimTest(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) {
		return
	}
	d, ok := s.sync.Client().Dir().(*idc.SCIMDirectory)
	if !ok {
		writeError(w, http.StatusConflict, errNotSCIM)
		return
	}
	n, err := d.TestConnection(r.Context())
	if err != nil {
		writeJSON(w, http.StatusOK, SCIMTestResult{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, SCIMTestResult{OK: true, Token: n})
}
