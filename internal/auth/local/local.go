// Package local keeps warden's local accounts: invitations, enrolment (a password, a TOTP second
// factor, recovery codes) and the checks of a sign-in. HTTP lives in package server (signin.go);
// sessions in package auth; the secrets' algorithms in auth/secret; the brute-force limits in
// auth/throttle.
//
// What is stored (internal kinds, never served by the resource API):
//   - credential, one per user: the password's argon2id hash, the TOTP secret sealed with the auth
//     key (secret.Box, additional data: user name + "totp", so a sealed secret moved to another
//     user does not open), the last TOTP step accepted (a code is never accepted twice), the hashes
//     of the recovery codes not yet used, and when and by whose invitation it was enrolled.
//   - auth_flow, one per flow in progress: an invitation (the enrolment link's token hashed; the
//     new password's hash and the offered TOTP secret, sealed, while enrolment goes on) or a
//     sign-in whose password was right and whose second factor is awaited (the browser's flow
//     cookie hashed, where to return, when the password was checked, wrong codes so far).
//
// An invitation replaces any earlier one for the same user; it is single use (enrolment deletes
// it) and expires after auth.invite_ttl. Enrolment replaces the user's credential as a whole (so a
// new invitation is how a password is reset). Every invitation, enrolment and sign-in, success or
// failure, is audited with who acted and never a secret.
package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// LoginFlowTTL is how long a sign-in waits for its second factor after the password.
const LoginFlowTTL = 5 * time.Minute

// MaxFlowFailures is how many wrong second factors one sign-in flow takes before it ends (the
// throttle limits the account and the source besides).
const MaxFlowFailures = 5

// maxLoginFlows bounds the sign-ins in progress kept per user.
const maxLoginFlows = 5

// Limits of what people type.
const (
	MaxUserName = 128
	MaxPassword = 1024
	MaxCode     = 64
)

// Errors the pages tell apart.
var (
	// ErrInvalidLink: an enrolment link unknown, used, replaced or expired.
	ErrInvalidLink = errors.New("this enrolment link is not valid: it was used, replaced by a newer one, or it expired; ask an administrator for a new invitation")
	// ErrWrongCredentials is the one answer to a wrong user name or password.
	ErrWrongCredentials = errors.New("user name or password is wrong")
	// ErrNoSecondFactor: the password was right, second factors are required, and the user has
	// none enrolled.
	ErrNoSecondFactor = errors.New("your account has no second factor enrolled, and this warden requires one: ask an administrator for a new invitation to enrol one")
	// ErrWrongCode: a second factor code that is wrong or already used.
	ErrWrongCode = errors.New("that code is wrong, or was already used")
	// ErrFlowGone: a sign-in in progress that expired, ended, or took too many wrong codes.
	ErrFlowGone = errors.New("this sign-in expired or ended: sign in again")
)

