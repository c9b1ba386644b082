package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/wardenhq/warden/internal/auth/oidc"
	"github.com/wardenhq/warden/internal/clock"
)

// people are the provider's accounts: login (the subject) -> claims.
func people() map[string]map[string]any {
	return map[string]map[string]any{
		"alice": {"email": "alice@example.com", "email_verified": true, "name": "Alice Liddell",
			"given_name": "Alice", "family_name": "Liddell", "groups": []string{"aws-admins", "sre"}, "department": "platform"},
		"bob":      {"email": "Bob@EXAMPLE.com", "email_verified": true},
		"mallory":  {"email": "mallory@evil.example", "email_verified": true},
		"carol":    {"email": "carol@eu.example.com", "email_verified": true},
		"dave":     {"email": "dave@example.com", "email_verified": false},
		"erin":     {"email": "erin@example.com"},
		"frank":    {"email": "frank@example.com", "email_verified": "true"},
		"impostor": {"email": "alice@example.com", "email_verified": true},
		"spaced":   {"email": "spaced@example.com", "email_verified": true, "preferred_username": "no spaces allowed"},
	}
}

// baseConfig is the connector under test: okta, for people at example.com.
func baseConfig(p *provider) oidc.Config {
	return oidc.Config{Name: "okta", Issuer: p.issuer, ClientID: clientID, ClientSecretEnv: secretEnv,
		Scopes: []string{"openid", "email", "profile", "groups"}, AllowedDomains: []string{"example.com"}}
}

