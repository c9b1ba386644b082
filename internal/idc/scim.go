package idc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

// SCIMConfig is identity_center.scim: Identity Center's SCIM endpoint, which warden writes users,
// groups and memberships through when identity_center.directory is scim.
type SCIMConfig struct {
	// Endpoint is the SCIM endpoint Identity Center's console shows when an external identity
	// provider is the identity source (https://scim.<region>.amazonaws.com/<tenant>/scim/v2).
	Endpoint string `yaml:"endpoint"`
	// TokenFile is a file holding the bearer token (its first line). The token may also come from
	// the environment (WARDEN_SCIM_TOKEN) or be set with `warden integration scim-token set` (kept
	// in the store, encrypted, with rotation); see TokenSource.
	TokenFile string `yaml:"token_file"`
}

// SCIMTokenEnv is the environment variable that may hold the SCIM bearer token.
const SCIMTokenEnv = "WARDEN_SCIM_TOKEN"

// Validate checks the section when directory is scim.
func (s SCIMConfig) Validate() error {
	if s.Endpoint == "" {
		return errors.New("identity_center.scim.endpoint: required with directory: scim (the SCIM endpoint Identity Center's console shows, https://scim.<region>.amazonaws.com/<tenant>/scim/v2)")
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("identity_center.scim.endpoint: %q is not an http(s) URL without query or fragment", s.Endpoint)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("identity_center.scim.endpoint: %q: the bearer token would cross the network in clear; use https", s.Endpoint)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasSuffix(host, ".localhost")
}

// SCIMTokens gives the SCIM bearer tokens to try. Identity Center keeps at most two tokens at once,
// so a rotation creates the new one, makes warden use it, then deletes the old: Tokens lists the
// new one first and the old one after, until Accepted says the new one works.
type SCIMTokens interface {
	Tokens(ctx context.Context) ([]string, error)
	// Accepted says Identity Center took token: tokens listed after it may be retired.
	Accepted(ctx context.Context, token string)
}

// StaticTokens are tokens from the config: the environment, then the token file.
type StaticTokens []string

func (s StaticTokens) Tokens(context.Context) ([]string, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("no SCIM token: set one with `warden integration scim-token set`, in %s, or in identity_center.scim.token_file", SCIMTokenEnv)
	}
	return s, nil
}

func (StaticTokens) Accepted(context.Context, string) {}

// ConfiguredTokens reads the token of the environment and of cfg's token file, in that order.
func ConfiguredTokens(cfg SCIMConfig) (StaticTokens, error) {
	var out StaticTokens
	if t := strings.TrimSpace(os.Getenv(SCIMTokenEnv)); t != "" {
		out = append(out, t)
	}
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("identity_center.scim.token_file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if t := strings.TrimSpace(line); t != "" {
			out = append(out, t)
		} else {
			return nil, fmt.Errorf("identity_center.scim.token_file: %s holds no token", cfg.TokenFile)
		}
	}
	return out, nil
}

// UseSCIM makes the client write users, groups and memberships through Identity Center's SCIM
// endpoint, with tokens from tokens. Calls share the client's limiter (AWS publishes no SCIM rate;
// tools are throttled at a few hundred calls in a burst, so SCIM is paced like the other APIs).
func (c *Client) UseSCIM(cfg SCIMConfig, tokens SCIMTokens, hc *http.Client) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dir = &SCIMDirectory{c: c, base: strings.TrimSuffix(cfg.Endpoint, "/"), hc: hc, tokens: tokens}
	return nil
}

// SCIMDirectory writes through Identity Center's SCIM endpoint, following its rules: required user
// attributes (userName, displayName, name.givenName, name.familyName), one email marked primary, at
// most 100 membership changes per PATCH, never a replace or removal of all members, members removed
// by a value filter path, externalId set on what warden provisions.
type SCIMDirectory struct {
	c      *Client
	base   string
	hc     *http.Client
	tokens SCIMTokens

	mu      sync.Mutex
	good    string               // the token Identity Center last accepted
	refused map[string]time.Time // tokens refused (401/403), and when
}