// FieldError is a problem with one form field, for the page to show next to it.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Service keeps local accounts.
type Service struct {
	store     store.Store
	box       *secret.Box
	clock     clock.Clock
	log       *slog.Logger
	required  bool
	inviteTTL time.Duration
	issuer    string
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time of expiries and TOTP codes (tests).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithIssuer sets the issuer name authenticator apps show beside the account (default "warden").
func WithIssuer(name string) Option { return func(s *Service) { s.issuer = name } }

// New returns the service over st; box seals TOTP secrets; cfg gives auth.second_factor and
// auth.invite_ttl (defaults applied here).
func New(st store.Store, box *secret.Box, cfg config.Auth, opts ...Option) *Service {
	cfg = cfg.WithDefaults()
	s := &Service{store: st, box: box, clock: clock.Real(), log: slog.Default(), required: cfg.SecondFactor != "optional",
		inviteTTL: cfg.InviteTTL, issuer: "warden"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SecondFactorRequired says whether every local account must use a second factor.
func (s *Service) SecondFactorRequired() bool { return s.required }

// Now is the service's time (the clock its codes and expiries are checked by).
func (s *Service) Now() time.Time { return s.clock.Now() }

// InviteTTL is how long an enrolment link is valid.
func (s *Service) InviteTTL() time.Duration { return s.inviteTTL }

// Actor is who does something, for the audit log.
type Actor struct {
	User, Token, TokenIssuer string
}

func (a Actor) entry(e audit.Entry) audit.Entry {
	e.Actor, e.Token, e.TokenIssuer = a.User, a.Token, a.TokenIssuer
	return e
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// newToken makes a flow id (16 hex digits) and a token: the id followed by a 43-character secret.
func newToken() (id, token string) {
	b := make([]byte, 8)
	rand.Read(b)
	sec := make([]byte, 32)
	rand.Read(sec)
	id = hex.EncodeToString(b)
	return id, id + base64.RawURLEncoding.EncodeToString(sec)
}

var tokenRE = regexp.MustCompile(`^[0-9a-f]{16}[A-Za-z0-9_-]{43}$`)

// flowOf reads the flow a token continues: of kind, unexpired, its hash matching (in constant time).
func (s *Service) flowOf(ctx context.Context, kind, token string) (*resource.Object, *resource.AuthFlowSpec, error) {
	if !tokenRE.MatchString(token) {
		return nil, nil, store.ErrNotFound
	}
	o, err := s.store.Get(ctx, resource.KindAuthFlow, token[:16])
	if err != nil {
		return nil, nil, err
	}
	f := o.Spec.(*resource.AuthFlowSpec)
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(f.TokenHash)) != 1 || f.Kind != kind {
		return nil, nil, store.ErrNotFound
	}
	if !s.clock.Now().Before(f.Expires) {
		return nil, nil, store.ErrNotFound
	}
	return o, f, nil
}

func flowObject(id string, f *resource.AuthFlowSpec) *resource.Object {
	return &resource.Object{Kind: resource.KindAuthFlow, Version: resource.Version, Metadata: resource.Metadata{Name: id}, Spec: f}
}

// userExists reads a user in tx.
func userExists(ctx context.Context, r store.Reader, name string) error {
	if _, err := r.Get(ctx, resource.KindUser, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &resource.FieldError{Field: "user", Message: fmt.Sprintf("user %q does not exist", name)}
		}
		return err
	}
	return nil
}

// ---- invitations ----

// Invitation is a new enrolment link's token, shown once.
type Invitation struct {
	User    string
	Token   string
	Expires time.Time
}

// Invite makes a one-time enrolment token for user (who must exist), valid InviteTTL, replacing any
// earlier invitation of theirs. Audited as by (never the token). Authorization is the caller's.
func (s *Service) Invite(ctx context.Context, by Actor, user string) (*Invitation, error) {
	if !resource.ValidUserName(user) {
		return nil, &resource.FieldError{Field: "user", Message: fmt.Sprintf("%q is not a valid user name", trunc(user))}
	}
	id, token := newToken()
	now := s.clock.Now().UTC()
	f := &resource.AuthFlowSpec{Kind: resource.FlowInvite, User: user, Expires: now.Add(s.inviteTTL).Truncate(time.Second),
		TokenHash: hashToken(token), InvitedBy: by.User}
	o := flowObject(id, f)
	if err := resource.Validate(o); err != nil {
		return nil, err
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		old, err := tx.List(ctx, resource.KindAuthFlow, store.ListOptions{Filters: store.Filter(resource.IndexUser, user, "flow_kind", resource.FlowInvite)})
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("invited %s to enrol a local account, link valid until %s", user, f.Expires.Format(time.RFC3339))
		if len(old) > 0 {
			detail += "; it replaces the earlier invitation"
		}
		for _, prev := range old {
			if _, err := tx.Delete(ctx, resource.KindAuthFlow, prev.Metadata.Name, 0); err != nil {
				return err
			}
		}
		if err := tx.Create(ctx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, by.entry(audit.Entry{Action: "invite", Kind: resource.KindAuthFlow, Name: id, Detail: detail, Time: now}))
	})
	if err != nil {
		return nil, err
	}
	return &Invitation{User: user, Token: token, Expires: f.Expires}, nil
}

// Enrolment is an invitation being used.
type Enrolment struct {
	ID, User  string
	InvitedBy string
	Expires   time.Time
	// PasswordSet: the password step is done; the second factor is next.
	PasswordSet bool
	obj         *resource.Object
	spec        *resource.AuthFlowSpec
}

// Enrolment reads the invitation a link's token names; ErrInvalidLink when it is unknown, used,
// replaced or expired.
func (s *Service) Enrolment(ctx context.Context, token string) (*Enrolment, error) {
	o, f, err := s.flowOf(ctx, resource.FlowInvite, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidLink
	}
	if err != nil {
		return nil, err
	}
	return &Enrolment{ID: o.Metadata.Name, User: f.User, InvitedBy: f.InvitedBy, Expires: f.Expires,
		PasswordSet: f.PasswordHash != "", obj: o, spec: f}, nil
}

// update writes e's flow back (compare-and-swap: a link used twice at once does one thing).
func (s *Service) updateFlow(ctx context.Context, o *resource.Object) error {
	err := s.store.Txn(ctx, func(tx store.Tx) error { return tx.Update(ctx, o) })
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return ErrInvalidLink
	}
	return err
}

