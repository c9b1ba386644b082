package idcsim

// SSO OIDC (the oidc.<region>.amazonaws.com service, restJson1, unsigned): RegisterClient,
// StartDeviceAuthorization and CreateToken with the device code, refresh token and authorization
// code (PKCE S256) grants; and the access portal's pages a person approves them on: the device
// verification page (<sim>/start/device) and the authorization endpoint (<sim>/authorize).

import (
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// clientSecretLifetime is how long a registered client lasts (AWS: 90 days).
	clientSecretLifetime = 90 * 24 * time.Hour
	// deviceCodeLifetime is StartDeviceAuthorization's expiresIn (AWS: 600 seconds).
	deviceCodeLifetime = 600 * time.Second
	// deviceInterval is the polling interval StartDeviceAuthorization answers (AWS: 1 second);
	// SlowDownException adds slowDownStep to it.
	deviceInterval = 1
	slowDownStep   = 5
	// accessTokenLifetime is the longest an access token lasts (Identity Center's default session:
	// 8 hours); it never outlives the portal session the grant was approved in.
	accessTokenLifetime = 8 * time.Hour
	// authCodeLifetime is how long an authorization code may be redeemed (simulator's choice).
	authCodeLifetime = 5 * time.Minute
	// authorizeLifetime is how long a consent page shown at /authorize may be answered.
	authorizeLifetime = 10 * time.Minute
	// maxBadUserCodes is how many wrong user codes one portal session may enter.
	maxBadUserCodes = 10
	// authCap bounds each table of the authorization memory (clients, device codes, tokens, role
	// credentials): past it, expired entries are dropped, and if none is, the oldest-expiring.
	authCap = 50_000
	// userCodeAlphabet: consonants only (RFC 8628 §6.1), uppercase, no vowels to spell words with.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefresh    = "refresh_token"
	grantAuthCode   = "authorization_code"
)

type oidcClient struct {
	id, secret, name string
	scopes           []string
	grantTypes       []string
	redirectURIs     []string
	issued, expires  time.Time
}

func (c *oidcClient) allows(grant string) bool {
	if len(c.grantTypes) == 0 { // registered without grantTypes: the device code flow and its refresh
		return grant == grantDeviceCode || grant == grantRefresh
	}
	for _, g := range c.grantTypes {
		if g == grant {
			return true
		}
	}
	return false
}

// redirectAllowed: a registered URI exactly, or a loopback one with another port (RFC 8252 §7.3).
func (c *oidcClient) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	for _, reg := range c.redirectURIs {
		if reg == uri {
			return true
		}
		ru, err := url.Parse(reg)
		if err == nil && ru.Scheme == "http" && u.Scheme == "http" && isLoopback(ru.Hostname()) &&
			ru.Hostname() == u.Hostname() && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceUsed
)

type deviceAuth struct {
	code, userCode, clientID string
	expires                  time.Time
	interval                 int
	polled                   bool
	lastPoll                 time.Time
	state                    deviceState
	// grant: who approved, and until when their portal session lasts.
	userID, userName string
	sessionEnd       time.Time
}

// grant is what a person approved for a client: the tokens it yields are theirs.
type grant struct {
	clientID, userID, userName string
	scopes                     []string
	// sessionEnd is when the portal session the grant was approved in ends: no token outlives it.
	sessionEnd time.Time
}

type authCode struct {
	grant
	redirectURI, challenge string
	expires                time.Time
}

type pendingAuthorize struct {
	clientID, redirectURI, state, challenge string
	session                                 string // the portal session's cookie value it was shown to
	expires                                 time.Time
}

type accessToken struct {
	grant
	family  string // the refresh token chain it came from ("": none)
	expires time.Time
}

type refreshToken struct {
	grant
	family string
}

// authState is the authorization memory. Under Sim.authMu.
type authState struct {
	clients   map[string]*oidcClient
	devices   map[string]*deviceAuth // by device code
	userCodes map[string]string      // user code (without its dash) -> device code
	authorize map[string]*pendingAuthorize
	codes     map[string]*authCode
	tokens    map[string]*accessToken
	refresh   map[string]*refreshToken
	creds     map[string]*issuedCreds // by access key id
}

