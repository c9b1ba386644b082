package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/resource"
)

// SetPasskeys turns passkeys on with the service given (nil: off, the routes answer 404 "passkeys
// are not available").
func (s *Server) SetPasskeys(p *passkey.Service) { s.passkeys = p }

// Passkeys is the passkey service, or nil when passkeys are off.
func (s *Server) Passkeys() *passkey.Service { return s.passkeys }

// PasskeyInfo is one passkey as its user sees it in a listing: no key material.
type PasskeyInfo struct {
	Name           string    `json:"name"`
	Label          string    `json:"label,omitempty"`
	Created        time.Time `json:"created"`
	LastUsed       time.Time `json:"last_used,omitzero"`
	AAGUID         string    `json:"aaguid,omitempty"`
	Transports     []string  `json:"transports,omitempty"`
	UserVerified   bool      `json:"user_verified"`
	BackupEligible bool      `json:"backup_eligible"`
	BackedUp       bool      `json:"backed_up"`
	SignCount      uint32    `json:"sign_count"`
	CloneWarning   bool      `json:"clone_warning,omitempty"`
	CloneWarningAt time.Time `json:"clone_warning_at,omitzero"`
}

func passkeyInfo(o *resource.Object) PasskeyInfo {
	p := o.Spec.(*resource.PasskeySpec)
	return PasskeyInfo{Name: o.Metadata.Name, Label: p.Label, Created: p.Created, LastUsed: p.LastUsed, AAGUID: p.AAGUID,
		Transports: p.Transports, UserVerified: p.UserVerified, BackupEligible: p.BackupEligible, BackedUp: p.BackupState,
		SignCount: p.SignCount, CloneWarning: p.CloneWarning, CloneWarningAt: p.CloneWarningAt}
}

// PasskeyList is the answer of GET /v1/auth/passkeys.
type PasskeyList struct {
	Items []PasskeyInfo `json:"items"`
}

var errPasskeysOff = errors.New("passkeys are not available on this warden (public_url names no host a relying party can have)")

func (s *Server) passkeyAPIRoutes() {
	s.passkeyPageRoutes()
	// The caller's own passkeys: listed and removed by their user only (an administrator removes
	// someone's passkeys by deleting or re-inviting the user).
	s.handle("GET /v1/auth/passkeys", s.authed(func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		out := PasskeyList{Items: []PasskeyInfo{}}
		if s.passkeys == nil || p.User == auth.BootstrapUser {
			writeJSON(w, http.StatusOK, out)
			return
		}
		list, err := s.passkeys.List(r.Context(), p.User)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, o := range list {
			out.Items = append(out.Items, passkeyInfo(o))
		}
		writeJSON(w, http.StatusOK, out)
	}))
	s.handle("DELETE /v1/auth/passkeys/{name}", s.authed(func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if s.passkeys == nil {
			writeError(w, http.StatusNotFound, errPasskeysOff)
			return
		}
		old, err := s.passkeys.Remove(r.Context(), p, p.User, r.PathValue("name"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, passkeyInfo(old))
	}))
}
