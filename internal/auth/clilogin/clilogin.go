// Package clilogin is the server side of `warden login`: how the CLI receives an API token for a
// person signed in in a browser. Two flows, each a few hand-written steps over stored grants
// (kind cli_grant), no OAuth framework:
//
//   - Loopback with PKCE (RFC 8252, RFC 7636). The CLI listens on http://127.0.0.1:<port>/callback
//     and opens the browser at /login/cli with a code challenge (S256 only) and a state. The
//     signed-in person confirms with a POST that carries the session's CSRF token (a link alone
//     mints nothing); Confirm stores a grant named by the SHA-256 of a fresh authorization code and
//     sends the browser to the loopback with the code and the state. The CLI exchanges the code with
//     its verifier (Exchange): the grant is consumed whatever the outcome, so a code works once.
//   - Device authorization (RFC 8628). StartDevice stores a grant named by the SHA-256 of a device
//     code, with the SHA-256 of an 8-letter user code; the person enters the user code at /device
//     and approves or denies (Decide, throttled per user against guessing); the CLI polls
//     (PollDevice): authorization_pending, slow_down, expired_token, access_denied, or the token.
//
// The token acts as the person who confirmed, lasts auth.cli_token_ttl (default 12h), is marked
// with the flow (api_token spec.login) and carries the session's latest second factor
// (spec.second_factor_at). Its issue is audited with the user, the flow and the token id, in the
// transaction that consumes the grant. Secrets (codes, verifiers, tokens) are never stored nor
// logged; grants expire (loopback code 2m, device code 10m).
package clilogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Defaults.
const (
	DefaultTokenTTL  = 12 * time.Hour
	DefaultCodeTTL   = 2 * time.Minute
	DefaultDeviceTTL = 10 * time.Minute
	DefaultInterval  = 5 * time.Second
	// DefaultMaxPendingDevice bounds the device logins waiting at once (starting one needs no
	// sign-in): past it, StartDevice answers ErrBusy until some expire.
	DefaultMaxPendingDevice = 1000
	// DefaultMaxCodeFailures wrong user codes a signed-in user may enter per DefaultFailureWindow.
	DefaultMaxCodeFailures = 5
	DefaultFailureWindow   = 15 * time.Minute
)

// UserCodeAlphabet are the letters of user codes: consonants without ambiguous ones (RFC 8628
// 6.1): 20^8 codes, about 34.5 bits, against at most a few guesses per user per window.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// Error is an OAuth error (RFC 6749 5.2, RFC 8628 3.5): Code is what the API answers in "error".
type Error struct {
	Code        string
	Description string
	// Status is the HTTP status to answer with.
	Status int
	// Wait, for ErrTooManyAttempts: when the user may try again.
	Wait time.Duration
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Is matches errors of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The errors, by code; compare with errors.Is.
var (
	ErrPending         = &Error{Code: "authorization_pending", Status: 400}
	ErrSlowDown        = &Error{Code: "slow_down", Status: 400}
	ErrExpired         = &Error{Code: "expired_token", Status: 400}
	ErrDenied          = &Error{Code: "access_denied", Status: 400}
	ErrInvalidGrant    = &Error{Code: "invalid_grant", Status: 400}
	ErrInvalidRequest  = &Error{Code: "invalid_request", Status: 400}
	ErrBadUserCode     = &Error{Code: "invalid_user_code", Status: 400}
	ErrTooManyAttempts = &Error{Code: "too_many_attempts", Status: 429}
	ErrBusy            = &Error{Code: "temporarily_unavailable", Status: 503}
)

func newErr(base *Error, format string, args ...any) *Error {
	e := *base
	e.Description = fmt.Sprintf(format, args...)
	return &e
}

// Config sets the lifetimes and bounds; zero fields take the defaults.
type Config struct {
	TokenTTL         time.Duration
	CodeTTL          time.Duration
	DeviceTTL        time.Duration
	Interval         time.Duration
	MaxPendingDevice int
	MaxCodeFailures  int
	FailureWindow    time.Duration
}

func (c Config) withDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.TokenTTL, DefaultTokenTTL)
	set(&c.CodeTTL, DefaultCodeTTL)
	set(&c.DeviceTTL, DefaultDeviceTTL)
	set(&c.Interval, DefaultInterval)
	set(&c.FailureWindow, DefaultFailureWindow)
	if c.MaxPendingDevice <= 0 {
		c.MaxPendingDevice = DefaultMaxPendingDevice
	}
	if c.MaxCodeFailures <= 0 {
		c.MaxCodeFailures = DefaultMaxCodeFailures
	}
	return c
}

