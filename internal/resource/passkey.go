package resource

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// IndexCredential is the index key of a passkey's credential: the hash that ends its name, so that a
// credential presented without its user (a usernameless sign-in) is found.
const IndexCredential = "credential"

// MaxPasskeyLabel bounds the label a user gives a passkey, in characters.
const MaxPasskeyLabel = 64

// PasskeySpec is one WebAuthn credential of a user. metadata.name is "<user>:<hash>", the hash being
// the first 16 bytes of SHA-256 of the credential id, in hex (package auth/passkey). Nothing here is
// a secret (a public key, an id), but the kind is internal all the same: it is served only to its
// user, through /v1/auth/passkeys.
type PasskeySpec struct {
	User string `json:"user"`
	// CredentialID, UserHandle and PublicKey (COSE) are base64url without padding.
	CredentialID string `json:"credential_id"`
	UserHandle   string `json:"user_handle"`
	PublicKey    string `json:"public_key"`
	// AttestationType and AttestationFormat are as the registration reported them ("none", "self"...).
	AttestationType   string `json:"attestation_type,omitempty"`
	AttestationFormat string `json:"attestation_format,omitempty"`
	// AAGUID names the authenticator's model (a UUID; all zero when the authenticator hides it).
	AAGUID     string   `json:"aaguid,omitempty"`
	SignCount  uint32   `json:"sign_count"`
	Transports []string `json:"transports,omitempty"`
	// UserVerified: the authenticator verified the user (PIN, biometrics) when the passkey was made.
	UserVerified   bool `json:"user_verified,omitempty"`
	BackupEligible bool `json:"backup_eligible,omitempty"`
	BackupState    bool `json:"backup_state,omitempty"`
	// CloneWarning: a sign-in presented a signature counter that was not greater than the stored
	// one, so the credential may have been copied. It is refused from then on (package auth/passkey).
	CloneWarning   bool      `json:"clone_warning,omitempty"`
	CloneWarningAt time.Time `json:"clone_warning_at,omitzero"`
	Created        time.Time `json:"created"`
	LastUsed       time.Time `json:"last_used,omitzero"`
	Label          string    `json:"label,omitempty"`
	// Enrolment is the enrolment (invitation flow id) the passkey was registered during, if any: a
	// later enrolment of the user (a new invitation) removes every passkey not registered during it.
	Enrolment string `json:"enrolment,omitempty"`
}

// passkeyNameOK checks a passkey's name is its user's, then ":" and 32 hex digits (the credential
// hash), and returns the hash.
func passkeyNameOK(name, user string) (hash string, ok bool) {
	u, h, found := strings.Cut(name, ":")
	if !found || u != user || len(h) != 32 {
		return "", false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return h, true
}

func (s *PasskeySpec) index(m *Metadata) []IndexEntry {
	out := []IndexEntry{{IndexUser, s.User}}
	if _, h, ok := strings.Cut(m.Name, ":"); ok {
		out = append(out, IndexEntry{IndexCredential, h})
	}
	return out
}

func b64urlOK(s string, min, max int) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) >= min && len(b) <= max
}

func (s *PasskeySpec) validate(v *validator, m *Metadata) {
	checkUserName(v, "spec.user", s.User)
	if _, ok := passkeyNameOK(m.Name, s.User); !ok {
		v.add("metadata.name", "%q is not <user>:<32 hex digits> for user %q", m.Name, s.User)
	}
	if !b64urlOK(s.CredentialID, 1, 1023) {
		v.add("spec.credential_id", "required: 1-1023 bytes, base64url without padding")
	}
	if !b64urlOK(s.UserHandle, 1, 64) {
		v.add("spec.user_handle", "required: 1-64 bytes, base64url without padding")
	}
	if !b64urlOK(s.PublicKey, 1, 4096) {
		v.add("spec.public_key", "required: a COSE key, base64url without padding")
	}
	if len(s.Transports) > 8 {
		v.add("spec.transports", "at most 8")
	}
	if s.Created.IsZero() {
		v.add("spec.created", "required")
	}
	if utf8.RuneCountInString(s.Label) > MaxPasskeyLabel || !utf8.ValidString(s.Label) {
		v.add("spec.label", "at most %d characters of valid UTF-8", MaxPasskeyLabel)
	}
}

// PasskeyCeremonySpec is a WebAuthn ceremony in progress. metadata.name is a hash of what it is bound
// to (the browser's sign-in flow or session, and the ceremony's purpose), so that only that browser
// can finish it; it is deleted when used, and refused after Expires.
type PasskeyCeremonySpec struct {
	// Purpose is register, login (a second factor or a step-up for User) or discover (a sign-in
	// with no user named).
	Purpose string `json:"purpose"`
	// User is empty for discover.
	User    string    `json:"user,omitempty"`
	Expires time.Time `json:"expires"`
	// Session is the library's ceremony data (challenge, allowed credentials...), JSON.
	Session []byte `json:"session"`
	// Label is the name the user asked for the passkey being registered.
	Label string `json:"label,omitempty"`
}

// Passkey ceremony purposes.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
	CeremonyDiscover = "discover"
)

func (s *PasskeyCeremonySpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{"purpose", s.Purpose}}
}

func (s *PasskeyCeremonySpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	checkOneOf(v, "spec.purpose", s.Purpose, []string{CeremonyRegister, CeremonyLogin, CeremonyDiscover})
	if s.Purpose != CeremonyDiscover {
		checkUserName(v, "spec.user", s.User)
	}
	if s.Expires.IsZero() {
		v.add("spec.expires", "required")
	}
	if len(s.Session) == 0 {
		v.add("spec.session", "required")
	}
}