// SetPassword checks the new password (twice) and keeps its hash in the enrolment until it
// completes. Problems are FieldErrors on "password" or "confirm".
func (s *Service) SetPassword(ctx context.Context, e *Enrolment, password, confirm string) error {
	if len(password) > MaxPassword {
		return &FieldError{"password", fmt.Sprintf("at most %d bytes", MaxPassword)}
	}
	if err := secret.CheckPassword(password, e.User); err != nil {
		return &FieldError{"password", err.Error()}
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(confirm)) != 1 {
		return &FieldError{"confirm", "the two passwords differ"}
	}
	h, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	c := e.obj.Clone()
	c.Spec.(*resource.AuthFlowSpec).PasswordHash = h
	if err := s.updateFlow(ctx, c); err != nil {
		return err
	}
	e.obj, e.spec, e.PasswordSet = c, c.Spec.(*resource.AuthFlowSpec), true
	return nil
}

func totpAAD(user string) []byte { return []byte(user + "totp") }

// TOTPOffer is a TOTP secret offered to an enrolling user: its otpauth:// URI and QR code (PNG).
type TOTPOffer struct {
	URI string
	// Secret is the base32 form people type into an app that cannot scan.
	Secret string
	QRPNG  []byte
}

// OfferTOTP returns the TOTP secret the enrolment offers, making it (sealed in the flow) the first
// time, so reloading the page shows the same one.
func (s *Service) OfferTOTP(ctx context.Context, e *Enrolment) (*TOTPOffer, error) {
	if !e.PasswordSet {
		return nil, errors.New("set the password first")
	}
	var sec []byte
	if e.spec.TOTPSecret != "" {
		var err error
		if sec, err = s.box.Open(e.spec.TOTPSecret, totpAAD(e.User)); err != nil {
			return nil, fmt.Errorf("opening the offered TOTP secret: %w", err)
		}
	} else {
		sec = secret.NewTOTPSecret()
		c := e.obj.Clone()
		c.Spec.(*resource.AuthFlowSpec).TOTPSecret = s.box.Seal(sec, totpAAD(e.User))
		if err := s.updateFlow(ctx, c); err != nil {
			return nil, err
		}
		e.obj, e.spec = c, c.Spec.(*resource.AuthFlowSpec)
	}
	uri := secret.TOTPURI(s.issuer, e.User, sec)
	png, err := secret.TOTPQRCode(uri)
	if err != nil {
		return nil, err
	}
	return &TOTPOffer{URI: uri, Secret: base32Of(uri), QRPNG: png}, nil
}

