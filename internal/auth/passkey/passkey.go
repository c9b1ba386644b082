// Package passkey runs WebAuthn ceremonies (passkeys, security keys) for warden's sign-in, over
// github.com/go-webauthn/webauthn.
//
// The relying party is warden at its public address: the RP ID is the host name of public_url
// (config.Config.BaseURL()), the only origin accepted is that URL's scheme, host and port. A base URL
// whose host is an IP address, or empty, cannot be a relying party (browsers refuse it): New says
// so, and passkeys are off until public_url names a host (http://localhost:8080 works locally).
//
// What is kept: one store row (kind passkey) per credential, named "<user>:<hash>" (the hash: first
// 16 bytes of SHA-256 of the credential id, hex), holding the credential id, its COSE public key,
// the user handle, the AAGUID, the signature counter, transports, backup flags, when it was made and
// last used, and a label the user gave it. None of it is secret; the kind is internal all the same
// (never served by the resource API, only to its user).
//
// Ceremonies: Begin makes the options the browser passes to navigator.credentials and keeps the
// library's ceremony data (the challenge, the credentials allowed) server side, in a store row
// (kind passkey_ceremony) named by a hash of what the caller binds it to (the browser's sign-in
// flow or session) and its purpose; a new Begin on the same binding replaces the one before.
// Finish deletes that row first, in a transaction of its own, so a ceremony is used at most once
// whatever its outcome (a replayed response finds nothing), and refuses it after five minutes
// (by the service's clock).
//
//   - Registration: the user's existing credentials are excluded (one authenticator, one
//     passkey), user verification and a resident (discoverable) key are preferred, attestation is
//     not asked for (warden trusts no authenticator model more than another).
//   - Login as a second factor (after the password) and for step-up: only the user's credentials are
//     allowed; user verification preferred.
//   - Usernameless sign-in (Discover): a discoverable credential, user verification required: the
//     authenticator checked something the user has and something they know or are, which counts as
//     two factors. The credential is found by its id, and the user handle it returns must be the one
//     stored with it.
//
// Signature counter. Each use stores the authenticator's new counter. When the counter presented
// is not greater than the stored one (unless both are zero: authenticators that keep no counter,
// as synced passkeys do, always send zero), the credential may have been cloned. warden's choice:
// it marks the credential with a clone warning (kept, with its time), audits it, and refuses the
// sign-in; a credential so marked is refused from then on, until its user removes it and registers
// another. Between a user locked out of one passkey (they have their password, other factors and
// recovery codes) and an attacker signing in with a copied key, warden takes the first. The counter
// is compared and written in one transaction with a fresh read of the row, so two sign-ins at once
// cannot both pass with the same counter.
//
// Every registration, use, clone warning and removal is audited (actions passkey.register,
// passkey.use, passkey.clone_warning, passkey.remove) in the transaction of the change.
package passkey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// CeremonyTTL is how long a begun ceremony may be finished.
const CeremonyTTL = 5 * time.Minute

// MaxResponse bounds the browser's answer to a ceremony (the attestation or assertion JSON): a few
// KB in practice; anything larger is refused before it is parsed.
const MaxResponse = 16 << 10

// MaxPerUser bounds the passkeys one user may register.
const MaxPerUser = 20

// Errors. Messages are for the person at the browser: they never say whether another account or
// another user's credential exists.
var (
	// ErrCeremony: no ceremony to finish for this browser: it expired, was used, was never begun,
	// or was begun for another purpose or user.
	ErrCeremony = errors.New("no passkey ceremony in progress for this page (it expired after 5 minutes or was already used): start again")
	// ErrNoPasskey: the user has no passkey (that may be used) to sign in with.
	ErrNoPasskey = errors.New("no usable passkey is registered for this account")
	// ErrCloneWarning: the credential's signature counter went backwards; it is refused.
	ErrCloneWarning = errors.New("this passkey is refused: its signature counter did not increase, so it may have been copied; remove it and register a new one")
	// ErrTooMany: the user has MaxPerUser passkeys already.
	ErrTooMany = fmt.Errorf("at most %d passkeys per account: remove one first", MaxPerUser)
	// ErrBusy: too many usernameless sign-ins begun at once (anyone may begin one, and each is
	// kept in the store until used or expired, so their rate is bounded).
	ErrBusy = errors.New("too many passkey sign-ins are starting at once: try again in a moment")
	// ErrUnavailable: passkeys are off (the base URL names no host that can be a relying party).
	ErrUnavailable = errors.New("passkeys are not available: set public_url to warden's address with a host name (https://warden.example.com, or http://localhost:8080 locally)")
)