func newAuthState() authState {
	return authState{clients: map[string]*oidcClient{}, devices: map[string]*deviceAuth{}, userCodes: map[string]string{},
		authorize: map[string]*pendingAuthorize{}, codes: map[string]*authCode{}, tokens: map[string]*accessToken{},
		refresh: map[string]*refreshToken{}, creds: map[string]*issuedCreds{}}
}

// makeRoom keeps m under authCap before an insertion: it drops what has expired, then, if nothing
// had, the entry expiring first.
func makeRoom[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	if len(m) < authCap {
		return
	}
	oldest, oldestAt := "", time.Time{}
	for k, v := range m {
		e := expires(v)
		if !now.Before(e) {
			delete(m, k)
			continue
		}
		if oldest == "" || e.Before(oldestAt) {
			oldest, oldestAt = k, e
		}
	}
	if len(m) >= authCap && oldest != "" {
		delete(m, oldest)
	}
}

// oidcPaths are SSO OIDC's operations' paths.
var oidcPaths = map[string]bool{"/client/register": true, "/device_authorization": true, "/token": true}

var oidcOps = map[string]string{"/client/register": "RegisterClient", "/device_authorization": "StartDeviceAuthorization", "/token": "CreateToken"}

// oidcError is an SSO OIDC exception: the name (x-amzn-ErrorType), the OAuth error code ("error")
// and a description.
type oidcError struct {
	status      int
	name, oauth string
	description string
}

func (e *oidcError) Error() string { return e.name + ": " + e.description }

func oidcErr(name, oauth, format string, args ...any) *oidcError {
	status := http.StatusBadRequest
	switch name {
	case "InvalidClientException":
		status = http.StatusUnauthorized
	case "InternalServerException":
		status = http.StatusInternalServerError
	}
	return &oidcError{status: status, name: name, oauth: oauth, description: fmt.Sprintf(format, args...)}
}

func writeOIDCError(w http.ResponseWriter, err error) {
	e, ok := err.(*oidcError)
	if !ok {
		e = oidcErr("InternalServerException", "server_error", "%v", err)
	}
	b, _ := json.Marshal(map[string]string{"error": e.oauth, "error_description": e.description})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.name)
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.WriteHeader(e.status)
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Write(b)
}