func (d *SCIMDirectory) Kind() string { return DirectorySCIM }

// MembersPerCall: Identity Center takes at most 100 membership changes in one PATCH.
func (d *SCIMDirectory) MembersPerCall() int { return 100 }

const (
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimMaxBody     = 1 << 20
)

type scimOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

type scimPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []scimOp `json:"Operations"`
}

func patch(ops ...scimOp) scimPatch {
	return scimPatch{Schemas: []string{scimPatchSchema}, Operations: ops}
}

type scimName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type scimUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName"`
	Name        scimName    `json:"name"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Active      bool        `json:"active"`
}

type scimGroup struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
}

func scimEmails(email string) []scimEmail {
	if email == "" {
		return nil
	}
	return []scimEmail{{Value: email, Type: "work", Primary: true}}
}

func (d *SCIMDirectory) CreateUser(ctx context.Context, u User, externalID string) (string, error) {
	var out scimUser
	err := d.do(ctx, http.MethodPost, "/Users", "/Users", scimUser{Schemas: []string{scimUserSchema}, ExternalID: externalID,
		UserName: u.UserName, DisplayName: u.DisplayName, Name: scimName{u.GivenName, u.FamilyName}, Emails: scimEmails(u.Email), Active: true}, &out)
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("SCIM: creating user %s: the answer names no id", u.UserName)
	}
	return out.ID, nil
}

func (d *SCIMDirectory) UpdateUser(ctx context.Context, id string, u User) error {
	ops := []scimOp{
		{Op: "replace", Path: "displayName", Value: u.DisplayName},
		{Op: "replace", Path: "name.givenName", Value: u.GivenName},
		{Op: "replace", Path: "name.familyName", Value: u.FamilyName},
	}
	if u.Email != "" {
		ops = append(ops, scimOp{Op: "replace", Path: "emails", Value: scimEmails(u.Email)})
	}
	return d.do(ctx, http.MethodPatch, "/Users/"+url.PathEscape(id), "/Users/{id}", patch(ops...), nil)
}

func (d *SCIMDirectory) DeleteUser(ctx context.Context, id string) error {
	err := d.do(ctx, http.MethodDelete, "/Users/"+url.PathEscape(id), "/Users/{id}", nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

func (d *SCIMDirectory) CreateGroup(ctx context.Context, displayName, _, externalID string) (string, error) {
	var out scimGroup
	err := d.do(ctx, http.MethodPost, "/Groups", "/Groups", scimGroup{Schemas: []string{scimGroupSchema}, ExternalID: externalID, DisplayName: displayName}, &out)
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("SCIM: creating group %q: the answer names no id", displayName)
	}
	return out.ID, nil
}

func (d *SCIMDirectory) RenameGroup(ctx context.Context, id, displayName string) error {
	return d.do(ctx, http.MethodPatch, "/Groups/"+url.PathEscape(id), "/Groups/{id}", patch(scimOp{Op: "replace", Path: "displayName", Value: displayName}), nil)
}

func (d *SCIMDirectory) DeleteGroup(ctx context.Context, id string) error {
	err := d.do(ctx, http.MethodDelete, "/Groups/"+url.PathEscape(id), "/Groups/{id}", nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

type scimMember struct {
	Value string `json:"value"`
}

func (d *SCIMDirectory) AddMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	if len(userIDs) > d.MembersPerCall() {
		return nil, fmt.Errorf("SCIM: %d membership changes in one PATCH; Identity Center takes at most %d", len(userIDs), d.MembersPerCall())
	}
	vals := make([]scimMember, len(userIDs))
	mids := make([]string, len(userIDs))
	for i, u := range userIDs {
		vals[i] = scimMember{u}
		mids[i] = MembershipUnknown
	}
	if err := d.do(ctx, http.MethodPatch, "/Groups/"+url.PathEscape(groupID), "/Groups/{id}", patch(scimOp{Op: "add", Path: "members", Value: vals}), nil); err != nil {
		return nil, err
	}
	return mids, nil
}

func (d *SCIMDirectory) RemoveMembers(ctx context.Context, groupID string, members []Membership) error {
	if len(members) == 0 {
		return nil
	}
	if len(members) > d.MembersPerCall() {
		return fmt.Errorf("SCIM: %d membership changes in one PATCH; Identity Center takes at most %d", len(members), d.MembersPerCall())
	}
	// One removal per member, each by a value filter: Identity Center refuses a request that
	// removes all members, and documents this form.
	ops := make([]scimOp, len(members))
	for i, m := range members {
		v, _ := json.Marshal(m.UserID)
		ops[i] = scimOp{Op: "remove", Path: "members[value eq " + string(v) + "]"}
	}
	err := d.do(ctx, http.MethodPatch, "/Groups/"+url.PathEscape(groupID), "/Groups/{id}", patch(ops...), nil)
	if IsNotFound(err) {
		return nil // the group is gone, and its memberships with it
	}
	return err
}

// TestConnection checks the endpoint and the token as Identity Center's own connection test would
// from an identity provider: the service provider's configuration, then a user lookup by a name no
// one has. It says what failed, and which token worked (1: the first listed).
func (d *SCIMDirectory) TestConnection(ctx context.Context) (int, error) {
	var cfg struct {
		Patch struct {
			Supported bool `json:"supported"`
		} `json:"patch"`
	}
	if err := d.do(ctx, http.MethodGet, "/ServiceProviderConfig", "/ServiceProviderConfig", nil, &cfg); err != nil {
		return 0, err
	}
	if !cfg.Patch.Supported {
		return 0, errors.New("SCIM: the service provider does not support PATCH, which warden needs")
	}
	var list struct {
		Resources []json.RawMessage `json:"Resources"`
	}
	q := url.Values{"filter": {fmt.Sprintf(`userName eq "warden-connection-test-%08x"`, rand.Uint32())}, "count": {"1"}}
	if err := d.do(ctx, http.MethodGet, "/Users?"+q.Encode(), "/Users", nil, &list); err != nil {
		return 0, err
	}
	tokens, err := d.tokens.Tokens(ctx)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	good := d.good
	d.mu.Unlock()
	for i, t := range tokens {
		if t == good {
			return i + 1, nil
		}
	}
	return 0, nil
}

// SCIMError is an error answered by a SCIM endpoint. It carries the AWS error code the same
// condition has in the identitystore API (ConflictException for 409, ResourceNotFoundException for
// 404, ThrottlingException for 429), so callers handle both drivers alike.
type SCIMError struct {
	Method, Route string
	Status        int
	ScimType      string
	Detail        string
}

func (e *SCIMError) Error() string {
	s := fmt.Sprintf("SCIM %s %s: %d", e.Method, e.Route, e.Status)
	if e.ScimType != "" {
		s += " " + e.ScimType
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *SCIMError) ErrorCode() string {
	switch e.Status {
	case http.StatusConflict:
		return "ConflictException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusBadRequest:
		return "ValidationException"
	}
	if e.Status >= 500 {
		return "InternalServerException"
	}
	return "SCIMError"
}

func (e *SCIMError) ErrorMessage() string { return e.Detail }

func (e *SCIMError) ErrorFault() smithy.ErrorFault {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// do makes one SCIM call: it waits for the shared limiter before each attempt, tries the tokens in
// order (the one last accepted first) until one is accepted, and retries throttling, server errors
// and transport failures with backoff within the call timeout. route names the call in the call
// counts ("scim:POST /Users").
func (d *SCIMDirectory) do(ctx context.Context, method, path, route string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	tokens, err := d.tokens.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return errors.New("no SCIM token")
	}
	// The tokens in the order given (the newest first), except that one refused lately goes last:
	// a new token that does not work yet is not tried before every call.
	d.mu.Lock()
	order := make([]string, 0, len(tokens))
	var later []string
	for _, t := range tokens {
		if at, ok := d.refused[t]; ok && time.Since(at) < 5*time.Minute {
			later = append(later, t)
		} else {
			order = append(order, t)
		}
	}
	order = append(order, later...)
	d.mu.Unlock()
	deadline := time.Time{}
	backoff := 100 * time.Millisecond
	lastErr := error(nil)
	for attempt := 0; ; attempt++ {
		refused := 0
		for _, tok := range order {
			status, err := d.attempt(ctx, method, path, route, tok, payload, out)
			if deadline.IsZero() {
				deadline = time.Now().Add(d.c.callTimeout)
			}
			var se *SCIMError
			if errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden) {
				refused++
				lastErr = err
				d.mu.Lock()
				if d.refused == nil {
					d.refused = map[string]time.Time{}
				}
				d.refused[tok] = time.Now()
				d.mu.Unlock()
				continue // the next token
			}
			if err == nil || status != 0 { // answered: the token was taken
				d.mu.Lock()
				changed := d.good != tok
				d.good = tok
				delete(d.refused, tok)
				d.mu.Unlock()
				if changed {
					d.tokens.Accepted(ctx, tok)
				}
			}
			lastErr = err
			break
		}
		if refused == len(order) {
			return fmt.Errorf("%w (every SCIM token was refused: set a valid one with `warden integration scim-token set`)", lastErr)
		}
		if lastErr == nil || !retryableSCIM(lastErr) || attempt >= 9 {
			return lastErr
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff)))
		var se *SCIMError
		if errors.As(lastErr, &se) && se.Status == http.StatusTooManyRequests {
			d.c.limit.Throttled()
			wait = time.Duration(50+rand.IntN(100)) * time.Millisecond
		}
		if ra := retryAfter(lastErr); ra > wait {
			wait = ra
		}
		if d.c.callTimeout > 0 && time.Now().Add(wait).After(deadline) {
			return lastErr
		}
		backoff = min(backoff*2, 5*time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// retryAfterError carries a Retry-After the endpoint gave.
type retryAfterError struct {
	*SCIMError
	after time.Duration
}

func (e *retryAfterError) Unwrap() error { return e.SCIMError }

func retryAfter(err error) time.Duration {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after
	}
	return 0
}

func retryableSCIM(err error) bool {
	var se *SCIMError
	if errors.As(err, &se) {
		return se.Status == http.StatusTooManyRequests || se.Status >= 500
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) // a transport failure
}

// attempt sends one request with token. It answers the HTTP status (0: no answer) and an error for
// anything but 2xx.
func (d *SCIMDirectory) attempt(ctx context.Context, method, path, route, token string, payload []byte, out any) (int, error) {
	if err := d.c.limit.Wait(ctx, laneOf(ctx)); err != nil {
		return 0, err
	}
	d.c.mu.Lock()
	d.c.calls["scim:"+method+" "+route]++
	d.c.mu.Unlock()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("SCIM %s %s: %w", method, route, err)
	}
	defer resp.Body.Close()
	if ids, ok := ctx.Value(requestIDsKey{}).(*RequestIDs); ok {
		if id := resp.Header.Get("X-Amzn-Requestid"); id != "" {
			ids.add(id)
		}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, scimMaxBody+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("SCIM %s %s: reading the answer: %w", method, route, err)
	}
	if len(b) > scimMaxBody {
		return resp.StatusCode, fmt.Errorf("SCIM %s %s: the answer is over %d bytes", method, route, scimMaxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &SCIMError{Method: method, Route: route, Status: resp.StatusCode}
		var eb struct {
			ScimType string `json:"scimType"`
			Detail   string `json:"detail"`
			Message  string `json:"message"`
		}
		if json.Unmarshal(b, &eb) == nil {
			se.ScimType, se.Detail = eb.ScimType, eb.Detail
			if se.Detail == "" {
				se.Detail = eb.Message
			}
		}
		if se.Detail == "" {
			se.Detail = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return resp.StatusCode, &retryAfterError{se, min(time.Duration(s)*time.Second, 30*time.Second)}
		}
		return resp.StatusCode, se
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("SCIM %s %s: the answer is not the JSON expected: %v", method, route, err)
		}
	}
	return resp.StatusCode, nil
}
