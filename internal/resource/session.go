package resource

import (
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"
)

// SessionSpec is a browser session (package auth). metadata.name is its public id (16 hex
// digits); the cookie carries the id and a secret, of which only the SHA-256 is kept here. The
// hash is never served nor written to the audit log.
type SessionSpec struct {
	User string `json:"user"`
	// SecretHash is the hex SHA-256 of the cookie's secret.
	SecretHash string    `json:"secret_hash,omitempty"`
	Created    time.Time `json:"created"`
	// LastSeen is when the session was last used, written at most once a minute.
	LastSeen time.Time `json:"last_seen"`
	// Expires is the absolute expiry, whatever the use.
	Expires time.Time       `json:"expires"`
	Methods []SessionMethod `json:"methods,omitempty"`
	// SecondFactorAt is when a second factor was last used on this session (zero: never).
	SecondFactorAt time.Time `json:"second_factor_at,omitzero"`
	Address        string    `json:"address,omitempty"`
	UserAgent      string    `json:"user_agent,omitempty"`
}

// SessionMethod is one authentication method a session was made or stepped up with (package auth
// names the methods).
type SessionMethod struct {
	Method    string    `json:"method"`
	At        time.Time `json:"at"`
	Connector string    `json:"connector,omitempty"`
	MFA       bool      `json:"mfa,omitempty"`
}

// Bounds of a session's recorded fields.
const (
	MaxSessionMethods   = 32
	MaxSessionUserAgent = 256
	MaxSessionAddress   = 64
)

var sessionMethods = map[string]bool{"pwd": true, "otp": true, "rec": true, "hwk": true, "oidc": true}

func (s *SessionSpec) validate(v *validator, m *Metadata) {
	if !isSessionID(m.Name) {
		v.add("metadata.name", "%q is not a session id (16 lowercase hex digits)", m.Name)
	}
	checkUserName(v, "spec.user", s.User)
	if b, err := hex.DecodeString(s.SecretHash); err != nil || len(b) != 32 {
		v.add("spec.secret_hash", "required: the hex SHA-256 of the session's secret")
	}
	if s.Created.IsZero() {
		v.add("spec.created", "required")
	}
	if !s.Expires.After(s.Created) {
		v.add("spec.expires", "must be after spec.created")
	}
	if len(s.Methods) == 0 {
		v.add("spec.methods", "required: how the session was signed in")
	}
	if len(s.Methods) > MaxSessionMethods {
		v.add("spec.methods", "%d methods; at most %d", len(s.Methods), MaxSessionMethods)
	}
	for i, mu := range s.Methods {
		if !sessionMethods[mu.Method] {
			v.add(fmt.Sprintf("spec.methods[%d]", i)+".method", "%q is not pwd, otp, rec, hwk or oidc", mu.Method)
		}
		if mu.Method == "oidc" && mu.Connector == "" {
			v.add(fmt.Sprintf("spec.methods[%d]", i)+".connector", "required for oidc")
		}
	}
	if len(s.Address) > MaxSessionAddress || !utf8.ValidString(s.Address) {
		v.add("spec.address", "at most %d bytes of UTF-8", MaxSessionAddress)
	}
	if len(s.UserAgent) > MaxSessionUserAgent || !utf8.ValidString(s.UserAgent) {
		v.add("spec.user_agent", "at most %d bytes of UTF-8", MaxSessionUserAgent)
	}
}

func (s *SessionSpec) index(*Metadata) []IndexEntry { return []IndexEntry{{IndexUser, s.User}} }

func isSessionID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// IsSessionID reports whether id has the form of a session id (16 lowercase hex digits).
func IsSessionID(id string) bool { return isSessionID(id) }

// WithoutSecrets is o as it may be shown or logged: an API token's or a session's secret hash
// left out (a copy; o itself is not changed).
func WithoutSecrets(o *Object) *Object {
	if o == nil {
		return nil
	}
	switch s := o.Spec.(type) {
	case *APITokenSpec:
		if s.SecretHash != "" {
			c, spec := *o, *s
			spec.SecretHash = ""
			c.Spec = &spec
			return &c
		}
	case *SCIMTokenSpec:
		if s.SecretHash != "" {
			c, spec := *o, *s
			spec.SecretHash = ""
			c.Spec = &spec
			return &c
		}
	case *SessionSpec:
		if s.SecretHash != "" {
			c, spec := *o, *s
			spec.SecretHash = ""
			c.Spec = &spec
			return &c
		}
	}
	return o
}
