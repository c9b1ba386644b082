package server

// Sign-in through the company's identity provider: the upstream OIDC connectors of auth.oidc
// (package auth/oidc), wired to browser sessions.
//
// GET /login/oidc/{name} starts a flow: the connector's Begin makes the state, nonce and PKCE
// verifier, kept server side in an oidc_flow record for ten minutes, and the browser goes to the
// provider. The flow is bound to the browser by a short-lived HttpOnly cookie holding a random
// secret: the record's name (the flow's id, which the audit entries name) is a hash of it, and the
// record's state is encrypted under another hash of it, so the store alone can neither finish the
// flow nor read its state, nonce or verifier (and none of them is ever logged).
//
// GET /login/oidc/{name}/callback finishes it: the record is deleted first (a callback is used at
// most once: a replay, or a second tab, finds nothing), then the connector checks the state, the
// issuer, the code exchange with the verifier, the ID token (signature, issuer, audience, expiry,
// nonce) and who is admitted (Finish); Sync makes the warden user agree with the claims; a session
// is issued (method oidc, the connector, and whether the provider said it used several factors:
// OIDCMFA); and the browser goes on to the local path the flow kept. Every callback of a flow this
// browser began is audited, refused or not; an error page says what the person can do, never the
// provider's details (they are logged, under an error id shown on the page).
//
// The second factor, warden's choice: a session made through a provider that asserted MFA (amr) has
// a second factor, dated when the provider authenticated the person (auth_time, when the ID token
// has it; else the callback's time). One made without it is a session all the same, with no second
// factor, whatever auth.second_factor says: the provider decides how its people sign in, and warden
// cannot enrol a factor for them there. What needs a recent second factor (approving access,
// administrative changes: the step-up rule) is refused to that session until the person steps up:
// with a local second factor when they have one, or through the provider again with
// /login/oidc/{name}?step_up=1, which asks the provider to authenticate them now (prompt=login,
// max_age=0) and counts only if it then asserts MFA.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/oidc"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// OIDC flows' bounds.
const (
	// OIDCFlowTTL is how long a sign-in through a provider may take, from the button to the callback.
	OIDCFlowTTL = 10 * time.Minute
	// maxOIDCFlows bounds the flows in progress (begun, not finished, not expired): anyone may
	// begin one, and each is a row in the store.
	maxOIDCFlows = 10000
	// oidcCookie holds the flow's secret (__Host- prefixed over TLS).
	oidcCookie = "warden_oidc"
	// oidcRetryMin and oidcRetryMax bound the wait between two discoveries of a provider that
	// could not be reached.
	oidcRetryMin = time.Second
	oidcRetryMax = 5 * time.Minute
)

// oidcState is the server's connectors: those configured, and those discovered (ready).
type oidcState struct {
	mu    sync.RWMutex
	names []string // configured, in the config's order
	ready map[string]*oidc.Connector
	// sweep: when expired flows were last deleted, and the flows counted then plus those begun
	// since (an upper bound of the flows in progress).
	lastSweep time.Time
	live      int
}

// OIDCConnector is a configured connector as the sign-in page lists it.
type OIDCConnector struct {
	Name string
	// Ready: the provider was discovered; until then its sign-in answers that it is unavailable.
	Ready bool
}

// DeclareOIDC records the configured connectors' names, in order: the sign-in page offers them,
// and those not yet ready (AddOIDCConnector) answer that they are unavailable.
func (s *Server) DeclareOIDC(names ...string) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	for _, n := range names {
		if !containsString(s.oidc.names, n) {
			s.oidc.names = append(s.oidc.names, n)
		}
	}
}

// AddOIDCConnector makes c ready for sign-in (declaring it when it was not).
func (s *Server) AddOIDCConnector(c *oidc.Connector) {
	s.DeclareOIDC(c.Name())
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.ready == nil {
		s.oidc.ready = map[string]*oidc.Connector{}
	}
	s.oidc.ready[c.Name()] = c
}

