package server

import (
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
)

// AuditVerifyResponse is the outcome of checking the audit chain.
type AuditVerifyResponse struct {
	Entries int    `json:"entries"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

func (s *Server) auditRoutes() {
	s.handle("GET /v1/audit", s.authed(s.auditList))
	s.handle("GET /v1/audit/verify", s.authed(s.auditVerify))
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators read the audit log"))
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Kind: resource.Kind(q.Get("kind")), Token: q.Get("token")}
	if since := q.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			s.fail(w, r, &resource.FieldError{Field: "since", Message: "not an RFC 3339 time"})
			return
		}
		f.Since = t
	}
	entries, err := audit.List(r.Context(), s.store, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if entries == nil {
		entries = []*resource.AuditEntrySpec{}
	}
	writeJSON(w, http.StatusOK, entries)
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators verify the audit log"))
		return
	}
	n, err := audit.Verify(r.Context(), s.store)
	out := AuditVerifyResponse{Entries: n, OK: err == nil}
	if err != nil {
		out.Error = err.Error()
	}
	writeJSON(w, http.StatusOK, out)
}
