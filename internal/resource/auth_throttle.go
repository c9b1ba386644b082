package resource

import (
	"strings"
	"time"
)

// KindAuthThrottle is internal: the failed sign-ins counted against one account or one source
// address (package auth/throttle). Its name is the hex SHA-256 of "account:<lower-cased name>" or
// "source:<address>", so a listing of the kind does not say who was tried, nor from where.
const KindAuthThrottle Kind = "auth_throttle"

// Scopes of an auth_throttle record.
const (
	ThrottleAccount = "account"
	ThrottleSource  = "source"
)

// AuthThrottleSpec counts failed sign-ins for one account or one source address.
type AuthThrottleSpec struct {
	Scope string `json:"scope"`
	// Failures since the count last started afresh (a success, a lock ending, an administrator's
	// unlock, or a day without failures).
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// NextAllowed: no attempt before it (the exponential delay).
	NextAllowed time.Time `json:"next_allowed,omitzero"`
	// LockedUntil: no attempt before it, whatever the password, unless an administrator unlocks.
	LockedUntil time.Time `json:"locked_until,omitzero"`
	// LastReset: when a success last cleared a source's count (at most once per lock period).
	LastReset time.Time `json:"last_reset,omitzero"`
}

func init() {
	kinds[KindAuthThrottle] = kindInfo{func() Spec { return new(AuthThrottleSpec) }, false}
}

func (s *AuthThrottleSpec) index(*Metadata) []IndexEntry { return nil }

func (s *AuthThrottleSpec) validate(v *validator, m *Metadata) {
	if len(m.Name) != 64 || strings.Trim(m.Name, "0123456789abcdef") != "" {
		v.add("metadata.name", "%q is not a hex SHA-256", m.Name)
	}
	checkOneOf(v, "spec.scope", s.Scope, []string{ThrottleAccount, ThrottleSource})
	if s.Failures < 0 {
		v.add("spec.failures", "%d is negative", s.Failures)
	}
}