// base32Of is the secret parameter of an otpauth URI.
func base32Of(uri string) string {
	_, q, ok := strings.Cut(uri, "?")
	if !ok {
		return ""
	}
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "secret="); ok {
			return v
		}
	}
	return ""
}

// Enrolled is what completing an enrolment gives: the recovery codes, shown once (none without a
// second factor).
type Enrolled struct {
	User          string
	RecoveryCodes []string
	TOTP          bool
}

// ConfirmTOTP checks a code of the offered secret and completes the enrolment with it.
func (s *Service) ConfirmTOTP(ctx context.Context, e *Enrolment, code string) (*Enrolled, error) {
	if !e.PasswordSet || e.spec.TOTPSecret == "" {
		return nil, errors.New("no TOTP secret was offered: reload the page")
	}
	sec, err := s.box.Open(e.spec.TOTPSecret, totpAAD(e.User))
	if err != nil {
		return nil, fmt.Errorf("opening the offered TOTP secret: %w", err)
	}
	step, ok := secret.VerifyTOTP(sec, normaliseCode(code), s.clock.Now(), 0)
	if !ok {
		return nil, &FieldError{"code", "that code is not right: check the clock of the device, and type the code the app shows now"}
	}
	return s.complete(ctx, e, true, step)
}

// Skip completes the enrolment without a second factor, when second factors are optional.
func (s *Service) Skip(ctx context.Context, e *Enrolment) (*Enrolled, error) {
	if s.required {
		return nil, ErrNoSecondFactor
	}
	if !e.PasswordSet {
		return nil, errors.New("set the password first")
	}
	return s.complete(ctx, e, false, 0)
}

// complete replaces the user's credential with the enrolment's, deletes the invitation (single
// use) and audits, in one transaction. Ending the user's sessions is the caller's (package auth).
func (s *Service) complete(ctx context.Context, e *Enrolment, withTOTP bool, step int64) (*Enrolled, error) {
	now := s.clock.Now().UTC()
	cred := &resource.CredentialSpec{User: e.User, PasswordHash: e.spec.PasswordHash, Enrolled: now, InvitedBy: e.InvitedBy}
	out := &Enrolled{User: e.User, TOTP: withTOTP}
	if withTOTP {
		codes, hashes := secret.NewRecoveryCodes()
		cred.TOTPSecret, cred.TOTPLastStep, cred.RecoveryHashes = e.spec.TOTPSecret, step, hashes
		out.RecoveryCodes = codes
	}
	o := &resource.Object{Kind: resource.KindCredential, Version: resource.Version, Metadata: resource.Metadata{Name: e.User}, Spec: cred}
	if err := resource.Validate(o); err != nil {
		return nil, err
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		// The invitation, as read: a link used twice at once completes once.
		if _, err := tx.Delete(ctx, resource.KindAuthFlow, e.ID, e.obj.Metadata.Revision); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				return ErrInvalidLink
			}
			return err
		}
		if err := userExists(ctx, tx, e.User); err != nil {
			return err
		}
		old, err := tx.Get(ctx, resource.KindCredential, e.User)
		switch {
		case err == nil:
			o.Metadata.Revision = old.Metadata.Revision
			err = tx.Update(ctx, o)
		case errors.Is(err, store.ErrNotFound):
			err = tx.Create(ctx, o)
		}
		if err != nil {
			return err
		}
		how := "password only"
		if withTOTP {
			how = "password, TOTP and ten recovery codes"
		}
		detail := fmt.Sprintf("%s enrolled a local account (%s), invited by %s", e.User, how, e.InvitedBy)
		if old != nil {
			detail += "; it replaces the earlier credential"
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: e.User, Action: "enrol", Kind: resource.KindCredential, Name: e.User, Detail: detail, Time: now}); err != nil {
			return err
		}
		return dropEarlierPasskeys(ctx, tx, e, now) // part D: a new enrolment starts the passkeys afresh too
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- sign-in ----