func newConnector(t *testing.T, p *provider, cfg oidc.Config, opts ...oidc.Option) *oidc.Connector {
	t.Helper()
	t.Setenv(secretEnv, clientSecret)
	c, err := oidc.New(context.Background(), cfg, redirectURL, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// signIn runs a whole sign-in of login through c: Begin, the provider, Finish.
func signIn(t *testing.T, p *provider, c *oidc.Connector, login string) (*oidc.Identity, error) {
	t.Helper()
	authURL, st := c.Begin()
	return c.Finish(context.Background(), st, p.authorize(t, authURL, login, redirectURL))
}

func TestSignIn(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	if c.Name() != "okta" || c.Origin() != "oidc:okta" {
		t.Errorf("Name, Origin = %q, %q; want okta, oidc:okta", c.Name(), c.Origin())
	}
	id, err := signIn(t, p, c, "alice")
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	if id.Connector != "okta" || id.Issuer != p.issuer || id.Subject != "alice" || id.UserName != "alice@example.com" ||
		id.Email != "alice@example.com" || !id.EmailVerified || id.Name != "Alice Liddell" || id.GivenName != "Alice" ||
		id.FamilyName != "Liddell" {
		t.Errorf("identity = %+v", id)
	}
	if groups, _ := json.Marshal(id.Claims["groups"]); string(groups) != `["aws-admins","sre"]` {
		t.Errorf("groups claim = %s", groups)
	}
	if d := time.Until(id.Expiry); d < 50*time.Minute || d > 61*time.Minute {
		t.Errorf("expiry in %s; want the ID token's hour", d)
	}

	// The domain is compared without case; email_verified may be the string "true".
	for _, login := range []string{"bob", "frank"} {
		if id, err := signIn(t, p, c, login); err != nil {
			t.Errorf("%s: %v", login, err)
		} else if id.Subject != login {
			t.Errorf("%s signed in as %q", login, id.Subject)
		}
	}
}

// The authorization URL carries the PKCE challenge of the state's verifier (never the verifier),
// and the code is exchanged with that verifier: the provider requires it.
func TestPKCE(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	authURL, st := c.Begin()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(st.Verifier) {
		t.Errorf("authorization URL %s lacks the S256 challenge of the verifier", authURL)
	}
	if strings.Contains(authURL, st.Verifier) || q.Get("state") != st.State || q.Get("nonce") != st.Nonce {
		t.Errorf("authorization URL %s: want state and nonce, and no verifier", authURL)
	}
	if st.State == st.Nonce || len(st.State) < 43 || len(st.Nonce) < 43 || len(st.Verifier) < 43 {
		t.Errorf("state %+v: want three distinct values of 32 random bytes", st)
	}
	_, st2 := c.Begin()
	if st2.State == st.State || st2.Nonce == st.Nonce || st2.Verifier == st.Verifier {
		t.Errorf("two sign-ins share state: %+v, %+v", st, st2)
	}

	callback := p.authorize(t, authURL, "alice", redirectURL)
	stolen := st
	stolen.Verifier = oauth2.GenerateVerifier() // the code without its verifier is worth nothing
	if _, err := c.Finish(context.Background(), stolen, callback); !errors.Is(err, oidc.ErrExchange) {
		t.Errorf("Finish with another verifier: %v; want ErrExchange", err)
	}
}

func TestWrongState(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	for name, change := range map[string]func(st *oidc.State, q url.Values){
		"another state in the callback": func(_ *oidc.State, q url.Values) { q.Set("state", "forged") },
		"no state in the callback":      func(_ *oidc.State, q url.Values) { q.Del("state") },
		"two states in the callback":    func(st *oidc.State, q url.Values) { q.Add("state", st.State) },
		"no state kept on the flow":     func(st *oidc.State, _ url.Values) { st.State = "" },
		"another flow's state":          func(st *oidc.State, _ url.Values) { _, other := c.Begin(); st.State = other.State },
	} {
		t.Run(name, func(t *testing.T) {
			authURL, st := c.Begin()
			q := p.authorize(t, authURL, "alice", redirectURL)
			change(&st, q)
			if id, err := c.Finish(context.Background(), st, q); !errors.Is(err, oidc.ErrState) {
				t.Errorf("Finish = %v, %v; want ErrState", id, err)
			}
		})
	}
}

func TestWrongNonce(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	authURL, st := c.Begin()
	q := p.authorize(t, authURL, "alice", redirectURL)
	_, other := c.Begin()
	st.Nonce = other.Nonce // the token was issued for this flow's nonce; the flow now expects another
	id, err := c.Finish(context.Background(), st, q)
	if !errors.Is(err, oidc.ErrNonce) || !errors.Is(err, oidc.ErrIDToken) {
		t.Errorf("Finish = %v, %v; want ErrNonce (an ErrIDToken)", id, err)
	}
}

// A token the provider issued, validly signed, for the right person and the right nonce, but to
// another client: what another application (or whoever stole its tokens) could present.
func TestWrongAudience(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	authURL, st := c.Begin()

	other := oauth2.Config{ClientID: otherClientID, ClientSecret: otherSecret, RedirectURL: otherRedirect,
		Scopes:   []string{"openid", "email", "profile", "groups"},
		Endpoint: oauth2.Endpoint{AuthURL: p.issuer + "/auth", TokenURL: p.issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	oq := p.authorize(t, other.AuthCodeURL("other-state", oauth2.SetAuthURLParam("nonce", st.Nonce), oauth2.S256ChallengeOption(verifier)), "alice", otherRedirect)
	otherTok, err := other.Exchange(context.Background(), oq.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("the other client's sign-in: %v", err)
	}
	otherID, _ := otherTok.Extra("id_token").(string)
	if aud := claimsOf(t, otherID)["aud"]; aud != otherClientID {
		t.Fatalf("the other client's token has audience %v", aud)
	}

	p.setTamper(func(resp map[string]any) {
		resp["id_token"], resp["access_token"] = otherID, otherTok.AccessToken
	})
	q := p.authorize(t, authURL, "alice", redirectURL)
	id, err := c.Finish(context.Background(), st, q)
	if !errors.Is(err, oidc.ErrIDToken) || !strings.Contains(err.Error(), "audience") {
		t.Errorf("Finish = %v, %v; want ErrIDToken about the audience", id, err)
	}
}

func TestBadSignature(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, forge := range map[string]func(t *testing.T, token string) string{
		// The provider's token, signed again with another key under the provider's key id.
		"signed by another key": func(t *testing.T, token string) string {
			header, payload := headerOf(t, token), payloadOf(t, token)
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: attacker},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", header["kid"]))
			if err != nil {
				t.Fatal(err)
			}
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			s, err := jws.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		// The provider's signature over claims changed afterwards (another person's email).
		"claims changed after signing": func(t *testing.T, token string) string {
			parts := strings.Split(token, ".")
			claims := claimsOf(t, token)
			claims["email"] = "admin@example.com"
			b, _ := json.Marshal(claims)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		},
		// No signature at all.
		"alg none": func(t *testing.T, token string) string {
			parts := strings.Split(token, ".")
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		},
	} {
		t.Run(name, func(t *testing.T) {
			authURL, st := c.Begin()
			var original string
			p.setTamper(func(resp map[string]any) {
				original, _ = resp["id_token"].(string)
				resp["id_token"] = forge(t, original)
			})
			q := p.authorize(t, authURL, "alice", redirectURL)
			id, err := c.Finish(context.Background(), st, q)
			if original == "" {
				t.Fatal("the token response was not rewritten")
			}
			if !errors.Is(err, oidc.ErrIDToken) || !strings.Contains(err.Error(), "signature") && !strings.Contains(err.Error(), "malformed") {
				t.Errorf("Finish = %v, %v; want ErrIDToken about the signature", id, err)
			}
		})
	}
}

func TestExpiredToken(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	now := clock.NewFake(time.Now())
	c := newConnector(t, p, baseConfig(p), oidc.WithClock(now))
	if _, err := signIn(t, p, c, "alice"); err != nil {
		t.Fatalf("sign-in before the clock moves: %v", err)
	}
	authURL, st := c.Begin()
	q := p.authorize(t, authURL, "alice", redirectURL)
	now.Advance(61 * time.Minute) // the provider's ID tokens last an hour
	id, err := c.Finish(context.Background(), st, q)
	var expired *gooidc.TokenExpiredError
	if !errors.Is(err, oidc.ErrIDToken) || !errors.As(err, &expired) {
		t.Errorf("Finish an hour later = %v, %v; want an expired ErrIDToken", id, err)
	}
}

// RFC 9207: the provider names itself in the callback; a callback naming another issuer (a mix-up
// between two providers), or none although this one always does, is refused.
func TestIssuerInCallback(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	for name, change := range map[string]func(q url.Values){
		"another issuer": func(q url.Values) { q.Set("iss", "https://evil.example.com") },
		"no issuer":      func(q url.Values) { q.Del("iss") },
	} {
		t.Run(name, func(t *testing.T) {
			authURL, st := c.Begin()
			q := p.authorize(t, authURL, "alice", redirectURL)
			if q.Get("iss") != p.issuer {
				t.Fatalf("the provider's callback names issuer %q", q.Get("iss"))
			}
			change(q)
			if id, err := c.Finish(context.Background(), st, q); !errors.Is(err, oidc.ErrIssuer) {
				t.Errorf("Finish = %v, %v; want ErrIssuer", id, err)
			}
		})
	}
}

func TestProviderError(t *testing.T) {
	p := needProvider(t)
	c := newConnector(t, p, baseConfig(p))
	_, st := c.Begin()
	q := url.Values{"state": {st.State}, "iss": {p.issuer}, "error": {"access_denied"}, "error_description": {"End-User aborted\ninteraction"}}
	_, err := c.Finish(context.Background(), st, q)
	if !errors.Is(err, oidc.ErrProvider) || !strings.Contains(err.Error(), "access_denied: End-User aborted interaction") {
		t.Errorf("Finish = %v; want ErrProvider with the provider's error on one line", err)
	}
}

func TestAdmission(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	c := newConnector(t, p, baseConfig(p))
	for _, tc := range []struct {
		login string
		want  error
	}{
		{"mallory", oidc.ErrDomain},        // another domain
		{"carol", oidc.ErrDomain},          // a subdomain is another domain
		{"dave", oidc.ErrEmailNotVerified}, // email_verified false
		{"erin", oidc.ErrEmailNotVerified}, // email_verified missing
	} {
		t.Run(tc.login, func(t *testing.T) {
			if id, err := signIn(t, p, c, tc.login); !errors.Is(err, tc.want) {
				t.Errorf("sign-in = %+v, %v; want %v", id, err, tc.want)
			}
		})
	}

	// With another user name claim and no domain list, the email admits no one: an unverified one
	// signs in, but is not taken as verified.
	cfg := baseConfig(p)
	cfg.Name, cfg.UserNameClaim, cfg.AllowedDomains = "byname", "sub", nil
	bySub := newConnector(t, p, cfg)
	id, err := signIn(t, p, bySub, "dave")
	if err != nil || id.UserName != "dave" || id.EmailVerified {
		t.Errorf("sign-in by sub = %+v, %v; want dave, email not verified", id, err)
	}
	cfg.Name, cfg.UserNameClaim = "bypreferred", "preferred_username"
	byPreferred := newConnector(t, p, cfg)
	if id, err := signIn(t, p, byPreferred, "spaced"); !errors.Is(err, oidc.ErrUserName) {
		t.Errorf("a user name with spaces: %+v, %v; want ErrUserName", id, err)
	}
	if id, err := signIn(t, p, byPreferred, "alice"); !errors.Is(err, oidc.ErrUserName) {
		t.Errorf("no preferred_username claim: %+v, %v; want ErrUserName", id, err)
	}
}

// The client secret is sent to the provider only: it is in no error and no log line, even when
// the exchange fails.
func TestSecretNeverInErrorsOrLogs(t *testing.T) {
	p := needProvider(t)
	p.setAccounts(t, people())
	var logs bytes.Buffer
	c := newConnector(t, p, baseConfig(p), oidc.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	authURL, st := c.Begin()
	q := p.authorize(t, authURL, "alice", redirectURL)
	st.Verifier = oauth2.GenerateVerifier()
	_, err := c.Finish(context.Background(), st, q)
	if err == nil {
		t.Fatal("Finish with a wrong verifier succeeded")
	}
	for _, secret := range []string{clientSecret, q.Get("code"), st.Verifier} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("a secret is in the error %q or the logs %q", err, logs.String())
		}
	}

	// A wrong secret is refused by the provider, and not repeated.
	t.Setenv(secretEnv, "wrong-"+clientSecret)
	bad, err := oidc.New(context.Background(), baseConfig(p), redirectURL)
	if err != nil {
		t.Fatal(err)
	}
	authURL, st = bad.Begin()
	_, err = bad.Finish(context.Background(), st, p.authorize(t, authURL, "alice", redirectURL))
	if !errors.Is(err, oidc.ErrExchange) || strings.Contains(err.Error(), clientSecret) {
		t.Errorf("Finish with a wrong secret: %v; want ErrExchange without the secret", err)
	}
}

func headerOf(t *testing.T, token string) map[string]string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func payloadOf(t *testing.T, token string) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(payloadOf(t, token), &c); err != nil {
		t.Fatal(err)
	}
	return c
}