// Service runs the two flows over a store and the token service.
type Service struct {
	st     store.Store
	tokens *auth.Tokens
	clock  clock.Clock
	cfg    Config
}

// Option sets an optional part of the service.
type Option func(*Service)

// WithClock makes the service read time from c (tests).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithInterval sets the device flow's polling interval (whole seconds, at least 1s; tests).
func WithInterval(d time.Duration) Option {
	return func(s *Service) { s.cfg.Interval = max(d.Truncate(time.Second), time.Second) }
}

// New returns the service.
func New(st store.Store, tokens *auth.Tokens, cfg Config, opts ...Option) *Service {
	s := &Service{st: st, tokens: tokens, clock: clock.Real(), cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config is the service's configuration, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Confirmer is the signed-in person confirming a login in the browser.
type Confirmer struct {
	User           string
	Session        string
	SecondFactorAt time.Time
}

// Issued is the token a login received.
type Issued struct {
	Token   string    `json:"token"`
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	// Login is the flow: loopback or device.
	Login string `json:"login"`
}

// hashOf is the hex SHA-256 of a secret: the name a grant is stored under.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- loopback ----

// LoopbackRequest is what the CLI sends the browser to /login/cli with.
type LoopbackRequest struct {
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	State               string
}

// CheckRedirectURI accepts only a loopback redirect (RFC 8252 7.3): http on 127.0.0.1 or [::1],
// any port, path /callback, nothing else (no user info, query or fragment). "localhost" is
// refused: it may resolve elsewhere (RFC 8252 8.3).
func CheckRedirectURI(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, newErr(ErrInvalidRequest, "redirect_uri: required")
	}
	if len(raw) > 200 {
		return nil, newErr(ErrInvalidRequest, "redirect_uri: longer than 200 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q is not a URL", raw)
	}
	ip := net.ParseIP(u.Hostname())
	switch {
	case u.Scheme != "http":
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q: only http://127.0.0.1:PORT/callback or http://[::1]:PORT/callback (the CLI's loopback listener)", raw)
	case ip == nil || !(ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback)) || (ip.To4() != nil && u.Hostname() != "127.0.0.1"):
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q is not on 127.0.0.1 or [::1]: warden sends login codes only to the computer the browser runs on", raw)
	case u.Port() == "":
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q has no port", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q may hold no user, query or fragment", raw)
	case u.Path != "/callback":
		return nil, newErr(ErrInvalidRequest, "redirect_uri: %q: the path must be /callback", raw)
	}
	return u, nil
}

// Check checks a loopback request's fields, naming the one at fault.
func (r LoopbackRequest) Check() error {
	if _, err := CheckRedirectURI(r.RedirectURI); err != nil {
		return err
	}
	if r.CodeChallengeMethod != "S256" {
		return newErr(ErrInvalidRequest, "code_challenge_method: %q: only S256", r.CodeChallengeMethod)
	}
	if len(r.CodeChallenge) != 43 || !base64URL(r.CodeChallenge) {
		return newErr(ErrInvalidRequest, "code_challenge: not the base64url SHA-256 of a verifier (43 characters)")
	}
	if r.State == "" || len(r.State) > 128 || !unreserved(r.State) {
		return newErr(ErrInvalidRequest, "state: required, 1-128 characters of A-Z a-z 0-9 - . _ ~")
	}
	return nil
}