// Account is what a right password tells about its user.
type Account struct {
	User string
	// TOTP and Recovery: the second factors enrolled here (passkeys are package passkey's).
	TOTP, Recovery bool
}

// HasSecondFactor says whether the account has a second factor of this package.
func (a *Account) HasSecondFactor() bool { return a.TOTP || a.Recovery }

// CheckPassword checks user's password. Every failure is ErrWrongCredentials, whether the user
// exists or not, and costs the same work (secret.VerifyNoUser). A hash made with older
// parameters is replaced by one with today's. Throttling and auditing are the caller's.
func (s *Service) CheckPassword(ctx context.Context, user, password string) (*Account, error) {
	if len(password) > MaxPassword {
		password = password[:MaxPassword]
	}
	var o *resource.Object
	var err error
	if resource.ValidUserName(user) {
		o, err = s.store.Get(ctx, resource.KindCredential, user)
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		secret.VerifyNoUser(password)
		return nil, ErrWrongCredentials
	}
	if err != nil {
		return nil, err
	}
	c := o.Spec.(*resource.CredentialSpec)
	ok, rehash, err := secret.VerifyPassword(c.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("credential of %s: %w", user, err)
	}
	if !ok {
		return nil, ErrWrongCredentials
	}
	if rehash {
		if h, err := secret.HashPassword(password); err == nil {
			n := o.Clone()
			n.Spec.(*resource.CredentialSpec).PasswordHash = h
			if err := s.store.Txn(ctx, func(tx store.Tx) error { return tx.Update(ctx, n) }); err != nil {
				s.log.Warn("rehashing a password with today's parameters failed; it is tried again at the next sign-in", "user", user, "err", err)
			}
		}
	}
	return &Account{User: c.User, TOTP: c.TOTPSecret != "", Recovery: len(c.RecoveryHashes) > 0}, nil
}

// Lookup says which second factors user has enrolled here (nil, nil when they have no credential).
func (s *Service) Lookup(ctx context.Context, user string) (*Account, error) {
	o, err := s.store.Get(ctx, resource.KindCredential, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := o.Spec.(*resource.CredentialSpec)
	return &Account{User: c.User, TOTP: c.TOTPSecret != "", Recovery: len(c.RecoveryHashes) > 0}, nil
}

// Second factor kinds VerifySecondFactor reports.
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
)

func normaliseCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// VerifySecondFactor checks a TOTP code (six digits) or else a recovery code of user, and uses it
// up: the TOTP step is recorded (a code of that step or an earlier one is refused ever after), a
// recovery code is removed. It reports which kind it was; ErrWrongCode otherwise.
func (s *Service) VerifySecondFactor(ctx context.Context, user, code string) (string, error) {
	code = normaliseCode(code)
	if code == "" || len(code) > MaxCode {
		return "", ErrWrongCode
	}
	var kind string
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindCredential, user)
		if errors.Is(err, store.ErrNotFound) {
			return ErrWrongCode
		}
		if err != nil {
			return err
		}
		n := o.Clone()
		c := n.Spec.(*resource.CredentialSpec)
		if sixDigits.MatchString(code) {
			if c.TOTPSecret == "" {
				return ErrWrongCode
			}
			sec, err := s.box.Open(c.TOTPSecret, totpAAD(user))
			if err != nil {
				return fmt.Errorf("opening the TOTP secret of %s: %w", user, err)
			}
			step, ok := secret.VerifyTOTP(sec, code, s.clock.Now(), c.TOTPLastStep)
			if !ok {
				return ErrWrongCode
			}
			c.TOTPLastStep, kind = step, FactorTOTP
		} else {
			rest, ok := secret.UseRecoveryCode(c.RecoveryHashes, code)
			if !ok {
				return ErrWrongCode
			}
			c.RecoveryHashes, kind = rest, FactorRecovery
		}
		// Compare-and-swap on the revision read: the same code given twice at once passes once.
		return tx.Update(ctx, n)
	})
	if errors.Is(err, store.ErrConflict) {
		return "", ErrWrongCode
	}
	if err != nil {
		return "", err
	}
	return kind, nil
}

