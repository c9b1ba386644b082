package resource

import (
	"regexp"
	"time"
)

// Local accounts (package auth/local): internal kinds, stored like api_token, never served by the
// resource API nor exported, their secrets hashed or encrypted, and their audit entries naming them
// without their content.
const (
	// KindCredential is internal: a user's local sign-in secrets (one per user, named by the user).
	KindCredential Kind = "credential"
	// KindAuthFlow is internal: one sign-in, enrolment or step-up in progress, with its expiry and
	// a hash of the token that continues it.
	KindAuthFlow Kind = "auth_flow"
)

// CredentialSpec is a user's local sign-in secrets. metadata.name is the user's name.
type CredentialSpec struct {
	User string `json:"user"`
	// PasswordHash is the argon2id PHC string of the password (package auth/secret).
	PasswordHash string `json:"password_hash"`
	// TOTPSecret is the TOTP secret sealed with the auth key (additional data: user name + "totp");
	// empty when none is enrolled.
	TOTPSecret string `json:"totp_secret,omitempty"`
	// TOTPLastStep is the time step of the last TOTP code accepted: a code of that step or an
	// earlier one is never accepted again.
	TOTPLastStep int64 `json:"totp_last_step,omitempty"`
	// RecoveryHashes are the hashes of the recovery codes not yet used.
	RecoveryHashes []string  `json:"recovery_hashes,omitempty"`
	Enrolled       time.Time `json:"enrolled,omitzero"`
	// InvitedBy is who sent the invitation this credential was enrolled with.
	InvitedBy string `json:"invited_by,omitempty"`
}

// Auth flow kinds.
const (
	FlowInvite = "invite"  // an enrolment link: enrol (or re-enrol) a local account
	FlowLogin  = "login"   // a sign-in whose password was right, waiting for its second factor
	FlowStepUp = "step_up" // reserved: a second factor asked of a signed-in person
)

// AuthFlowSpec is one flow in progress. metadata.name is its id (16 hex digits).
type AuthFlowSpec struct {
	Kind    string    `json:"kind"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	// TokenHash is the SHA-256 (hex) of the secret that continues the flow: the enrolment link's
	// token for an invite, the browser's flow cookie for a login.
	TokenHash string `json:"token_hash"`
	// InvitedBy is who sent an invite.
	InvitedBy string `json:"invited_by,omitempty"`
	// Next is the local path a login returns to.
	Next string `json:"next,omitempty"`
	// PasswordAt is when a login's password was checked.
	PasswordAt time.Time `json:"password_at,omitzero"`
	// Failures counts wrong second factors given to a login flow (it ends at a few).
	Failures int `json:"failures,omitempty"`
	// Enrolment in progress (invite): the new password's hash and the TOTP secret offered (sealed
	// like the credential's), kept here until the enrolment completes and replaces the credential.
	PasswordHash string `json:"password_hash,omitempty"`
	TOTPSecret   string `json:"totp_secret,omitempty"`
}

var flowIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
var sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *CredentialSpec) validate(v *validator, m *Metadata) {
	checkUserName(v, "metadata.name", m.Name)
	if s.User != m.Name {
		v.add("spec.user", "%q: must be metadata.name, the credential's user", s.User)
	}
	if s.PasswordHash == "" {
		v.add("spec.password_hash", "required")
	}
	if s.TOTPLastStep < 0 {
		v.add("spec.totp_last_step", "must not be negative")
	}
	if len(s.RecoveryHashes) > 20 {
		v.add("spec.recovery_hashes", "%d hashes: at most 20", len(s.RecoveryHashes))
	}
	if s.InvitedBy != "" && s.InvitedBy != BootstrapAdmin {
		checkUserName(v, "spec.invited_by", s.InvitedBy)
	}
}

func (s *CredentialSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{IndexUser, s.User}}
}

func (s *AuthFlowSpec) validate(v *validator, m *Metadata) {
	if !flowIDRE.MatchString(m.Name) {
		v.add("metadata.name", "%q is not a flow id (16 hex digits)", m.Name)
	}
	checkOneOf(v, "spec.kind", s.Kind, []string{FlowInvite, FlowLogin, FlowStepUp})
	checkUserName(v, "spec.user", s.User)
	if s.Expires.IsZero() {
		v.add("spec.expires", "required")
	}
	if !sha256HexRE.MatchString(s.TokenHash) {
		v.add("spec.token_hash", "required: a SHA-256 in hex")
	}
	if s.InvitedBy != "" && s.InvitedBy != BootstrapAdmin {
		checkUserName(v, "spec.invited_by", s.InvitedBy)
	}
}

func (s *AuthFlowSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{IndexUser, s.User}, {"flow_kind", s.Kind}}
}