// count counts a call of the user-facing services (sso-oidc, sso, sts) and applies the call latency.
// They are not Identity Center administration calls: the collective rate does not apply to them.
func (s *Sim) count(service, op string) {
	if s.opts.CallLatency > 0 {
		time.Sleep(s.opts.CallLatency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats.Calls == nil {
		s.stats.Calls = map[string]int{}
	}
	s.stats.Calls[service+":"+op]++
}

// injectedThrottle draws the injected ThrottleRate for the services that model throttling.
func (s *Sim) injectedThrottle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ThrottleRate > 0 && s.rng.Float64() < s.opts.ThrottleRate {
		s.stats.Throttled++
		return true
	}
	return false
}

func (s *Sim) serveOIDC(w http.ResponseWriter, r *http.Request) {
	op := oidcOps[r.URL.Path]
	if r.Method != http.MethodPost {
		writeOIDCError(w, oidcErr("InvalidRequestException", "invalid_request", "%s takes POST", op))
		return
	}
	s.count("sso-oidc", op)
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(body) > 64<<10 {
		writeOIDCError(w, oidcErr("InvalidRequestException", "invalid_request", "the request body could not be read or is over 64 KiB"))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	var out any
	switch op {
	case "RegisterClient":
		out, err = s.registerClient(r, body)
	case "StartDeviceAuthorization":
		out, err = s.startDeviceAuthorization(r, body)
	case "CreateToken":
		out, err = s.createToken(body)
	}
	if err != nil {
		writeOIDCError(w, err)
		return
	}
	writeJSON(w, out)
}

func decodeOIDC(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return oidcErr("InvalidRequestException", "invalid_request", "could not read the request: %v", err)
	}
	return nil
}

func badString(v string, most int) bool {
	if len(v) > most {
		return true
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

func (s *Sim) registerClient(r *http.Request, body []byte) (any, error) {
	var in struct {
		ClientName             string   `json:"clientName"`
		ClientType             string   `json:"clientType"`
		Scopes                 []string `json:"scopes"`
		GrantTypes             []string `json:"grantTypes"`
		RedirectUris           []string `json:"redirectUris"`
		IssuerUrl              string   `json:"issuerUrl"`
		EntitledApplicationArn string   `json:"entitledApplicationArn"`
	}
	if err := decodeOIDC(body, &in); err != nil {
		return nil, err
	}
	switch {
	case in.ClientName == "" || in.ClientType == "":
		return nil, oidcErr("InvalidRequestException", "invalid_request", "clientName and clientType are required")
	case badString(in.ClientName, 128):
		return nil, oidcErr("InvalidClientMetadataException", "invalid_client_metadata", "clientName must be at most 128 printable characters")
	case in.ClientType != "public":
		return nil, oidcErr("InvalidClientMetadataException", "invalid_client_metadata", "clientType must be public")
	case len(in.Scopes) > 25 || len(in.GrantTypes) > 3 || len(in.RedirectUris) > 10 || badString(in.IssuerUrl, 2048) || badString(in.EntitledApplicationArn, 1224):
		return nil, oidcErr("InvalidRequestException", "invalid_request", "too many scopes (25), grantTypes (3) or redirectUris (10), or an overlong issuerUrl")
	}
	for _, sc := range in.Scopes {
		if sc == "" || badString(sc, 256) || strings.ContainsAny(sc, " \t") {
			return nil, oidcErr("InvalidScopeException", "invalid_scope", "invalid scope %q", truncate(sc, 64))
		}
	}
	for _, g := range in.GrantTypes {
		if g != grantDeviceCode && g != grantRefresh && g != grantAuthCode {
			return nil, oidcErr("InvalidClientMetadataException", "invalid_client_metadata", "unsupported grant type %q", truncate(g, 64))
		}
	}
	for _, u := range in.RedirectUris {
		pu, err := url.Parse(u)
		if badString(u, 2048) || err != nil || pu.Fragment != "" || !(pu.Scheme == "https" || pu.Scheme == "http" && isLoopback(pu.Hostname())) {
			return nil, oidcErr("InvalidRedirectUriException", "invalid_redirect_uri", "redirect URI %q must be https, or http on a loopback address, without a fragment", truncate(u, 64))
		}
	}
	c := &oidcClient{name: in.ClientName, scopes: in.Scopes, grantTypes: in.GrantTypes, redirectURIs: in.RedirectUris}
	if c.allows(grantAuthCode) && len(c.redirectURIs) == 0 {
		return nil, oidcErr("InvalidRequestException", "invalid_request", "the authorization_code grant needs redirectUris")
	}
	now := s.now()
	c.issued, c.expires = now, now.Add(clientSecretLifetime)
	// AWS's client ids are base64url of random bytes followed by the region; secrets are opaque.
	c.id = base64.RawURLEncoding.EncodeToString(append(randomBytes(16), []byte(s.opts.Region)...))
	c.secret = randomToken(96)
	s.authMu.Lock()
	makeRoom(s.auth.clients, now, func(c *oidcClient) time.Time { return c.expires })
	s.auth.clients[c.id] = c
	s.authMu.Unlock()
	return map[string]any{"clientId": c.id, "clientSecret": c.secret, "clientIdIssuedAt": c.issued.Unix(),
		"clientSecretExpiresAt": c.expires.Unix()}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func randRead(b []byte) { crand.Read(b) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	randRead(b)
	return b
}

// client authenticates a client. Under authMu.
func (s *Sim) client(id, secret string, now time.Time) (*oidcClient, error) {
	c := s.auth.clients[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return nil, oidcErr("InvalidClientException", "invalid_client", "the client is unknown or its secret is wrong")
	}
	if !now.Before(c.expires) {
		return nil, oidcErr("InvalidClientException", "invalid_client", "the client's registration expired")
	}
	return c, nil
}

func newUserCode() string {
	b := randomBytes(8)
	out := make([]byte, 0, 9)
	for i, x := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[int(x)%len(userCodeAlphabet)])
	}
	return string(out)
}

// normalUserCode is a user code as typed, uppercased, without spaces and dashes ("" if malformed).
func normalUserCode(v string) string {
	if len(v) > 32 {
		return ""
	}
	var b strings.Builder
	for _, c := range strings.ToUpper(v) {
		switch {
		case c == '-' || c == ' ':
		case strings.ContainsRune(userCodeAlphabet, c):
			b.WriteRune(c)
		default:
			return ""
		}
	}
	if b.Len() != 8 {
		return ""
	}
	return b.String()
}

func (s *Sim) startDeviceAuthorization(r *http.Request, body []byte) (any, error) {
	var in struct {
		ClientId     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		StartUrl     string `json:"startUrl"`
	}
	if err := decodeOIDC(body, &in); err != nil {
		return nil, err
	}
	if in.ClientId == "" || in.ClientSecret == "" || in.StartUrl == "" {
		return nil, oidcErr("InvalidRequestException", "invalid_request", "clientId, clientSecret and startUrl are required")
	}
	if u, err := url.Parse(in.StartUrl); badString(in.StartUrl, 2048) || err != nil || (u.Scheme != "http" && u.Scheme != "https") || strings.TrimSuffix(u.Path, "/") != "/start" {
		return nil, oidcErr("InvalidRequestException", "invalid_request", "startUrl %q is not an access portal start URL (<portal>/start)", truncate(in.StartUrl, 128))
	}
	now := s.now()
	base := s.baseURL(r)
	s.authMu.Lock()
	defer s.authMu.Unlock()
	c, err := s.client(in.ClientId, in.ClientSecret, now)
	if err != nil {
		return nil, err
	}
	if !c.allows(grantDeviceCode) {
		return nil, oidcErr("UnauthorizedClientException", "unauthorized_client", "the client did not register for the device code grant")
	}
	makeRoom(s.auth.devices, now, func(d *deviceAuth) time.Time { return d.expires })
	for code, dc := range s.auth.userCodes { // user codes of devices dropped
		if s.auth.devices[dc] == nil {
			delete(s.auth.userCodes, code)
		}
	}
	d := &deviceAuth{code: randomToken(48), clientID: c.id, expires: now.Add(deviceCodeLifetime), interval: deviceInterval}
	for {
		d.userCode = newUserCode()
		if _, taken := s.auth.userCodes[normalUserCode(d.userCode)]; !taken {
			break
		}
	}
	s.auth.devices[d.code] = d
	s.auth.userCodes[normalUserCode(d.userCode)] = d.code
	verify := base + "/start/device"
	return map[string]any{"deviceCode": d.code, "userCode": d.userCode, "verificationUri": verify,
		"verificationUriComplete": verify + "?user_code=" + d.userCode, "expiresIn": int(deviceCodeLifetime / time.Second), "interval": d.interval}, nil
}

func (s *Sim) createToken(body []byte) (any, error) {
	var in struct {
		ClientId     string   `json:"clientId"`
		ClientSecret string   `json:"clientSecret"`
		GrantType    string   `json:"grantType"`
		DeviceCode   string   `json:"deviceCode"`
		Code         string   `json:"code"`
		RefreshToken string   `json:"refreshToken"`
		Scope        []string `json:"scope"`
		RedirectUri  string   `json:"redirectUri"`
		CodeVerifier string   `json:"codeVerifier"`
	}
	if err := decodeOIDC(body, &in); err != nil {
		return nil, err
	}
	if in.ClientId == "" || in.ClientSecret == "" || in.GrantType == "" {
		return nil, oidcErr("InvalidRequestException", "invalid_request", "clientId, clientSecret and grantType are required")
	}
	now := s.now()
	s.authMu.Lock()
	c, err := s.client(in.ClientId, in.ClientSecret, now)
	if err != nil {
		s.authMu.Unlock()
		return nil, err
	}
	var g grant
	var family string
	switch in.GrantType {
	case grantDeviceCode, grantRefresh, grantAuthCode:
		if !c.allows(in.GrantType) {
			s.authMu.Unlock()
			return nil, oidcErr("UnauthorizedClientException", "unauthorized_client", "the client did not register for the %s grant", in.GrantType)
		}
	default:
		s.authMu.Unlock()
		return nil, oidcErr("UnsupportedGrantTypeException", "unsupported_grant_type", "unsupported grant type %q", truncate(in.GrantType, 64))
	}
	switch in.GrantType {
	case grantDeviceCode:
		g, err = s.deviceGrant(c, in.DeviceCode, now)
	case grantRefresh:
		g, family, err = s.refreshGrant(c, in.RefreshToken, now)
	case grantAuthCode:
		g, err = s.codeGrant(c, in.Code, in.RedirectUri, in.CodeVerifier, now)
	}
	s.authMu.Unlock()
	if err != nil {
		return nil, err
	}
	if !s.userAlive(g.userID, g.userName) {
		return nil, oidcErr("InvalidGrantException", "invalid_grant", "the user who approved the grant is no longer active")
	}
	s.authMu.Lock()
	defer s.authMu.Unlock()
	expires := now.Add(accessTokenLifetime)
	if g.sessionEnd.Before(expires) {
		expires = g.sessionEnd
	}
	tok := "aoa" + randomToken(96)
	out := map[string]any{"accessToken": tok, "tokenType": "Bearer", "expiresIn": int(expires.Sub(now) / time.Second)}
	// A refresh token goes to clients that registered scopes (sso-session configurations) and to
	// the authorization code grant; legacy registrations get none, as with AWS.
	if len(c.scopes) > 0 || in.GrantType == grantAuthCode || in.GrantType == grantRefresh {
		if family == "" {
			family = randomToken(16)
		}
		rt := "aor" + randomToken(96)
		makeRoom(s.auth.refresh, now, func(t *refreshToken) time.Time { return t.sessionEnd })
		s.auth.refresh[rt] = &refreshToken{grant: g, family: family}
		out["refreshToken"] = rt
	}
	makeRoom(s.auth.tokens, now, func(t *accessToken) time.Time { return t.expires })
	s.auth.tokens[tok] = &accessToken{grant: g, family: family, expires: expires}
	return out, nil
}

// deviceGrant redeems a device code. Under authMu.
func (s *Sim) deviceGrant(c *oidcClient, code string, now time.Time) (grant, error) {
	if code == "" {
		return grant{}, oidcErr("InvalidRequestException", "invalid_request", "deviceCode is required")
	}
	d := s.auth.devices[code]
	if d == nil || d.clientID != c.id || d.state == deviceUsed {
		return grant{}, oidcErr("InvalidGrantException", "invalid_grant", "the device code is unknown, another client's, or already used")
	}
	if !now.Before(d.expires) {
		return grant{}, oidcErr("ExpiredTokenException", "expired_token", "the device code expired")
	}
	if d.polled && now.Sub(d.lastPoll) < time.Duration(d.interval)*time.Second {
		d.interval += slowDownStep
		d.lastPoll = now
		return grant{}, oidcErr("SlowDownException", "slow_down", "polled faster than every %d seconds", d.interval-slowDownStep)
	}
	d.polled, d.lastPoll = true, now
	switch d.state {
	case deviceDenied:
		return grant{}, oidcErr("AccessDeniedException", "access_denied", "the user denied the request")
	case devicePending:
		return grant{}, oidcErr("AuthorizationPendingException", "authorization_pending", "the user has not approved the request yet")
	}
	if !now.Before(d.sessionEnd) {
		return grant{}, oidcErr("ExpiredTokenException", "expired_token", "the portal session the request was approved in has ended")
	}
	d.state = deviceUsed
	delete(s.auth.userCodes, normalUserCode(d.userCode))
	return grant{clientID: c.id, userID: d.userID, userName: d.userName, scopes: c.scopes, sessionEnd: d.sessionEnd}, nil
}

// refreshGrant rotates a refresh token: the one presented is spent. Under authMu.
func (s *Sim) refreshGrant(c *oidcClient, token string, now time.Time) (grant, string, error) {
	if token == "" {
		return grant{}, "", oidcErr("InvalidRequestException", "invalid_request", "refreshToken is required")
	}
	rt := s.auth.refresh[token]
	if rt == nil || rt.clientID != c.id {
		return grant{}, "", oidcErr("InvalidGrantException", "invalid_grant", "the refresh token is unknown, another client's, or already used")
	}
	delete(s.auth.refresh, token)
	if !now.Before(rt.sessionEnd) {
		return grant{}, "", oidcErr("InvalidGrantException", "invalid_grant", "the refresh token expired with its session")
	}
	return rt.grant, rt.family, nil
}

// codeGrant redeems an authorization code with its PKCE verifier. Under authMu.
func (s *Sim) codeGrant(c *oidcClient, code, redirectURI, verifier string, now time.Time) (grant, error) {
	if code == "" || redirectURI == "" || verifier == "" {
		return grant{}, oidcErr("InvalidRequestException", "invalid_request", "code, redirectUri and codeVerifier are required")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return grant{}, oidcErr("InvalidRequestException", "invalid_request", "codeVerifier must be 43 to 128 characters (RFC 7636)")
	}
	ac := s.auth.codes[code]
	if ac == nil || ac.clientID != c.id {
		return grant{}, oidcErr("InvalidGrantException", "invalid_grant", "the authorization code is unknown, another client's, or already used")
	}
	delete(s.auth.codes, code) // one attempt only
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case !now.Before(ac.expires):
		return grant{}, oidcErr("InvalidGrantException", "invalid_grant", "the authorization code expired")
	case ac.redirectURI != redirectURI:
		return grant{}, oidcErr("InvalidGrantException", "invalid_grant", "redirectUri differs from the authorization request's")
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.challenge)) != 1:
		return grant{}, oidcErr("InvalidGrantException", "invalid_grant", "the code verifier does not match the code challenge")
	case !now.Before(ac.sessionEnd):
		return grant{}, oidcErr("ExpiredTokenException", "expired_token", "the portal session the code was approved in has ended")
	}
	return ac.grant, nil
}