// RecoveryCodesLeft is how many recovery codes user has not used.
func (s *Service) RecoveryCodesLeft(ctx context.Context, user string) (int, error) {
	o, err := s.store.Get(ctx, resource.KindCredential, user)
	if err != nil {
		return 0, err
	}
	return len(o.Spec.(*resource.CredentialSpec).RecoveryHashes), nil
}

// LoginFlow is a sign-in whose password was right, waiting for a second factor.
type LoginFlow struct {
	ID, User   string
	Next       string
	PasswordAt time.Time
	Expires    time.Time
	obj        *resource.Object
}

// StartLogin records a sign-in awaiting its second factor and returns the token of its flow
// cookie. The user's expired flows go, and at most a few sign-ins in progress are kept per user.
func (s *Service) StartLogin(ctx context.Context, user, next string) (string, *LoginFlow, error) {
	id, token := newToken()
	now := s.clock.Now().UTC()
	f := &resource.AuthFlowSpec{Kind: resource.FlowLogin, User: user, Expires: now.Add(LoginFlowTTL), TokenHash: hashToken(token),
		Next: next, PasswordAt: now}
	o := flowObject(id, f)
	if err := resource.Validate(o); err != nil {
		return "", nil, err
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		old, err := tx.List(ctx, resource.KindAuthFlow, store.ListOptions{Filters: store.Filter(resource.IndexUser, user, "flow_kind", resource.FlowLogin)})
		if err != nil {
			return err
		}
		// Expired ones go; of the live ones, the oldest go until there is room for this one.
		var live []*resource.Object
		for _, prev := range old {
			if now.Before(prev.Spec.(*resource.AuthFlowSpec).Expires) {
				live = append(live, prev)
				continue
			}
			if _, err := tx.Delete(ctx, resource.KindAuthFlow, prev.Metadata.Name, 0); err != nil {
				return err
			}
		}
		sort.Slice(live, func(i, j int) bool {
			return live[i].Spec.(*resource.AuthFlowSpec).PasswordAt.Before(live[j].Spec.(*resource.AuthFlowSpec).PasswordAt)
		})
		for len(live) >= maxLoginFlows {
			if _, err := tx.Delete(ctx, resource.KindAuthFlow, live[0].Metadata.Name, 0); err != nil {
				return err
			}
			live = live[1:]
		}
		return tx.Create(ctx, o)
	})
	if err != nil {
		return "", nil, err
	}
	return token, &LoginFlow{ID: id, User: user, Next: next, PasswordAt: now, Expires: f.Expires, obj: o}, nil
}

// Login reads the sign-in a flow cookie's token names; ErrFlowGone when there is none.
func (s *Service) Login(ctx context.Context, token string) (*LoginFlow, error) {
	o, f, err := s.flowOf(ctx, resource.FlowLogin, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrFlowGone
	}
	if err != nil {
		return nil, err
	}
	return &LoginFlow{ID: o.Metadata.Name, User: f.User, Next: f.Next, PasswordAt: f.PasswordAt, Expires: f.Expires, obj: o}, nil
}

// LoginFailed counts a wrong second factor on the flow; at MaxFlowFailures the flow ends
// (ErrFlowGone).
func (s *Service) LoginFailed(ctx context.Context, lf *LoginFlow) error {
	ended := false
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindAuthFlow, lf.ID)
		if err != nil {
			return err
		}
		f := o.Spec.(*resource.AuthFlowSpec)
		f.Failures++
		if ended = f.Failures >= MaxFlowFailures; ended {
			_, err = tx.Delete(ctx, resource.KindAuthFlow, lf.ID, 0)
			return err
		}
		return tx.Update(ctx, o)
	})
	if err == nil && ended {
		return ErrFlowGone
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return ErrFlowGone
	}
	return err
}