// OIDCConnectors lists the configured connectors, in the config's order.
func (s *Server) OIDCConnectors() []OIDCConnector {
	s.oidc.mu.RLock()
	defer s.oidc.mu.RUnlock()
	out := make([]OIDCConnector, 0, len(s.oidc.names))
	for _, n := range s.oidc.names {
		_, ok := s.oidc.ready[n]
		out = append(out, OIDCConnector{Name: n, Ready: ok})
	}
	return out
}

func (s *Server) oidcConnector(name string) (c *oidc.Connector, declared bool) {
	s.oidc.mu.RLock()
	defer s.oidc.mu.RUnlock()
	return s.oidc.ready[name], containsString(s.oidc.names, name)
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// OIDCRedirectURL is the callback URL of connector name, to register at the provider.
func OIDCRedirectURL(baseURL, name string) string {
	return strings.TrimSuffix(baseURL, "/") + "/login/oidc/" + name + "/callback"
}

// OIDCSetup is what StartOIDC needs.
type OIDCSetup struct {
	// Connectors are the config's auth.oidc items.
	Connectors []oidc.Config
	// BaseURL is warden's public URL: the callbacks are <BaseURL>/login/oidc/<name>/callback.
	BaseURL string
	// Retry times the waits between discoveries (nil: the wall clock).
	Retry clock.Clock
	// Options are passed to every connector (after the server's logger and clock).
	Options []oidc.Option
}

// StartOIDC declares a connector per configured item and discovers each provider in the
// background, so that a provider that cannot be reached blocks neither the server's start nor any
// other way to sign in: a failed discovery is logged and retried after 1 s, then twice as long each
// time up to 5 minutes, until it succeeds or ctx ends. A connector whose configuration is wrong
// (its secret's variable unset, say) is retried as well: the log says what to fix. The channel
// returned is closed when every connector is ready, or ctx ended.
func (s *Server) StartOIDC(ctx context.Context, setup OIDCSetup) <-chan struct{} {
	retry := setup.Retry
	if retry == nil {
		retry = clock.Real()
	}
	opts := []oidc.Option{oidc.WithLogger(s.log)}
	if s.clock != nil {
		opts = append(opts, oidc.WithClock(s.clock))
	}
	opts = append(opts, setup.Options...)
	cfgs := setup.Connectors
	names := make([]string, 0, len(cfgs))
	for _, cfg := range cfgs {
		names = append(names, cfg.Name)
	}
	s.DeclareOIDC(names...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			redirect := OIDCRedirectURL(setup.BaseURL, cfg.Name)
			wait := oidcRetryMin
			for attempt := 1; ; attempt++ {
				dctx, cancel := context.WithTimeout(ctx, time.Minute)
				conn, err := oidc.New(dctx, cfg, redirect, opts...)
				cancel()
				if err == nil {
					s.AddOIDCConnector(conn)
					s.log.Info("oidc connector ready", "connector", cfg.Name, "issuer", cfg.Issuer, "redirect_url", redirect, "attempts", attempt)
					return
				}
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("oidc connector not ready: its provider could not be discovered; sign-in through it is unavailable until it is, other sign-ins work",
					"connector", cfg.Name, "issuer", cfg.Issuer, "attempt", attempt, "retry_in", wait.String(), "err", err)
				if clock.Sleep(ctx, retry, wait) != nil {
					return
				}
				wait = min(2*wait, oidcRetryMax)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

// OIDCMFA says whether an ID token's amr claim (RFC 8176: the authentication methods the provider
// used) shows a second factor: it holds "mfa" (several factors), or a method that is one in
// practice: "otp" (a one-time code), "hwk" (a hardware-bound key: a security key or a device-bound
// passkey), "swk" (a software-bound key: an authenticator app's push), "sms" or "tel" (a code or a
// call to a phone), "sc" (a smart card). A password, biometrics alone ("fpt", "face"...), "kba" or
// an amr that is absent or unreadable is not. warden trusts the provider's amr as it trusts its ID
// token: an administrator who needs more makes the provider require MFA for warden's client.
func OIDCMFA(amr any) bool {
	var methods []string
	switch v := amr.(type) {
	case []any:
		for _, m := range v {
			if s, ok := m.(string); ok {
				methods = append(methods, s)
			}
		}
	case []string:
		methods = v
	case string: // not per the RFC, but some providers send one string
		methods = strings.Fields(v)
	}
	for _, m := range methods {
		switch m {
		case "mfa", "otp", "hwk", "swk", "sms", "tel", "sc":
			return true
		}
	}
	return false
}

// oidcStepUp is the connector sess was made through, when it is ready, for a step-up through its
// provider ("" when there is none).
func (s *Server) oidcStepUp(sess *auth.Session) string {
	for i := len(sess.Methods) - 1; i >= 0; i-- {
		if m := sess.Methods[i]; m.Method == auth.MethodOIDC && m.Connector != "" {
			if c, _ := s.oidcConnector(m.Connector); c != nil {
				return m.Connector
			}
			return ""
		}
	}
	return ""
}

func (s *Server) oidcRoutes() {
	s.handle("GET /login/oidc/{name}", s.oidcBegin)
	s.handle("GET /login/oidc/{name}/callback", s.oidcCallback)
}

// flowKeys derives the flow's id (named in the store and the audit) and its encryption key from the
// browser's secret.
func flowKeys(secret string) (id string, key []byte) {
	idSum := sha256.Sum256([]byte("warden oidc flow id\x00" + secret))
	keySum := sha256.Sum256([]byte("warden oidc flow key\x00" + secret))
	return hex.EncodeToString(idSum[:16]), keySum[:]
}

func sealFlow(key []byte, aad string, st oidc.State) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte(aad))), nil
}

func openFlow(key []byte, aad, sealed string) (oidc.State, error) {
	var st oidc.State
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return st, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return st, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return st, err
	}
	if len(raw) < gcm.NonceSize() {
		return st, errors.New("sealed state too short")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(plain, &st)
}

// sweepOIDCFlows deletes the expired flows, at most once a minute, and says whether another flow
// may begin (fewer than maxOIDCFlows in progress).
func (s *Server) sweepOIDCFlows(ctx context.Context, now time.Time) bool {
	s.oidc.mu.Lock()
	due := s.oidc.lastSweep.IsZero() || now.Sub(s.oidc.lastSweep) >= time.Minute
	if due {
		s.oidc.lastSweep = now
	}
	s.oidc.mu.Unlock()
	if due {
		objs, err := s.store.List(ctx, resource.KindOIDCFlow, store.ListOptions{})
		if err != nil {
			s.log.Warn("listing oidc flows to delete the expired ones failed", "err", err)
		} else {
			live := 0
			for _, o := range objs {
				if now.Before(o.Spec.(*resource.OIDCFlowSpec).Expires) {
					live++
					continue
				}
				if _, err := s.store.Delete(ctx, resource.KindOIDCFlow, o.Metadata.Name, o.Metadata.Revision); err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
					s.log.Warn("deleting an expired oidc flow failed", "flow", o.Metadata.Name, "err", err)
				}
			}
			s.oidc.mu.Lock()
			s.oidc.live = live
			s.oidc.mu.Unlock()
		}
	}
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.live >= maxOIDCFlows {
		return false
	}
	s.oidc.live++
	return true
}