// userAlive: the user exists, is enabled and still has the name the grant was made to.
func (s *Sim) userAlive(userID, userName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.Users[userID]
	return u != nil && u.UserStatus != "DISABLED" && u.UserName == userName
}

// ---- The portal's pages: device verification and the authorization endpoint ----

var devicePages = template.Must(template.Must(portalPages.Clone()).Parse(`
{{define "device"}}{{template "head" "Authorize request"}}
<main><h1>Authorize request</h1><p>Signed in as <strong id="user">{{.UserName}}</strong></p>
{{if .Error}}<p id="error" class="detail">{{.Error}}</p>{{end}}
<form method="post" action="/start/device"><input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label>Code <input name="user_code" id="user_code" value="{{.UserCode}}" maxlength="32" autocomplete="off" autofocus></label>
<button type="submit">Confirm and continue</button></form></main>
</body></html>{{end}}
{{define "consent"}}{{template "head" "Allow access"}}
<main><h1 id="consent">Allow {{.ClientName}} to access your data?</h1><p>Signed in as <strong id="user">{{.UserName}}</strong></p>
{{if .UserCode}}<p>Code: <strong id="user_code">{{.UserCode}}</strong></p>{{end}}
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{if .UserCode}}<input type="hidden" name="user_code" value="{{.UserCode}}">{{end}}{{if .Request}}<input type="hidden" name="request" value="{{.Request}}">{{end}}
<button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny">Deny access</button></form></main>
</body></html>{{end}}
{{define "done"}}{{template "head" .Headline}}
<main><h1 id="result">{{.Headline}}</h1><p>{{.Text}}</p></main>
</body></html>{{end}}
`))

