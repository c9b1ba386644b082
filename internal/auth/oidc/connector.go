package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
)

// Errors of a sign-in. Each is wrapped with what failed; test with errors.Is. None of their texts
// holds a code, a token or the client secret.
var (
	// ErrState: the callback's state is not the flow's (a forged or replayed callback), or is missing.
	ErrState = errors.New("the sign-in's state does not match")
	// ErrIssuer: the callback names another issuer (RFC 9207): a mix-up between providers.
	ErrIssuer = errors.New("the callback comes from another issuer")
	// ErrProvider: the provider answered the sign-in with an error (the person cancelled, say).
	ErrProvider = errors.New("the identity provider refused the sign-in")
	// ErrExchange: the code could not be exchanged for tokens.
	ErrExchange = errors.New("the code exchange failed")
	// ErrIDToken: the ID token is missing or invalid (signature, issuer, audience, expiry, nonce,
	// access token hash).
	ErrIDToken = errors.New("the ID token is not valid")
	// ErrNonce: the ID token's nonce is not the flow's (a token of another sign-in). It is also an
	// ErrIDToken.
	ErrNonce = errors.New("the ID token's nonce does not match")
	// ErrUserName: the user name claim is missing or not a valid warden user name.
	ErrUserName = errors.New("no valid user name in the ID token")
	// ErrEmailNotVerified: the email admits the person (it is the user name, or its domain is
	// checked) but the provider does not say it verified it.
	ErrEmailNotVerified = errors.New("the email is not verified by the identity provider")
	// ErrDomain: the email is not at one of the allowed domains.
	ErrDomain = errors.New("the email's domain is not allowed")
)

// Bounds on what a provider sends.
const (
	// maxResponse bounds every response read from the provider (discovery, keys, tokens).
	maxResponse = 1 << 20
	maxCode     = 4096
	maxParam    = 1024
	maxSubject  = 255
	httpTimeout = 15 * time.Second
)

// State is what Begin makes and Finish checks: kept on warden's sign-in flow (server-side), never
// sent anywhere but as Begin put it in the authorization URL (the verifier is never sent before the
// code exchange).
type State struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// Identity is the person the provider signed in, as its verified ID token says.
type Identity struct {
	// Connector is the connector's name; Issuer and Subject identify the person at the provider.
	Connector string
	Issuer    string
	Subject   string
	// UserName is the user name claim's value: the warden user's name.
	UserName      string
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// Expiry is the ID token's.
	Expiry time.Time
	// Claims are all the ID token's claims (numbers as json.Number).
	Claims map[string]any
}

// Option sets an optional behaviour of a Connector.
type Option func(*options)

type options struct {
	now    func() time.Time
	client *http.Client
	log    *slog.Logger
}

// WithClock makes the connector judge ID token expiry by c instead of the wall clock.
func WithClock(c clock.Clock) Option { return func(o *options) { o.now = c.Now } }

// WithHTTPClient makes the connector reach the provider with c's transport (a corporate CA, a
// proxy) and timeout (15 s when zero). Responses stay bounded and redirects are not followed.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithLogger sets where the connector logs (warnings about rules naming roles or lists that do not
// exist). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Connector signs people in through one upstream OIDC provider. It is safe for concurrent use.
type Connector struct {
	cfg      Config
	provider *gooidc.Provider
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	client   *http.Client
	// issParam: the provider says it puts iss in its authorization responses (RFC 9207), so one
	// without it is refused.
	issParam bool
	log      *slog.Logger
}