func (s *Server) oidcBegin(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	conn, declared := s.oidcConnector(name)
	switch {
	case !declared:
		s.pageError(w, r, http.StatusNotFound, "There is no such way to sign in.")
		return
	case s.Sessions() == nil:
		s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden.")
		return
	case conn == nil:
		s.pageError(w, r, http.StatusServiceUnavailable, "Signing in with "+name+" is not available right now: warden cannot reach the identity provider yet. Try again in a minute, or sign in another way.")
		return
	}
	ctx := r.Context()
	now := s.now()
	if !s.sweepOIDCFlows(ctx, now) {
		s.log.Warn("oidc sign-in refused: too many flows in progress", "connector", name, "max", maxOIDCFlows)
		s.pageError(w, r, http.StatusServiceUnavailable, "Too many sign-ins are in progress right now. Try again in a few minutes.")
		return
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	id, key := flowKeys(secret)
	authURL, st := conn.Begin()
	if r.URL.Query().Get("step_up") == "1" {
		// A step-up: the provider must authenticate the person now (prompt=login, max_age=0), and
		// say when (auth_time), so that the second factor it asserts is a fresh one.
		if u, err := url.Parse(authURL); err == nil {
			q := u.Query()
			q.Set("prompt", "login")
			q.Set("max_age", "0")
			u.RawQuery = q.Encode()
			authURL = u.String()
		}
	}
	sealed, err := sealFlow(key, id+"\x00"+name, st)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	o := &resource.Object{Kind: resource.KindOIDCFlow, Version: resource.Version, Metadata: resource.Metadata{Name: id},
		Spec: &resource.OIDCFlowSpec{Connector: name, Expires: now.Add(OIDCFlowTTL).UTC(), Next: SafeNext(r.URL.Query().Get("next")), Sealed: sealed}}
	if err := resource.Validate(o); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.store.Create(ctx, o); err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.setCookie(w, oidcCookie, secret, int(OIDCFlowTTL/time.Second))
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// auditOIDC records the outcome of a flow's callback.
func (s *Server) auditOIDC(ctx context.Context, actor, action, flow, detail string) {
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: action, Kind: resource.KindOIDCFlow, Name: flow, Detail: detail})
	})
	if err != nil {
		s.log.Error("auditing an oidc sign-in failed", "flow", flow, "err", err)
	}
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	conn, declared := s.oidcConnector(name)
	if !declared {
		s.pageError(w, r, http.StatusNotFound, "There is no such way to sign in.")
		return
	}
	if s.Sessions() == nil {
		s.pageError(w, r, http.StatusNotFound, "Sign-in is not enabled on this warden.")
		return
	}
	ctx := r.Context()
	again := "Start again from the sign-in page."
	secret := s.cookie(r, oidcCookie)
	s.setCookie(w, oidcCookie, "", -1) // a flow's cookie is used once, whatever happens
	if secret == "" {
		s.log.Info("oidc callback refused: no flow cookie (not begun in this browser, or older than 10 minutes)", "connector", name)
		s.pageError(w, r, http.StatusBadRequest, "This sign-in was not started in this browser, or it took more than 10 minutes. "+again)
		return
	}
	flow, key := flowKeys(secret)
	// Deleted before anything else: whatever follows, the flow is used.
	o, err := s.store.Delete(ctx, resource.KindOIDCFlow, flow, 0)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Info("oidc callback refused: the flow is used or expired", "connector", name, "flow", flow)
		s.pageError(w, r, http.StatusBadRequest, "This sign-in was already used or has expired. "+again)
		return
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	spec := o.Spec.(*resource.OIDCFlowSpec)
	origin := resource.OriginOIDCPrefix + name
	refuse := func(status int, reason, msg string) {
		s.auditOIDC(ctx, "anonymous", "signin.refused", flow, fmt.Sprintf("sign-in through %s refused (flow %s): %s", origin, flow, reason))
		s.pageError(w, r, status, msg)
	}
	now := s.now()
	switch {
	case spec.Connector != name:
		refuse(http.StatusBadRequest, "the flow was begun for connector "+spec.Connector, "This sign-in was started for another identity provider. "+again)
		return
	case !now.Before(spec.Expires):
		refuse(http.StatusBadRequest, "the flow expired", "This sign-in took more than 10 minutes. "+again)
		return
	case conn == nil:
		refuse(http.StatusServiceUnavailable, "the connector is not ready", "Signing in with "+name+" is not available right now. Try again in a minute.")
		return
	}
	st, err := openFlow(key, flow+"\x00"+name, spec.Sealed)
	if err != nil {
		refuse(http.StatusBadRequest, "the flow's state could not be opened", "This sign-in could not be read. "+again)
		return
	}
	id, err := conn.Finish(ctx, st, r.URL.Query())
	if err != nil {
		s.oidcRefused(w, r, flow, origin, err)
		return
	}
	user, err := conn.Sync(ctx, s.store, id, "flow "+flow)
	if err != nil {
		s.oidcRefused(w, r, flow, origin, err)
		return
	}
	mfa := OIDCMFA(id.Claims["amr"])
	at := authTime(id.Claims["auth_time"], now)
	if _, err := s.Sessions().Issue(ctx, w, r, user, auth.MethodUse{Method: auth.MethodOIDC, At: at, Connector: name, MFA: mfa}); err != nil {
		s.oidcRefused(w, r, flow, origin, err)
		return
	}
	factor := "no second factor asserted by the provider (amr " + amrText(id.Claims["amr"]) + ")"
	if mfa {
		factor = "a second factor asserted by the provider (amr " + amrText(id.Claims["amr"]) + ")"
	}
	if !at.Equal(now) {
		factor += ", authenticated by the provider at " + at.UTC().Format(time.RFC3339)
	}
	s.auditOIDC(ctx, user, "signin", flow, fmt.Sprintf("%s signed in through %s (subject %s, flow %s) with %s", user, origin, id.Subject, flow, factor))
	web.SetSecurityHeaders(w.Header())
	http.Redirect(w, r, SafeNext(spec.Next), http.StatusSeeOther)
}