func (s *Sim) renderDevice(w http.ResponseWriter, status int, name, formAction string, data any) {
	securityHeaders(w, formAction)
	w.WriteHeader(status)
	devicePages.ExecuteTemplate(w, name, data)
}

func (s *Sim) done(w http.ResponseWriter, status int, headline, text string) {
	s.renderDevice(w, status, "done", "", struct{ Headline, Text string }{headline, text})
}

// serveDevicePages answers /start/device (GET: the code form; POST: the consent page),
// /start/device/decide (POST: allow or deny) and /authorize (GET: the consent page; POST: allow or
// deny, redirecting to the client).
func (s *Sim) serveDevicePages(w http.ResponseWriter, r *http.Request) {
	e := s.Endpoints(s.baseURL(r))
	ps, cookie := s.session(r)
	if r.Method == http.MethodGet && ps == nil {
		returnTo := "/start/device"
		if r.URL.Path == "/authorize" {
			if len(r.URL.RawQuery) > 4096 {
				s.done(w, http.StatusBadRequest, "Invalid request", "The authorization request is too long.")
				return
			}
			returnTo = r.URL.RequestURI()
		} else if c := normalUserCode(r.URL.Query().Get("user_code")); c != "" {
			returnTo += "?user_code=" + c[:4] + "-" + c[4:]
		}
		s.signInFirst(w, r, e, returnTo)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ps == nil {
		s.done(w, http.StatusForbidden, "Signed out", "Your session has ended. Open the link again to sign in.")
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil || ps.csrf == "" || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf_token")), []byte(ps.csrf)) != 1 {
			s.done(w, http.StatusForbidden, "Invalid request", "The form expired or did not come from this page. Go back and try again.")
			return
		}
	}
	switch {
	case r.URL.Path == "/start/device" && r.Method == http.MethodGet:
		code := r.URL.Query().Get("user_code")
		if len(code) > 32 {
			code = ""
		}
		s.renderDevice(w, http.StatusOK, "device", "", map[string]string{"UserName": ps.userName, "CSRF": ps.csrf, "UserCode": code})
	case r.URL.Path == "/start/device" && r.Method == http.MethodPost:
		d, clientName, ok := s.pendingDevice(ps, cookie, r.PostForm.Get("user_code"))
		if !ok {
			status, msg := http.StatusBadRequest, "The code is not valid, has expired or was already used. Check it and try again."
			if d == "locked" {
				status, msg = http.StatusTooManyRequests, "Too many wrong codes. Start again from your device."
			}
			s.renderDevice(w, status, "device", "", map[string]string{"UserName": ps.userName, "CSRF": ps.csrf, "Error": msg})
			return
		}
		s.renderDevice(w, http.StatusOK, "consent", "", map[string]string{"UserName": ps.userName, "CSRF": ps.csrf,
			"ClientName": clientName, "UserCode": d, "Action": "/start/device/decide"})
	case r.URL.Path == "/start/device/decide" && r.Method == http.MethodPost:
		allow := r.PostForm.Get("decision") == "allow"
		if !s.decideDevice(ps, r.PostForm.Get("user_code"), allow) {
			s.done(w, http.StatusBadRequest, "Request not found", "The code is not valid, has expired or was already used.")
			return
		}
		if allow {
			s.done(w, http.StatusOK, "Request approved", "You can close this window and return to your device.")
		} else {
			s.done(w, http.StatusOK, "Request denied", "The device was not given access.")
		}
	case r.URL.Path == "/authorize" && r.Method == http.MethodGet:
		s.authorizePage(w, r, ps, cookie)
	case r.URL.Path == "/authorize" && r.Method == http.MethodPost:
		s.authorizeDecide(w, r, cookie, r.PostForm.Get("decision") == "allow")
	default:
		http.NotFound(w, r)
	}
}