// New checks cfg, reads the client secret from the environment and discovers the provider at
// cfg.Issuer. redirectURL is warden's callback URL, registered at the provider.
func New(ctx context.Context, cfg Config, redirectURL string, opts ...Option) (*Connector, error) {
	o := options{now: time.Now, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("oidc connector %q: %s", cfg.Name, fmt.Sprintf(format, args...))
	}
	if err := cfg.Validate(""); err != nil {
		return nil, fmt.Errorf("oidc connector %q: %w", cfg.Name, err)
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.AllowedDomains = slices.Clone(cfg.AllowedDomains)
	cfg.Roles, cfg.Lists = slices.Clone(cfg.Roles), slices.Clone(cfg.Lists)
	if err := checkRedirectURL(redirectURL); err != nil {
		return nil, fail("redirect URL: %v", err)
	}
	secret := os.Getenv(cfg.ClientSecretEnv)
	if secret == "" {
		return nil, fail("client_secret_env: the environment variable %s is unset or empty; it must hold the client secret", cfg.ClientSecretEnv)
	}
	client := boundedClient(o.client)
	dctx := gooidc.ClientContext(ctx, client)
	provider, err := gooidc.NewProvider(dctx, cfg.Issuer)
	if err != nil {
		return nil, fail("discovering %s: %s", cfg.Issuer, short(err))
	}
	var meta struct {
		AuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
		ChallengeMethods []string `json:"code_challenge_methods_supported"`
		IssParam         bool     `json:"authorization_response_iss_parameter_supported"`
		JWKS             string   `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fail("discovering %s: %s", cfg.Issuer, short(err))
	}
	if meta.ChallengeMethods != nil && !slices.Contains(meta.ChallengeMethods, "S256") {
		return nil, fail("the provider does not support PKCE with S256 (code_challenge_methods_supported: %s)", truncate(strings.Join(meta.ChallengeMethods, ", "), 100))
	}
	ep := provider.Endpoint()
	loopbackIssuer := strings.HasPrefix(cfg.Issuer, "http:")
	for _, e := range []struct{ name, url string }{{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", meta.JWKS}} {
		if err := checkEndpoint(e.url, loopbackIssuer); err != nil {
			return nil, fail("the provider's %s: %v", e.name, err)
		}
	}
	// client_secret_basic is the default when the provider lists none (OpenID Connect Discovery).
	switch {
	case meta.AuthMethods == nil || slices.Contains(meta.AuthMethods, "client_secret_basic"):
		ep.AuthStyle = oauth2.AuthStyleInHeader
	case slices.Contains(meta.AuthMethods, "client_secret_post"):
		ep.AuthStyle = oauth2.AuthStyleInParams
	default:
		return nil, fail("the provider accepts neither client_secret_basic nor client_secret_post at its token endpoint (it lists %s)", truncate(strings.Join(meta.AuthMethods, ", "), 100))
	}
	return &Connector{
		cfg:      cfg,
		provider: provider,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: secret, Endpoint: ep,
			RedirectURL: redirectURL, Scopes: cfg.scopes()},
		verifier: provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID, Now: o.now}),
		client:   client,
		issParam: meta.IssParam,
		log:      o.log,
	}, nil
}

// Name is the connector's name.
func (c *Connector) Name() string { return c.cfg.Name }

// Origin is the origin of the users the connector creates: oidc:<name>.
func (c *Connector) Origin() string { return c.cfg.Origin() }

// Begin starts a sign-in: the provider's authorization URL to send the person to, and the state to
// keep on warden's flow until the callback. The URL carries the state, the nonce and the PKCE
// challenge (S256) of the verifier.
func (c *Connector) Begin() (authURL string, st State) {
	st = State{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	return c.oauth.AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), st
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Finish completes a sign-in from the callback's query: it checks the state (and the issuer, when
// the provider names it), exchanges the code with the PKCE verifier, verifies the ID token (the
// provider's signature, issuer, audience, expiry, nonce, and the access token's hash) and admits
// the person (a valid user name; a verified email at an allowed domain when the email is what
// admits them). It writes nothing: Sync does.
func (c *Connector) Finish(ctx context.Context, st State, query url.Values) (*Identity, error) {
	state, err := single(query, "state", maxParam)
	if err != nil || st.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(st.State)) != 1 {
		return nil, ErrState
	}
	if iss, ok := query["iss"]; ok || c.issParam {
		if len(iss) != 1 || iss[0] != c.cfg.Issuer {
			return nil, fmt.Errorf("%w: the callback's iss is %q; want %s", ErrIssuer, truncate(strings.Join(iss, ","), 100), c.cfg.Issuer)
		}
	}
	if e := query.Get("error"); e != "" {
		msg := clean(e, 100)
		if d := query.Get("error_description"); d != "" {
			msg += ": " + clean(d, 300)
		}
		return nil, fmt.Errorf("%w: %s", ErrProvider, msg)
	}
	code, err := single(query, "code", maxCode)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExchange, err)
	}
	if st.Nonce == "" || st.Verifier == "" {
		return nil, ErrState
	}
	cctx := gooidc.ClientContext(ctx, c.client)
	tok, err := c.oauth.Exchange(cctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrExchange, short(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	idt, err := c.verifier.Verify(cctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, shortErr{err})
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, ErrNonce)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: the access token does not match its hash in the ID token (at_hash)", ErrIDToken)
		}
	}
	claims, err := decodeClaims(idt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIDToken, err)
	}
	// Authorized party (OpenID Connect Core 3.1.3.7): with several audiences, the token must have
	// been issued to warden.
	azp, hasAZP := claims["azp"]
	if (hasAZP || len(idt.Audience) > 1) && azp != c.cfg.ClientID {
		return nil, fmt.Errorf("%w: the token was issued to another client (azp %q)", ErrIDToken, truncate(fmt.Sprint(azp), 100))
	}
	id := &Identity{Connector: c.cfg.Name, Issuer: idt.Issuer, Subject: idt.Subject, Expiry: idt.Expiry, Claims: claims}
	id.Email, _ = claims["email"].(string)
	id.EmailVerified = verified(claims["email_verified"])
	id.Name, _ = claims["name"].(string)
	id.GivenName, _ = claims["given_name"].(string)
	id.FamilyName, _ = claims["family_name"].(string)
	id.UserName, _ = claims[c.cfg.userNameClaim()].(string)
	if err := c.admit(id); err != nil {
		return nil, err
	}
	return id, nil
}

// admit checks that id may sign in: a subject, a valid user name, and, when the email admits the
// person, one the provider verified at an allowed domain.
func (c *Connector) admit(id *Identity) error {
	if id.Subject == "" || len(id.Subject) > maxSubject || !printable(id.Subject) {
		return fmt.Errorf("%w: the subject (sub) is missing or longer than %d bytes", ErrIDToken, maxSubject)
	}
	if !resource.ValidUserName(id.UserName) {
		if id.UserName == "" {
			return fmt.Errorf("%w: the claim %q is missing or not a string", ErrUserName, c.cfg.userNameClaim())
		}
		return fmt.Errorf("%w: the claim %q, %q, is not a valid user name (1-128 letters, digits or _+=,.@-)", ErrUserName, c.cfg.userNameClaim(), truncate(id.UserName, 130))
	}
	if !c.cfg.emailIsChecked() {
		return nil
	}
	if id.Email == "" {
		return fmt.Errorf("%w: the ID token has no email claim (ask for the email scope)", ErrEmailNotVerified)
	}
	if !id.EmailVerified {
		return fmt.Errorf("%w: %s (email_verified is not true)", ErrEmailNotVerified, truncate(id.Email, 130))
	}
	if len(c.cfg.AllowedDomains) == 0 {
		return nil
	}
	at := strings.LastIndexByte(id.Email, '@')
	domain := id.Email[at+1:]
	if at < 1 || !slices.ContainsFunc(c.cfg.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		return fmt.Errorf("%w: %s is not at %s", ErrDomain, truncate(id.Email, 130), strings.Join(c.cfg.AllowedDomains, ", "))
	}
	return nil
}

// verified reads email_verified: true, or the string "true" that some providers send.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// validEmail: an address warden's user resource accepts.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func decodeClaims(idt *gooidc.IDToken) (map[string]any, error) {
	var raw json.RawMessage
	if err := idt.Claims(&raw); err != nil {
		return nil, err
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		return nil, fmt.Errorf("its claims are not a JSON object: %v", err)
	}
	return claims, nil
}

// single returns the one value of a query parameter, refusing none, several, or one too long.
func single(q url.Values, name string, max int) (string, error) {
	v := q[name]
	switch {
	case len(v) == 0 || v[0] == "":
		return "", fmt.Errorf("the callback has no %s", name)
	case len(v) > 1:
		return "", fmt.Errorf("the callback has %d %s parameters; want one", len(v), name)
	case len(v[0]) > max:
		return "", fmt.Errorf("the callback's %s is %d bytes long; at most %d", name, len(v[0]), max)
	}
	return v[0], nil
}

// clean makes a provider's text fit for a message: printable, at most n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	return truncate(s, n)
}

// short is an error's text fit for a message: a provider's answer can be long.
func short(err error) string { return clean(err.Error(), 400) }

// shortErr shortens an error's text and keeps it for errors.As (a *gooidc.TokenExpiredError).
type shortErr struct{ err error }

func (e shortErr) Error() string { return short(e.err) }
func (e shortErr) Unwrap() error { return e.err }

func checkRedirectURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" || len(s) > maxURL {
		return fmt.Errorf("%q is not an absolute http(s) URL without fragment", truncate(s, 100))
	}
	return nil
}

// checkEndpoint: a discovered endpoint is https, or http on a loopback host when the issuer itself
// is (a test provider): the client secret and the codes go there.
func checkEndpoint(s string, loopbackIssuer bool) error {
	u, err := url.Parse(s)
	switch {
	case s == "" || err != nil || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", truncate(s, 100))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackIssuer && loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q is not https", truncate(s, 100))
}

// boundedClient is the HTTP client the connector reaches the provider with: timeouts, no
// redirects, and responses of at most maxResponse bytes (a longer one is an error, not truncated).
func boundedClient(base *http.Client) *http.Client {
	timeout := httpTimeout
	var rt http.RoundTripper
	if base != nil {
		rt = base.Transport
		if base.Timeout > 0 {
			timeout = base.Timeout
		}
	}
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}
	}
	return &http.Client{
		Transport: boundedTransport{rt},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type boundedTransport struct{ rt http.RoundTripper }

func (t boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		resp.Body = &boundedBody{ReadCloser: resp.Body, left: maxResponse, host: r.URL.Host}
	}
	return resp, err
}

// errTooLarge: a response from the provider is longer than maxResponse.
var errTooLarge = fmt.Errorf("the response is larger than %d bytes", maxResponse)

type boundedBody struct {
	io.ReadCloser
	left int64
	host string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		b.left = 0
		return 0, fmt.Errorf("%s: %w", b.host, errTooLarge)
	}
	b.left -= int64(n)
	return n, err
}