func base64URL(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// unreserved: RFC 3986 unreserved characters, which a PKCE verifier is made of.
func unreserved(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// Challenge is the S256 code challenge of verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewVerifier makes a PKCE code verifier (43 characters, 256 bits).
func NewVerifier() string { return randomString(32) }

// NewState makes a state value for a loopback login.
func NewState() string { return randomString(16) }

// Confirm records that who confirmed the loopback login req, and returns where to send the browser:
// the redirect URI with a fresh code and req's state. Audited.
func (s *Service) Confirm(ctx context.Context, req LoopbackRequest, who Confirmer) (string, error) {
	if err := req.Check(); err != nil {
		return "", err
	}
	if who.User == "" {
		return "", errors.New("clilogin: confirm without a user")
	}
	code := randomString(32)
	now := s.clock.Now().UTC()
	o := &resource.Object{Kind: resource.KindCLIGrant, Version: resource.Version, Metadata: resource.Metadata{Name: hashOf(code)},
		Spec: &resource.CLIGrantSpec{Flow: resource.CLIFlowLoopback, Expires: now.Add(s.cfg.CodeTTL), User: who.User, Session: who.Session,
			SecondFactorAt: who.SecondFactorAt, Challenge: req.CodeChallenge, RedirectURI: req.RedirectURI}}
	if err := resource.Validate(o); err != nil {
		return "", err
	}
	err := s.st.Txn(ctx, func(tx store.Tx) error {
		if err := tx.Create(ctx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: who.User, Action: "confirm", Kind: resource.KindCLIGrant, Name: o.Metadata.Name,
			Detail: fmt.Sprintf("%s confirmed a warden login (loopback, to %s) in the browser", who.User, req.RedirectURI)})
	})
	if err != nil {
		return "", fmt.Errorf("storing the login code: %w", err)
	}
	s.sweep(ctx, resource.CLIFlowLoopback)
	q := url.Values{"code": {code}, "state": {req.State}}
	return req.RedirectURI + "?" + q.Encode(), nil
}

// Cancelled is where to send the browser when the person declines: the redirect URI with
// error=access_denied and req's state. req must have passed Check.
func Cancelled(req LoopbackRequest) string {
	q := url.Values{"error": {"access_denied"}, "state": {req.State}}
	return req.RedirectURI + "?" + q.Encode()
}

// Exchange trades a loopback code and its PKCE verifier for a token. The grant is consumed
// whatever the outcome (a wrong verifier burns the code too), so a code is tried once.
func (s *Service) Exchange(ctx context.Context, code, verifier, redirectURI string) (*Issued, error) {
	switch {
	case code == "" || len(code) > 100 || !base64URL(code):
		return nil, newErr(ErrInvalidRequest, "code: required, the code the browser brought to the CLI")
	case len(verifier) < 43 || len(verifier) > 128 || !unreserved(verifier):
		return nil, newErr(ErrInvalidRequest, "code_verifier: 43-128 characters of A-Z a-z 0-9 - . _ ~")
	}
	if _, err := CheckRedirectURI(redirectURI); err != nil {
		return nil, err
	}
	var out *Issued
	var refused error
	err := s.st.Txn(ctx, func(tx store.Tx) error {
		out, refused = nil, nil
		o, err := tx.Delete(ctx, resource.KindCLIGrant, hashOf(code), 0)
		if errors.Is(err, store.ErrNotFound) {
			refused = newErr(ErrInvalidGrant, "unknown, used or expired code")
			return nil
		}
		if err != nil {
			return err
		}
		g, ok := o.Spec.(*resource.CLIGrantSpec)
		if !ok || g.Flow != resource.CLIFlowLoopback {
			return &store.ObjectError{Kind: o.Kind, Name: o.Metadata.Name, Err: store.ErrNotFound} // rolled back: not a code
		}
		switch {
		case !s.clock.Now().Before(g.Expires):
			refused = newErr(ErrInvalidGrant, "the code expired: run warden login again")
		case g.RedirectURI != redirectURI:
			refused = newErr(ErrInvalidGrant, "redirect_uri is not the one the code was sent to")
		case subtle.ConstantTimeCompare([]byte(Challenge(verifier)), []byte(g.Challenge)) != 1:
			refused = newErr(ErrInvalidGrant, "code_verifier does not match the code challenge (PKCE)")
		}
		if refused != nil {
			return audit.Append(ctx, tx, audit.Entry{Actor: g.User, Action: "refuse", Kind: resource.KindCLIGrant, Name: o.Metadata.Name,
				Detail: fmt.Sprintf("warden login (loopback) for %s refused: %s; the code is void", g.User, refused.(*Error).Description)})
		}
		out, err = s.issue(ctx, tx, g)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, newErr(ErrInvalidGrant, "unknown, used or expired code")
	}
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return out, nil
}

// issue mints the login's token inside tx.
func (s *Service) issue(ctx context.Context, tx store.Tx, g *resource.CLIGrantSpec) (*Issued, error) {
	token, o, err := s.tokens.IssueLogin(ctx, tx, auth.LoginToken{User: g.User, Flow: g.Flow, TTL: s.cfg.TokenTTL,
		Session: g.Session, SecondFactorAt: g.SecondFactorAt})
	var fe *resource.FieldError
	if errors.As(err, &fe) && fe.Field == "user" {
		return nil, newErr(ErrInvalidGrant, "%s no longer exists", g.User) // deleted since they confirmed
	}
	if err != nil {
		return nil, err
	}
	spec := o.Spec.(*resource.APITokenSpec)
	return &Issued{Token: token, ID: o.Metadata.Name, User: spec.User, Expires: spec.Expires, Login: g.Flow}, nil
}

// ---- device ----

// DeviceAuthorization is the answer to a device login's start (RFC 8628 3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// NewUserCode makes a user code: XXXX-XXXX over UserCodeAlphabet.
func NewUserCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		// 256 is not a multiple of 20: reject the biased top to keep letters uniform.
		for c >= 240 {
			var one [1]byte
			rand.Read(one[:])
			c = one[0]
		}
		sb.WriteByte(UserCodeAlphabet[int(c)%len(UserCodeAlphabet)])
	}
	return sb.String()
}