// RefusedError is a ceremony response that did not verify: a bad signature, another origin, a
// credential not allowed, user verification missing... Reason is safe to show.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "the passkey was not accepted: " + e.Reason }

func refused(err error) error {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Details != "" {
		return &RefusedError{Reason: perr.Details}
	}
	return &RefusedError{Reason: err.Error()}
}

// Service runs the ceremonies and keeps the credentials.
type Service struct {
	store  store.Store
	wa     *webauthn.WebAuthn
	clock  clock.Clock
	rpID   string
	origin string

	sweepMu   sync.Mutex
	lastSweep time.Time
	// discover bounds the usernameless ceremonies begun (by anyone, before any sign-in).
	discover *rate.Limiter
}

// Usernameless ceremonies may begin at DiscoverRate a second (bursts of DiscoverBurst) per process:
// at most about DiscoverRate·CeremonyTTL of them are kept at once.
const (
	DiscoverRate  = 20
	DiscoverBurst = 100
)

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from c (tests).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithDiscoverLimit sets the rate (a second) and burst of usernameless ceremonies (tests; default
// DiscoverRate, DiscoverBurst).
func WithDiscoverLimit(perSecond float64, burst int) Option {
	return func(s *Service) { s.discover = rate.NewLimiter(rate.Limit(perSecond), burst) }
}

// RelyingParty derives the RP ID and the origin from warden's base URL.
func RelyingParty(baseURL string) (rpID, origin string, err error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%w (base URL %q)", ErrUnavailable, baseURL)
	}
	host := u.Hostname()
	if host == "" || net.ParseIP(host) != nil {
		return "", "", fmt.Errorf("%w (base URL %q: a relying party is a host name, not an address)", ErrUnavailable, baseURL)
	}
	if err := protocol.ValidateRPID(host); err != nil {
		return "", "", fmt.Errorf("%w (base URL %q: %v)", ErrUnavailable, baseURL, err)
	}
	return strings.ToLower(host), u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// New returns the passkey service of warden reached at baseURL (config.Config.BaseURL()).
func New(st store.Store, baseURL string, opts ...Option) (*Service, error) {
	rpID, origin, err := RelyingParty(baseURL)
	if err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: "warden",
		RPOrigins:     []string{origin},
		// No attestation asked: warden keeps no list of trusted authenticator models.
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			// Expiry is enforced here, by the service's clock, not the library's wall clock.
			Login:        webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	s := &Service{store: st, wa: wa, clock: clock.Real(), rpID: rpID, origin: origin}
	WithDiscoverLimit(DiscoverRate, DiscoverBurst)(s)
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// RPID is the relying party id (the host name of the base URL).
func (s *Service) RPID() string { return s.rpID }

// Origin is the one origin ceremonies are accepted from.
func (s *Service) Origin() string { return s.origin }

// CredentialHash is the hash that names a credential in the store: the first 16 bytes of SHA-256 of
// its id, hex.
func CredentialHash(credentialID []byte) string {
	sum := sha256.Sum256(credentialID)
	return hex.EncodeToString(sum[:16])
}

// Name is the store name of user's credential with this id.
func Name(user string, credentialID []byte) string { return user + ":" + CredentialHash(credentialID) }

var b64 = base64.RawURLEncoding

// ---- the library's view of a user ----

type waUser struct {
	name   string
	handle []byte
	creds  []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.name }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func credential(spec *resource.PasskeySpec) (webauthn.Credential, error) {
	id, err1 := b64.DecodeString(spec.CredentialID)
	pk, err2 := b64.DecodeString(spec.PublicKey)
	if err := errors.Join(err1, err2); err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey of %s: %w", spec.User, err)
	}
	c := webauthn.Credential{
		ID: id, PublicKey: pk, AttestationType: spec.AttestationType, AttestationFormat: spec.AttestationFormat,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: spec.UserVerified,
			BackupEligible: spec.BackupEligible, BackupState: spec.BackupState},
		Authenticator: webauthn.Authenticator{SignCount: spec.SignCount, CloneWarning: spec.CloneWarning},
	}
	for _, t := range spec.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	if a, err := uuid.Parse(spec.AAGUID); err == nil {
		c.Authenticator.AAGUID = a[:]
	}
	return c, nil
}

