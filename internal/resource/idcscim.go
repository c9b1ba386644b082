package resource

import (
	"fmt"
	"time"
)

// KindIDCSCIMToken is internal: the bearer tokens of Identity Center's SCIM endpoint that warden
// writes users and groups with (identity_center.directory: scim). One object, "outbound", holds
// at most two tokens, as Identity Center keeps at most two; each is sealed with the auth key
// (secret.Box). Package integration manages it.
const KindIDCSCIMToken Kind = "idc_scim_token"

// IDCSCIMTokenName names the one object of KindIDCSCIMToken.
const IDCSCIMTokenName = "outbound"

// IDCSCIMTokenWarning is how long before a SCIM token expires warden warns about it (status,
// metrics, a notification).
const IDCSCIMTokenWarning = 30 * 24 * time.Hour

func init() {
	kinds[KindIDCSCIMToken] = kindInfo{func() Spec { return new(IDCSCIMTokenSpec) }, false}
}

// MaxIDCSCIMTokens is how many tokens Identity Center keeps at once.
const MaxIDCSCIMTokens = 2

// IDCSCIMTokenSpec holds the SCIM tokens, the newest first.
type IDCSCIMTokenSpec struct {
	Tokens []IDCSCIMToken `json:"tokens"`
}

// IDCSCIMToken is one SCIM bearer token.
type IDCSCIMToken struct {
	// ID is a fingerprint of the token (not the token): how it is shown and named.
	ID     string    `json:"id"`
	Sealed string    `json:"sealed"`
	SetAt  time.Time `json:"set_at"`
	SetBy  string    `json:"set_by"`
	// Expires is when Identity Center stops taking it (a year after it was made, unless told).
	Expires time.Time `json:"expires"`
	// AcceptedAt is when Identity Center first took it.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
}

func (s *IDCSCIMTokenSpec) index(*Metadata) []IndexEntry { return nil }

func (s *IDCSCIMTokenSpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	if len(s.Tokens) > MaxIDCSCIMTokens {
		v.add("spec.tokens", "%d tokens; Identity Center keeps at most %d", len(s.Tokens), MaxIDCSCIMTokens)
	}
	for i, t := range s.Tokens {
		f := fmt.Sprintf("spec.tokens[%d]", i)
		if t.ID == "" || len(t.ID) > 64 {
			v.add(f+".id", "required, at most 64 bytes")
		}
		if t.Sealed == "" || len(t.Sealed) > 16<<10 {
			v.add(f+".sealed", "required, at most 16 KiB")
		}
		if t.Expires.IsZero() {
			v.add(f+".expires", "required")
		}
	}
}