// NormalizeUserCode reads a user code as people type it (any case, with or without the dash or
// spaces) and reports whether it can be one.
func NormalizeUserCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var sb strings.Builder
	for _, c := range strings.ToUpper(s) {
		switch {
		case c == '-' || c == ' ':
		case strings.ContainsRune(UserCodeAlphabet, c):
			sb.WriteRune(c)
		default:
			return "", false
		}
	}
	if sb.Len() != 8 {
		return "", false
	}
	n := sb.String()
	return n[:4] + "-" + n[4:], true
}

// StartDevice starts a device login; baseURL is warden's public URL (the verification URI is
// baseURL/device). Anyone may start one: the number waiting at once is bounded.
func (s *Service) StartDevice(ctx context.Context, baseURL string) (*DeviceAuthorization, error) {
	if n := s.sweep(ctx, resource.CLIFlowDevice); n >= s.cfg.MaxPendingDevice {
		return nil, newErr(ErrBusy, "%d device logins are waiting already: try again in a few minutes", n)
	}
	now := s.clock.Now().UTC()
	device := randomString(32)
	var user string
	for attempt := 0; ; attempt++ {
		user = NewUserCode()
		taken, err := s.st.List(ctx, resource.KindCLIGrant, store.ListOptions{Filters: store.Filter("user_code", hashOf(user)), Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(taken) == 0 {
			break
		}
		if attempt > 10 {
			return nil, errors.New("clilogin: no free user code")
		}
	}
	o := &resource.Object{Kind: resource.KindCLIGrant, Version: resource.Version, Metadata: resource.Metadata{Name: hashOf(device)},
		Spec: &resource.CLIGrantSpec{Flow: resource.CLIFlowDevice, Expires: now.Add(s.cfg.DeviceTTL), UserCodeHash: hashOf(user),
			State: resource.CLIGrantPending, Interval: int(s.cfg.Interval / time.Second)}}
	if err := s.st.Create(ctx, o); err != nil {
		return nil, fmt.Errorf("storing the device login: %w", err)
	}
	base := strings.TrimRight(baseURL, "/")
	return &DeviceAuthorization{DeviceCode: device, UserCode: user, VerificationURI: base + "/device",
		VerificationURIComplete: base + "/device?" + url.Values{"user_code": {user}}.Encode(),
		ExpiresIn:               int(s.cfg.DeviceTTL / time.Second), Interval: int(s.cfg.Interval / time.Second)}, nil
}

// attemptsName is the name of user's record of wrong user codes.
func attemptsName(user string) string { return "attempts-" + hashOf(strings.ToLower(user))[:32] }

// Decide approves (or denies) the device login whose user code is userCode, as who. A wrong code
// counts against who: past MaxCodeFailures in FailureWindow, every code is refused until the
// window ends (ErrTooManyAttempts, with Wait). Audited.
func (s *Service) Decide(ctx context.Context, userCode string, approve bool, who Confirmer) error {
	if who.User == "" {
		return errors.New("clilogin: decide without a user")
	}
	now := s.clock.Now().UTC()
	var result error
	err := s.st.Txn(ctx, func(tx store.Tx) error {
		result = nil
		att, err := tx.Get(ctx, resource.KindCLIGrant, attemptsName(who.User))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var as *resource.CLIGrantSpec
		if att != nil {
			as = att.Spec.(*resource.CLIGrantSpec)
			if !now.Before(as.Expires) {
				as.Failures, as.WindowStart, as.Expires = 0, now, now.Add(s.cfg.FailureWindow)
			}
			if as.Failures >= s.cfg.MaxCodeFailures {
				e := newErr(ErrTooManyAttempts, "too many wrong codes: try again after %s", as.Expires.Format(time.RFC3339))
				e.Wait = as.Expires.Sub(now)
				result = e
				return nil
			}
		}
		code, ok := NormalizeUserCode(userCode)
		var g *resource.Object
		if ok {
			found, err := tx.List(ctx, resource.KindCLIGrant, store.ListOptions{Filters: store.Filter("user_code", hashOf(code)), Limit: 1})
			if err != nil {
				return err
			}
			if len(found) == 1 {
				gs := found[0].Spec.(*resource.CLIGrantSpec)
				if gs.Flow == resource.CLIFlowDevice && gs.State == resource.CLIGrantPending && now.Before(gs.Expires) {
					g = found[0]
				}
			}
		}
		if g == nil {
			if att == nil {
				att = &resource.Object{Kind: resource.KindCLIGrant, Version: resource.Version, Metadata: resource.Metadata{Name: attemptsName(who.User)},
					Spec: &resource.CLIGrantSpec{Flow: resource.CLIFlowAttempts, User: who.User, WindowStart: now, Expires: now.Add(s.cfg.FailureWindow)}}
				as = att.Spec.(*resource.CLIGrantSpec)
			}
			as.Failures++
			if att.Metadata.Revision == 0 {
				err = tx.Create(ctx, att)
			} else {
				err = tx.Update(ctx, att)
			}
			if err != nil {
				return err
			}
			result = newErr(ErrBadUserCode, "no device login waits for this code: check it, or start warden login --device again (%d of %d attempts left)",
				max(0, s.cfg.MaxCodeFailures-as.Failures), s.cfg.MaxCodeFailures)
			return audit.Append(ctx, tx, audit.Entry{Actor: who.User, Action: "refuse", Kind: resource.KindCLIGrant, Name: att.Metadata.Name,
				Detail: fmt.Sprintf("%s entered a wrong device login code (%d in this window)", who.User, as.Failures)})
		}
		gs := g.Spec.(*resource.CLIGrantSpec)
		action, verb := "deny", "denied"
		gs.State = resource.CLIGrantDenied
		if approve {
			action, verb = "approve", "approved"
			gs.State = resource.CLIGrantApproved
			gs.User, gs.Session, gs.SecondFactorAt = who.User, who.Session, who.SecondFactorAt
		}
		if err := tx.Update(ctx, g); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: who.User, Action: action, Kind: resource.KindCLIGrant, Name: g.Metadata.Name,
			Detail: fmt.Sprintf("%s %s a warden login (device) in the browser", who.User, verb)})
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return newErr(ErrInvalidRequest, "the login changed meanwhile: try again")
		}
		return err
	}
	return result
}