// List returns user's passkeys, ordered by name.
func (s *Service) List(ctx context.Context, user string) ([]*resource.Object, error) {
	return s.store.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexUser, user)})
}

// user loads user's passkeys as the library sees them: the user handle they share (a new random
// one when they have none) and those whose clone warning is not set, unless all is set.
func (s *Service) user(ctx context.Context, name string, all bool) (*waUser, []*resource.Object, error) {
	objs, err := s.List(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	u := &waUser{name: name}
	for _, o := range objs {
		spec := o.Spec.(*resource.PasskeySpec)
		if u.handle == nil {
			if u.handle, err = b64.DecodeString(spec.UserHandle); err != nil {
				return nil, nil, fmt.Errorf("passkey %s: user handle: %w", o.Metadata.Name, err)
			}
		}
		if spec.CloneWarning && !all {
			continue
		}
		c, err := credential(spec)
		if err != nil {
			return nil, nil, err
		}
		u.creds = append(u.creds, c)
	}
	if u.handle == nil {
		u.handle = make([]byte, 32)
		if _, err := rand.Read(u.handle); err != nil {
			return nil, nil, err
		}
	}
	return u, objs, nil
}

// ---- ceremonies kept server side ----

func ceremonyName(purpose, binding string) string {
	sum := sha256.Sum256([]byte(purpose + "\x00" + binding))
	return hex.EncodeToString(sum[:])
}

// keep stores a ceremony for binding, replacing one begun before on it.
func (s *Service) keep(ctx context.Context, purpose, user, binding, label string, sd *webauthn.SessionData) error {
	if binding == "" {
		return errors.New("passkey: a ceremony must be bound to a browser's flow or session")
	}
	s.sweep(ctx)
	sd.Expires = time.Time{} // the service checks expiry by its own clock
	raw, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	o := &resource.Object{Kind: resource.KindPasskeyCeremony, Version: resource.Version,
		Metadata: resource.Metadata{Name: ceremonyName(purpose, binding)},
		Spec: &resource.PasskeyCeremonySpec{Purpose: purpose, User: user, Expires: s.clock.Now().Add(CeremonyTTL).UTC(),
			Session: raw, Label: label}}
	if err := resource.Validate(o); err != nil {
		return err
	}
	return s.store.Txn(ctx, func(tx store.Tx) error {
		if _, err := tx.Delete(ctx, o.Kind, o.Metadata.Name, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Create(ctx, o)
	})
}

// take removes and returns the ceremony of binding for purpose (and user, unless discover): used
// once, whatever comes of it.
func (s *Service) take(ctx context.Context, purpose, user, binding string) (*resource.PasskeyCeremonySpec, *webauthn.SessionData, error) {
	if binding == "" {
		return nil, nil, ErrCeremony
	}
	o, err := s.store.Delete(ctx, resource.KindPasskeyCeremony, ceremonyName(purpose, binding), 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrCeremony
	}
	if err != nil {
		return nil, nil, err
	}
	c := o.Spec.(*resource.PasskeyCeremonySpec)
	if c.Purpose != purpose || c.User != user || !s.clock.Now().Before(c.Expires) {
		return nil, nil, ErrCeremony
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return nil, nil, fmt.Errorf("passkey ceremony: %w", err)
	}
	return c, &sd, nil
}

// sweep deletes ceremonies past their expiry (begun and never finished), at most once a minute.
func (s *Service) sweep(ctx context.Context) {
	now := s.clock.Now()
	s.sweepMu.Lock()
	if now.Sub(s.lastSweep) < time.Minute && !s.lastSweep.IsZero() {
		s.sweepMu.Unlock()
		return
	}
	s.lastSweep = now
	s.sweepMu.Unlock()
	objs, err := s.store.List(ctx, resource.KindPasskeyCeremony, store.ListOptions{})
	if err != nil {
		return
	}
	for _, o := range objs {
		if !now.Before(o.Spec.(*resource.PasskeyCeremonySpec).Expires) {
			s.store.Delete(ctx, o.Kind, o.Metadata.Name, o.Metadata.Revision) // lost races are fine
		}
	}
}

func checkLabel(label string) error {
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > resource.MaxPasskeyLabel {
		return &resource.FieldError{Field: "label", Message: fmt.Sprintf("at most %d characters", resource.MaxPasskeyLabel)}
	}
	for _, r := range label {
		if r < 0x20 || r == 0x7f {
			return &resource.FieldError{Field: "label", Message: "no control characters"}
		}
	}
	return nil
}

func entry(by *auth.Principal, user string, e audit.Entry) audit.Entry {
	if by != nil {
		return by.Entry(e)
	}
	e.Actor = user
	return e
}

// ---- registration ----

// BeginRegistration starts registering a passkey for user (who must exist), bound to binding, with
// the label the user gave it. It returns the options for navigator.credentials.create.
func (s *Service) BeginRegistration(ctx context.Context, user, binding, label string) (*protocol.CredentialCreation, error) {
	label = strings.TrimSpace(label)
	if err := checkLabel(label); err != nil {
		return nil, err
	}
	if _, err := s.store.Get(ctx, resource.KindUser, user); err != nil {
		return nil, err
	}
	u, objs, err := s.user(ctx, user, true)
	if err != nil {
		return nil, err
	}
	if len(objs) >= MaxPerUser {
		return nil, ErrTooMany
	}
	var exclude []protocol.CredentialDescriptor
	for _, o := range objs {
		c, err := credential(o.Spec.(*resource.PasskeySpec))
		if err != nil {
			return nil, err
		}
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := s.wa.BeginRegistration(u,
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
	)
	if err != nil {
		return nil, fmt.Errorf("passkey registration: %w", err)
	}
	if err := s.keep(ctx, resource.CeremonyRegister, user, binding, label, sd); err != nil {
		return nil, err
	}
	return opts, nil
}

// RegisterOption qualifies a registration.
type RegisterOption func(*resource.PasskeySpec)

// DuringEnrolment records that the passkey is registered during enrolment id (an invitation being
// used): completing that enrolment keeps it, and removes the user's earlier passkeys.
func DuringEnrolment(id string) RegisterOption {
	return func(p *resource.PasskeySpec) { p.Enrolment = id }
}

// FinishRegistration verifies the browser's answer (the PublicKeyCredential as JSON) to the
// ceremony begun on binding for user and stores the new passkey, audited as by (nil: the user
// themself, as during enrolment).
func (s *Service) FinishRegistration(ctx context.Context, by *auth.Principal, user, binding string, response []byte, opts ...RegisterOption) (*resource.Object, error) {
	c, sd, err := s.take(ctx, resource.CeremonyRegister, user, binding)
	if err != nil {
		return nil, err
	}
	if len(response) > MaxResponse {
		return nil, &RefusedError{Reason: fmt.Sprintf("the answer is larger than %d bytes", MaxResponse)}
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refused(err)
	}
	u, _, err := s.user(ctx, user, true)
	if err != nil {
		return nil, err
	}
	u.handle = sd.UserID // as offered to the authenticator at Begin
	cred, err := s.wa.CreateCredential(u, *sd, parsed)
	if err != nil {
		return nil, refused(err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	spec := &resource.PasskeySpec{
		User: user, CredentialID: b64.EncodeToString(cred.ID), UserHandle: b64.EncodeToString(sd.UserID),
		PublicKey: b64.EncodeToString(cred.PublicKey), AttestationType: cred.AttestationType,
		AttestationFormat: cred.AttestationFormat, SignCount: cred.Authenticator.SignCount,
		UserVerified: cred.Flags.UserVerified, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Created: now, Label: c.Label,
	}
	for _, opt := range opts {
		opt(spec)
	}
	if a, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil {
		spec.AAGUID = a.String()
	}
	for _, t := range cred.Transport {
		if len(spec.Transports) < 8 && len(t) <= 32 {
			spec.Transports = append(spec.Transports, string(t))
		}
	}
	o := &resource.Object{Kind: resource.KindPasskey, Version: resource.Version,
		Metadata: resource.Metadata{Name: Name(user, cred.ID)}, Spec: spec}
	if err := resource.Validate(o); err != nil {
		return nil, &RefusedError{Reason: err.Error()}
	}
	detail := fmt.Sprintf("passkey %s registered for %s", o.Metadata.Name, user)
	if spec.Label != "" {
		detail += fmt.Sprintf(" (%q)", spec.Label)
	}
	if spec.AAGUID != "" && spec.AAGUID != uuid.Nil.String() {
		detail += ", authenticator " + spec.AAGUID
	}
	err = s.store.Txn(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(ctx, resource.KindUser, user); err != nil {
			return err
		}
		same, err := tx.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexCredential, CredentialHash(cred.ID))})
		if err != nil {
			return err
		}
		if len(same) > 0 {
			return &RefusedError{Reason: "this authenticator's credential is already registered"}
		}
		mine, err := tx.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexUser, user)})
		if err != nil {
			return err
		}
		if len(mine) >= MaxPerUser {
			return ErrTooMany
		}
		if err := tx.Create(ctx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entry(by, user, audit.Entry{Action: "passkey.register", After: o, Detail: detail}))
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ---- sign-in ----

// Use is a passkey sign-in that verified.
type Use struct {
	User    string
	Passkey *resource.Object
	// UserVerified: the authenticator verified the user (PIN, biometrics) this time.
	UserVerified bool
}

// BeginLogin starts a sign-in with one of user's passkeys (a second factor after the password, or
// a step-up), bound to binding. It returns the options for navigator.credentials.get, or
// ErrNoPasskey.
func (s *Service) BeginLogin(ctx context.Context, user, binding string) (*protocol.CredentialAssertion, error) {
	u, _, err := s.user(ctx, user, false)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, ErrNoPasskey
	}
	opts, sd, err := s.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("passkey sign-in: %w", err)
	}
	if err := s.keep(ctx, resource.CeremonyLogin, user, binding, "", sd); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishLogin verifies the browser's answer to the sign-in begun on binding for user.