// pendingDevice finds the pending device authorization of a user code typed by ps's user: its code
// (formatted) and client's name. A wrong code counts against the session; "locked" past the limit.
func (s *Sim) pendingDevice(ps *portalSession, cookie, typed string) (string, string, bool) {
	now := s.now()
	s.samlMu.Lock()
	locked := ps.badCodes >= maxBadUserCodes
	s.samlMu.Unlock()
	if locked {
		return "locked", "", false
	}
	code := normalUserCode(typed)
	s.authMu.Lock()
	var d *deviceAuth
	if code != "" {
		d = s.auth.devices[s.auth.userCodes[code]]
	}
	var name string
	ok := d != nil && d.state == devicePending && now.Before(d.expires)
	if ok {
		if c := s.auth.clients[d.clientID]; c != nil {
			name = c.name
		}
	}
	s.authMu.Unlock()
	if !ok {
		s.samlMu.Lock()
		ps.badCodes++
		s.samlMu.Unlock()
		return "", "", false
	}
	return d.userCode, name, true
}

// decideDevice approves (binding the device code to ps's user and session) or denies.
func (s *Sim) decideDevice(ps *portalSession, typed string, allow bool) bool {
	now := s.now()
	code := normalUserCode(typed)
	s.authMu.Lock()
	defer s.authMu.Unlock()
	d := s.auth.devices[s.auth.userCodes[code]]
	if code == "" || d == nil || d.state != devicePending || !now.Before(d.expires) {
		return false
	}
	if !allow {
		d.state = deviceDenied
		return true
	}
	d.state, d.userID, d.userName, d.sessionEnd = deviceApproved, ps.userID, ps.userName, ps.expires
	return true
}

