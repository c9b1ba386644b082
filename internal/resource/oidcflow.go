package resource

import (
	"strings"
	"time"
)

// OIDCFlowSpec is a sign-in through an upstream OIDC connector in progress: begun at
// /login/oidc/<connector>, finished at its callback. metadata.name is the flow's id, which the
// audit entries of the sign-in name; the browser that began the flow holds, in a short-lived
// HttpOnly cookie, the secret the id is derived from and the flow's state is encrypted with
// (package server), so the store alone can neither finish the flow nor read its state, nonce and
// PKCE verifier. It is deleted when its callback comes (used once), and refused after Expires.
type OIDCFlowSpec struct {
	Connector string    `json:"connector"`
	Expires   time.Time `json:"expires"`
	// Next is the local path to go to once signed in.
	Next string `json:"next,omitempty"`
	// Sealed is the connector's state (state, nonce, verifier), AES-256-GCM under a key derived from
	// the browser's secret, base64url.
	Sealed string `json:"sealed"`
}

func (s *OIDCFlowSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{"connector", s.Connector}}
}

func (s *OIDCFlowSpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	if !ValidConnectorName(s.Connector) {
		v.add("spec.connector", "%q is not a connector name", s.Connector)
	}
	if s.Expires.IsZero() {
		v.add("spec.expires", "required")
	}
	if s.Sealed == "" {
		v.add("spec.sealed", "required")
	}
	if s.Next != "" && (!strings.HasPrefix(s.Next, "/") || strings.HasPrefix(s.Next, "//") || strings.ContainsAny(s.Next, "\\\r\n") || len(s.Next) > 2048) {
		v.add("spec.next", "must be a local path")
	}
}