// PollDevice is the CLI's poll: the token once approved; otherwise authorization_pending,
// slow_down (polled within the interval: the interval grows by 5s, RFC 8628 3.5), expired_token,
// access_denied, or invalid_grant for a code that is unknown or already used.
func (s *Service) PollDevice(ctx context.Context, deviceCode string) (*Issued, error) {
	if deviceCode == "" || len(deviceCode) > 100 || !base64URL(deviceCode) {
		return nil, newErr(ErrInvalidRequest, "device_code: required, the device_code warden login --device received")
	}
	now := s.clock.Now().UTC()
	var out *Issued
	var result error
	err := s.st.Txn(ctx, func(tx store.Tx) error {
		out, result = nil, nil
		o, err := tx.Get(ctx, resource.KindCLIGrant, hashOf(deviceCode))
		if errors.Is(err, store.ErrNotFound) {
			result = newErr(ErrInvalidGrant, "unknown or used device code")
			return nil
		}
		if err != nil {
			return err
		}
		g, ok := o.Spec.(*resource.CLIGrantSpec)
		if !ok || g.Flow != resource.CLIFlowDevice {
			result = newErr(ErrInvalidGrant, "unknown or used device code")
			return nil
		}
		if !now.Before(g.Expires) {
			result = newErr(ErrExpired, "the code expired: run warden login --device again")
			_, err := tx.Delete(ctx, o.Kind, o.Metadata.Name, o.Metadata.Revision)
			return err
		}
		interval := time.Duration(g.Interval) * time.Second
		if !g.LastPoll.IsZero() && now.Sub(g.LastPoll) < interval {
			g.Interval += 5
			g.LastPoll = now
			result = newErr(ErrSlowDown, "polled within %ds: wait %ds between polls", g.Interval-5, g.Interval)
			return tx.Update(ctx, o)
		}
		switch g.State {
		case resource.CLIGrantPending:
			g.LastPoll = now
			result = newErr(ErrPending, "waiting for the code to be entered and approved in a browser")
			return tx.Update(ctx, o)
		case resource.CLIGrantDenied:
			result = newErr(ErrDenied, "the login was denied in the browser")
			_, err := tx.Delete(ctx, o.Kind, o.Metadata.Name, o.Metadata.Revision)
			return err
		case resource.CLIGrantApproved:
			if _, err := tx.Delete(ctx, o.Kind, o.Metadata.Name, o.Metadata.Revision); err != nil {
				return err
			}
			out, err = s.issue(ctx, tx, g)
			return err
		}
		return fmt.Errorf("clilogin: device grant in state %q", g.State)
	})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		// Another poll of the same code ran at the same time.
		return nil, newErr(ErrSlowDown, "polled twice at once")
	}
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// sweep deletes expired grants of flow and says how many remain (up to MaxPendingDevice+1).
// Grants are few and short-lived; the sweep keeps the store from keeping what nobody finished.
func (s *Service) sweep(ctx context.Context, flow string) int {
	objs, err := s.st.List(ctx, resource.KindCLIGrant, store.ListOptions{Filters: store.Filter("flow", flow)})
	if err != nil {
		return 0
	}
	now := s.clock.Now()
	n := 0
	for _, o := range objs {
		if g := o.Spec.(*resource.CLIGrantSpec); !now.Before(g.Expires) {
			s.st.Delete(ctx, o.Kind, o.Metadata.Name, o.Metadata.Revision)
			continue
		}
		n++
	}
	return n
}