func (s *Service) FinishLogin(ctx context.Context, user, binding string, response []byte) (*Use, error) {
	_, sd, err := s.take(ctx, resource.CeremonyLogin, user, binding)
	if err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return nil, err
	}
	u, objs, err := s.user(ctx, user, false)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, ErrNoPasskey
	}
	if err := cloned(objs, user, parsed.RawID); err != nil {
		return nil, err
	}
	if _, err := s.wa.ValidateLogin(u, *sd, parsed); err != nil {
		return nil, refused(err)
	}
	return s.used(ctx, user, parsed)
}

// BeginDiscover starts a usernameless sign-in bound to binding: any discoverable passkey of this
// relying party may answer; user verification is required.
func (s *Service) BeginDiscover(ctx context.Context, binding string) (*protocol.CredentialAssertion, error) {
	if !s.discover.Allow() {
		return nil, ErrBusy
	}
	opts, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey sign-in: %w", err)
	}
	if err := s.keep(ctx, resource.CeremonyDiscover, "", binding, "", sd); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishDiscover verifies the answer to the usernameless sign-in begun on binding and says whose
// passkey it was. The user was verified by the authenticator (the ceremony requires it).
func (s *Service) FinishDiscover(ctx context.Context, binding string, response []byte) (*Use, error) {
	_, sd, err := s.take(ctx, resource.CeremonyDiscover, "", binding)
	if err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return nil, err
	}
	var owner string
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		found, err := s.store.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexCredential, CredentialHash(rawID))})
		if err != nil {
			return nil, err
		}
		if len(found) != 1 {
			return nil, errors.New("unknown credential")
		}
		spec := found[0].Spec.(*resource.PasskeySpec)
		if spec.UserHandle != b64.EncodeToString(userHandle) {
			return nil, errors.New("the user handle is not the credential's")
		}
		if err := cloned(found, spec.User, rawID); err != nil {
			return nil, err
		}
		u, _, err := s.user(ctx, spec.User, false)
		if err != nil {
			return nil, err
		}
		owner = spec.User
		return u, nil
	}
	if _, _, err := s.wa.ValidatePasskeyLogin(handler, *sd, parsed); err != nil {
		if errors.Is(err, ErrCloneWarning) {
			return nil, ErrCloneWarning
		}
		return nil, refused(err)
	}
	return s.used(ctx, owner, parsed)
}