// EndLogin deletes a finished sign-in's flow (it can be finished once).
func (s *Service) EndLogin(ctx context.Context, lf *LoginFlow) error {
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		_, err := tx.Delete(ctx, resource.KindAuthFlow, lf.ID, 0)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrFlowGone
	}
	return err
}

// Audit records a sign-in event (success or failure) with who, from where and how; never a
// secret. user is what was typed (shortened), the subject of the entry.
func (s *Service) Audit(ctx context.Context, actor, action, user, detail string) {
	name := user
	if !resource.ValidUserName(name) {
		name = "(not a user name)"
	}
	e := audit.Entry{Actor: actor, Action: action, Kind: resource.KindCredential, Name: name, Detail: detail, Time: s.clock.Now().UTC()}
	if err := s.store.Txn(ctx, func(tx store.Tx) error { return audit.Append(ctx, tx, e) }); err != nil {
		s.log.Error("auditing a sign-in failed", "action", action, "user", name, "err", err)
	}
}

// SetCredential gives user (who must exist) a credential with password and no second factor,
// replacing theirs: for the demo's people, who sign in with a password alone. Audited as by.
func (s *Service) SetCredential(ctx context.Context, by Actor, user, password string) error {
	h, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	now := s.clock.Now().UTC()
	o := &resource.Object{Kind: resource.KindCredential, Version: resource.Version, Metadata: resource.Metadata{Name: user},
		Spec: &resource.CredentialSpec{User: user, PasswordHash: h, Enrolled: now}}
	if err := resource.Validate(o); err != nil {
		return err
	}
	return s.store.Txn(ctx, func(tx store.Tx) error {
		if err := userExists(ctx, tx, user); err != nil {
			return err
		}
		old, err := tx.Get(ctx, resource.KindCredential, user)
		switch {
		case err == nil:
			o.Metadata.Revision = old.Metadata.Revision
			err = tx.Update(ctx, o)
		case errors.Is(err, store.ErrNotFound):
			err = tx.Create(ctx, o)
		}
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, by.entry(audit.Entry{Action: "enrol", Kind: resource.KindCredential, Name: user,
			Detail: fmt.Sprintf("%s given a password (no second factor) by %s", user, by.User), Time: now}))
	})
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Sweep deletes the flows that expired: invitations never used (audited, as warden: the
// invitation of whom, and who sent it) and sign-ins abandoned before their second factor. It
// returns how many it deleted.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	objs, err := s.store.List(ctx, resource.KindAuthFlow, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	n := 0
	for _, o := range objs {
		f := o.Spec.(*resource.AuthFlowSpec)
		if now.Before(f.Expires) {
			continue
		}
		err := s.store.Txn(ctx, func(tx store.Tx) error {
			if _, err := tx.Delete(ctx, resource.KindAuthFlow, o.Metadata.Name, o.Metadata.Revision); err != nil {
				return err
			}
			if f.Kind != resource.FlowInvite {
				return nil
			}
			return audit.Append(ctx, tx, audit.Entry{Actor: "warden", Action: "expire", Kind: resource.KindAuthFlow, Name: o.Metadata.Name,
				Detail: fmt.Sprintf("the invitation of %s sent by %s expired unused at %s", f.User, f.InvitedBy, f.Expires.Format(time.RFC3339)), Time: now.UTC()})
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			// used or replaced meanwhile
		default:
			return n, err
		}
	}
	return n, nil
}

// SweepEvery runs Sweep every interval until ctx ends, logging failures.
func (s *Service) SweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeping expired sign-in flows failed", "err", err)
		} else if n > 0 {
			s.log.Info("swept expired sign-in flows", "count", n)
		}
	}
}
