package server

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
)

// AuditVerifyResponse is the outcome of checking the audit chain (and, when asked, that it still
// holds an exported head).
type AuditVerifyResponse struct {
	Entries int    `json:"entries"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
	// Head is where the log ends now (SEQ:HASH).
	Head string `json:"head,omitempty"`
	// ExpectedHead is the exported head checked for, when one was given.
	ExpectedHead string `json:"expected_head,omitempty"`
}

// AuditHeadResponse is where the log ends, for export: Head is SEQ:HASH.
type AuditHeadResponse struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Alg  string `json:"alg,omitempty"`
	Head string `json:"head"`
}

func (s *Server) auditRoutes() {
	s.handle("GET /v1/audit", s.authed(s.auditList))
	s.handle("GET /v1/audit/verify", s.authed(s.auditVerify))
	s.handle("GET /v1/audit/head", s.authed(s.auditHead))
}

func (s *Server) auditHead(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators read the audit head"))
		return
	}
	h, err := audit.ReadHead(r.Context(), s.store)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AuditHeadResponse{Seq: h.Seq, Hash: h.Hash, Alg: h.Alg, Head: h.String()})
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators read the audit log"))
		return
	}
	f, err := parseAuditFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
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

// parseAuditFilter reads the API's audit filter: actor, token, kind, since (RFC 3339).
func parseAuditFilter(q url.Values) (audit.Filter, error) {
	f := audit.Filter{Actor: q.Get("actor"), Token: q.Get("token")}
	if v := q.Get("kind"); v != "" {
		k, err := ParseAuditKind(v)
		if err != nil {
			return f, &resource.FieldError{Field: "kind", Message: err.Error()}
		}
		f.Kind = k
	}
	if since := q.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return f, &resource.FieldError{Field: "since", Message: "not an RFC 3339 time"}
		}
		f.Since = t
	}
	return f, nil
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Admin {
		s.fail(w, r, forbidden("only administrators verify the audit log"))
		return
	}
	out, err := s.auditVerifyResult(r.Context(), r.URL.Query().Get("expect_head"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// auditVerifyResult walks the chain (and checks it still holds expectHead, SEQ:HASH, when given):
// the API's /v1/audit/verify and the audit page's button. A broken chain is a result, not an error.
func (s *Server) auditVerifyResult(ctx context.Context, expectHead string) (AuditVerifyResponse, error) {
	var opts []audit.VerifyOption
	out := AuditVerifyResponse{}
	if expectHead != "" {
		h, err := audit.ParseHead(expectHead)
		if err != nil {
			return out, &resource.FieldError{Field: "expect_head", Message: err.Error()}
		}
		opts = append(opts, audit.ExpectHead(h))
		out.ExpectedHead = h.String()
	}
	n, err := audit.Verify(ctx, s.store, opts...)
	out.Entries, out.OK = n, err == nil
	if err != nil {
		out.Error = err.Error()
	}
	if h, herr := audit.ReadHead(ctx, s.store); herr == nil && h.Seq > 0 {
		out.Head = h.String()
	}
	return out, nil
}