func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) > MaxResponse {
		return nil, &RefusedError{Reason: fmt.Sprintf("the answer is larger than %d bytes", MaxResponse)}
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, refused(err)
	}
	return parsed, nil
}

// cloned refuses a credential already marked with a clone warning.
func cloned(objs []*resource.Object, user string, rawID []byte) error {
	name := Name(user, rawID)
	for _, o := range objs {
		if o.Metadata.Name == name && o.Spec.(*resource.PasskeySpec).CloneWarning {
			return ErrCloneWarning
		}
	}
	return nil
}

// used records a verified use: the new counter and the time, or the clone warning when the counter
// did not increase. It reads the row afresh in the transaction, so concurrent uses are ordered.
func (s *Service) used(ctx context.Context, user string, parsed *protocol.ParsedCredentialAssertionData) (*Use, error) {
	name := Name(user, parsed.RawID)
	count := parsed.Response.AuthenticatorData.Counter
	flags := parsed.Response.AuthenticatorData.Flags
	now := s.clock.Now().UTC()
	var out *resource.Object
	var clone bool
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindPasskey, name)
		if err != nil {
			return err
		}
		spec := o.Spec.(*resource.PasskeySpec)
		if spec.CloneWarning {
			clone = true
			return nil
		}
		var e audit.Entry
		if count <= spec.SignCount && (count != 0 || spec.SignCount != 0) {
			clone = true
			spec.CloneWarning, spec.CloneWarningAt = true, now.Truncate(time.Second)
			e = audit.Entry{Actor: user, Action: "passkey.clone_warning", Kind: o.Kind, Name: name,
				Detail: fmt.Sprintf("passkey %s of %s presented signature counter %d, not above the stored %d: it may have been copied; sign-in refused, passkey refused from now on", name, user, count, spec.SignCount)}
		} else {
			spec.SignCount = count
			spec.LastUsed = now.Truncate(time.Second)
			spec.BackupState = flags.HasBackupState()
			e = audit.Entry{Actor: user, Action: "passkey.use", Kind: o.Kind, Name: name,
				Detail: fmt.Sprintf("passkey %s of %s used to sign in (user verified: %t, counter %d)", name, user, flags.HasUserVerified(), count)}
		}
		if err := tx.Update(ctx, o); err != nil {
			return err
		}
		out = o
		return audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	if clone {
		return nil, ErrCloneWarning
	}
	return &Use{User: user, Passkey: out, UserVerified: flags.HasUserVerified()}, nil
}

// ---- removal ----

// Remove deletes user's passkey name at by's request (nil: the user), audited. A name that is not
// one of user's passkeys is not found.
func (s *Service) Remove(ctx context.Context, by *auth.Principal, user, name string) (*resource.Object, error) {
	if u, _, ok := strings.Cut(name, ":"); !ok || u != user {
		return nil, &store.ObjectError{Kind: resource.KindPasskey, Name: name, Err: store.ErrNotFound}
	}
	var old *resource.Object
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		var err error
		if old, err = tx.Delete(ctx, resource.KindPasskey, name, 0); err != nil {
			return err
		}
		if old.Spec.(*resource.PasskeySpec).User != user {
			return &store.ObjectError{Kind: resource.KindPasskey, Name: name, Err: store.ErrNotFound}
		}
		actor := user
		if by != nil {
			actor = by.User
		}
		return audit.Append(ctx, tx, entry(by, user, audit.Entry{Action: "passkey.remove", Before: old,
			Detail: fmt.Sprintf("passkey %s of %s removed by %s", name, user, actor)}))
	})
	return old, err
}