// authTime is when the provider authenticated the person, as the ID token's auth_time says (a
// second factor it asserts was used then, not at the callback), or now when it does not say or
// says a time to come.
func authTime(claim any, now time.Time) time.Time {
	var secs int64
	switch v := claim.(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			f, ferr := v.Float64()
			if ferr != nil {
				return now
			}
			n = int64(f)
		}
		secs = n
	case float64:
		secs = int64(v)
	default:
		return now
	}
	t := time.Unix(secs, 0)
	if secs <= 0 || t.After(now) {
		return now
	}
	return t
}

func amrText(amr any) string {
	b, err := json.Marshal(amr)
	if err != nil || amr == nil {
		return "absent"
	}
	if len(b) > 200 {
		b = append(b[:200], "..."...)
	}
	return string(b)
}

// oidcRefused audits a refused callback and answers a page that tells the person what to do, and
// no more: the provider's and the token's details are in the log, under the id the page shows.
func (s *Server) oidcRefused(w http.ResponseWriter, r *http.Request, flow, origin string, err error) {
	errID := newErrorID()
	s.log.Warn("oidc sign-in refused", "connector", strings.TrimPrefix(origin, resource.OriginOIDCPrefix), "flow", flow, "error_id", errID, "err", err)
	s.auditOIDC(r.Context(), "anonymous", "signin.refused", flow, fmt.Sprintf("sign-in through %s refused (flow %s, error id %s): %v", origin, flow, errID, err))
	name := strings.TrimPrefix(origin, resource.OriginOIDCPrefix)
	status, msg := http.StatusBadRequest, ""
	switch {
	case errors.Is(err, oidc.ErrState):
		msg = "This sign-in does not match the one this browser started. Start again from the sign-in page."
	case errors.Is(err, oidc.ErrProvider):
		status, msg = http.StatusForbidden, "The identity provider ("+name+") did not sign you in."
	case errors.Is(err, oidc.ErrEmailNotVerified):
		status, msg = http.StatusForbidden, "Your email address is not verified at the identity provider ("+name+"), so it cannot sign you in to warden."
	case errors.Is(err, oidc.ErrDomain), errors.Is(err, oidc.ErrUserName),
		errors.Is(err, oidc.ErrUnknownUser), errors.Is(err, oidc.ErrNotLinked), errors.Is(err, oidc.ErrSubject):
		// One answer for all: it does not say whether a warden account exists.
		status, msg = http.StatusForbidden, "Your account at the identity provider ("+name+") may not sign in to warden. Ask an administrator."
	case errors.Is(err, oidc.ErrIssuer), errors.Is(err, oidc.ErrExchange), errors.Is(err, oidc.ErrIDToken):
		status, msg = http.StatusBadGateway, "The identity provider's answer could not be verified."
	default:
		status, msg = http.StatusInternalServerError, "Something went wrong on warden's side."
	}
	s.pageError(w, r, status, msg+" (error id "+errID+")")
}