// authorizePage checks an authorization request and shows its consent page. Until the client and
// its redirect URI are known good, errors are shown, not sent to the redirect URI (RFC 6749 §4.1.2.1).
func (s *Sim) authorizePage(w http.ResponseWriter, r *http.Request, ps *portalSession, cookie string) {
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	now := s.now()
	s.authMu.Lock()
	c := s.auth.clients[clientID]
	ok := c != nil && now.Before(c.expires) && c.allows(grantAuthCode) && c.redirectAllowed(redirectURI)
	var name string
	if c != nil {
		name = c.name
	}
	s.authMu.Unlock()
	if !ok {
		s.done(w, http.StatusBadRequest, "Invalid request", "The application is unknown, not registered for sign-in with a code, or asked for a redirect URI it did not register.")
		return
	}
	state, challenge := q.Get("state"), q.Get("code_challenge")
	fail := func(code, desc string) {
		v := url.Values{"error": {code}, "error_description": {desc}}
		if state != "" {
			v.Set("state", state)
		}
		http.Redirect(w, r, redirectURI+"?"+v.Encode(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case q.Get("code_challenge_method") != "S256" || len(challenge) != 43 || strings.Trim(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "":
		fail("invalid_request", "PKCE with code_challenge_method S256 and a 43-character code_challenge is required")
		return
	case len(state) > 512:
		fail("invalid_request", "state is over 512 characters")
		return
	}
	id := randomToken(24)
	s.authMu.Lock()
	makeRoom(s.auth.authorize, now, func(p *pendingAuthorize) time.Time { return p.expires })
	s.auth.authorize[id] = &pendingAuthorize{clientID: clientID, redirectURI: redirectURI, state: state, challenge: challenge,
		session: cookie, expires: now.Add(authorizeLifetime)}
	s.authMu.Unlock()
	u, _ := url.Parse(redirectURI)
	s.renderDevice(w, http.StatusOK, "consent", u.Scheme+"://"+u.Host, map[string]string{"UserName": ps.userName, "CSRF": ps.csrf,
		"ClientName": name, "Request": id, "Action": "/authorize"})
}

func (s *Sim) authorizeDecide(w http.ResponseWriter, r *http.Request, cookie string, allow bool) {
	now := s.now()
	ps, _ := s.session(r)
	s.authMu.Lock()
	id := r.PostForm.Get("request")
	p := s.auth.authorize[id]
	delete(s.auth.authorize, id)
	if p == nil || p.session != cookie || !now.Before(p.expires) || ps == nil {
		s.authMu.Unlock()
		s.done(w, http.StatusBadRequest, "Request not found", "The authorization request expired or was already answered. Start again from the application.")
		return
	}
	v := url.Values{}
	if allow {
		c := s.auth.clients[p.clientID]
		var scopes []string
		if c != nil {
			scopes = c.scopes
		}
		code := randomToken(32)
		makeRoom(s.auth.codes, now, func(c *authCode) time.Time { return c.expires })
		s.auth.codes[code] = &authCode{grant: grant{clientID: p.clientID, userID: ps.userID, userName: ps.userName, scopes: scopes, sessionEnd: ps.expires},
			redirectURI: p.redirectURI, challenge: p.challenge, expires: now.Add(authCodeLifetime)}
		v.Set("code", code)
	} else {
		v.Set("error", "access_denied")
	}
	s.authMu.Unlock()
	if p.state != "" {
		v.Set("state", p.state)
	}
	sep := "?"
	if strings.Contains(p.redirectURI, "?") {
		sep = "&"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.redirectURI+sep+v.Encode(), http.StatusFound)
}
