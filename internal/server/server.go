// Package server wires warden's HTTP surface: the JSON resource API under /v1, health and readiness
// probes, and Prometheus metrics.
//
// Errors are JSON {"error": "...", "field": "..."}: 400 for bad input (with the field path), 401 for a
// missing or bad token, 403 for a caller who may not do this (or a change to what an upstream SCIM
// connector owns, with the field), 404, 409 for a stale revision, an
// existing name or a resource still referenced, 500 only for warden's own failures.
//
// A 500 shows no internal error text to just anyone: the error is logged with a fresh error id, and
// the answer is "internal error (id <id>)", the same id, to find the log line. An administrator's
// request also gets the error itself after it ("internal error (id <id>): ..."): administrators run
// the sync, the import and the uninstall, whose failures (an AWS permission missing, say) are theirs
// to act on, and they can already read and change everything warden holds. Everyone else, and a
// caller whose token could not even be checked, gets the id only. /readyz, which anyone may call,
// answers 503 "store unreachable (id <id>)" and logs the store's error under that id, and 503 "not
// ready: starting" while something holds it (Hold).
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/scim"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// Request body limits: one resource, and an administrator's batch (100,000 users fit).
const (
	MaxObjectBody = 1 << 20
	MaxBatchBody  = 128 << 20
)

// DefaultPageSize and MaxPageSize bound list responses.
const (
	DefaultPageSize = 1000
	MaxPageSize     = 10000
)

// Server is the HTTP API.
type Server struct {
	store   store.Store
	manage  *manage.Service
	tokens  *auth.Tokens
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	sync    *reconcile.Engine
	// scimBox seals SCIM tokens set through the API; scimConfigured: a token comes from the config.
	scimBox        *secret.Box
	scimConfigured bool
	// lists keeps every access list's summary for the lists page (ui_govern_lists.go).
	lists listIndex
	// catalogs keeps the rules' catalog between requests (catalog_cache.go).
	catalogs catalogCache
	// pendingTTL is how long a request waits for its reviews (zero: the default).
	pendingTTL time.Duration
	// maxStartAhead is how far ahead a request may start (zero: the default).
	maxStartAhead time.Duration
	// clock is the time of the request and list workflows and of KeepRequests (nil: the wall clock).
	clock clock.Clock
	// holds counts what keeps /readyz from answering ready (Hold).
	holds atomic.Int32
	// pages renders the HTML pages (package web); local, the local accounts' sign-in (signin.go).
	pages *web.Pages
	local *LocalAuth
	// sessions checks browser sessions (nil: cookies are not accepted); stepUpWindow and
	// stepUpExempt are auth.step_up and auth.step_up_exempt_tokens (SetStepUp).
	sessions     *auth.Sessions
	stepUpWindow atomic.Int64
	stepUpExempt atomic.Bool
	// passkeys runs WebAuthn ceremonies (nil: passkeys are off).
	passkeys *passkey.Service
	// saml is the SAML identity provider (nil: off; saml.go).
	saml *samlState
	// oidc is the upstream OIDC connectors (oidc.go).
	oidc oidcState
	// cli serves warden login (clilogin.go).
	cli *cliLogin
	// awsRegion is identity_center.region, the AWS CLI configuration's sso_region (awsconfig.go).
	awsRegion string
	// scimIn is the SCIM service provider the company's identity provider provisions warden
	// through (nil: off; scim.go).
	scimIn *scim.Service
}

// New builds the server's handler around a store.
func New(s store.Store, log *slog.Logger) *Server {
	srv := &Server{store: s, manage: manage.New(s), tokens: auth.NewTokens(s), log: log, mux: http.NewServeMux()}
	srv.sessions = auth.NewSessions(s, auth.SessionConfig{}, auth.WithSessionClock(serverClock{srv}))
	srv.metrics = newMetrics()
	srv.pages = web.New(web.WithLogger(log))
	srv.stepUpWindow.Store(int64(DefaultStepUp))
	srv.routes()
	return srv
}

// Store is the server's store.
func (s *Server) Store() store.Store { return s.store }

// Manage is the server's resource writer.
func (s *Server) Manage() *manage.Service { return s.manage }

// Tokens is the server's token service (for bootstrapping the admin token).
func (s *Server) Tokens() *auth.Tokens { return s.tokens }

// Hold keeps /readyz answering 503 "not ready: starting" until release is called, for work that
// must be done before the server takes traffic (the demo's import of its organisation). Holds
// add up; release may be called more than once.
func (s *Server) Hold() (release func()) {
	s.holds.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.holds.Add(-1) }) }
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_requests_total", Help: "HTTP requests served, by route and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "warden_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry lets other subsystems add their metrics to /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// handle registers a route with metrics labelled by its pattern.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	method, route, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(sw.code)).Inc()
		s.metrics.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) routes() {
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	s.handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.holds.Load() > 0 {
			http.Error(w, "not ready: starting", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			id := newErrorID()
			s.log.Warn("not ready: the store is unreachable", "error_id", id, "err", err)
			http.Error(w, "store unreachable (id "+id+")", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
		if s.sync != nil { // the sync's health, for eyes (the answer stays 200: the API serves regardless)
			io.WriteString(w, s.sync.HealthLine()+"\n")
		}
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))

	s.handle("GET /v1/whoami", s.authed(s.whoami))
	s.tokenRoutes()
	s.sessionRoutes()
	s.cliLoginRoutes()
	s.handle("POST /v1/batch", s.authed(s.batch))
	s.syncRoutes()
	s.signinRoutes()
	s.oidcRoutes()
	s.integrationRoutes()
	s.requestRoutes()
	s.awsConfigRoutes()
	s.listRoutes()
	s.auditRoutes()
	s.passkeyAPIRoutes()
	s.samlRoutes()
	s.scimRoutes()
	s.uiRoutes()
	s.handle("GET /v1/{kind}", s.authed(s.list))
	s.handle("POST /v1/{kind}", s.authed(s.create))
	s.handle("GET /v1/{kind}/{name...}", s.authed(s.get))
	s.handle("PUT /v1/{kind}/{name...}", s.authed(s.update))
	s.handle("DELETE /v1/{kind}/{name...}", s.authed(s.delete))
	s.mux.HandleFunc("/v1/", s.authed(func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no API route %s %s", r.Method, r.URL.Path))
	}))
}

type principalHandler func(http.ResponseWriter, *http.Request, *auth.Principal)

// authed requires a valid bearer token or, for a request with no Authorization header at all, a
// valid session cookie (sessions.go: with a CSRF token on every request that changes something).
func (s *Server) authed(h principalHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && s.hasSessionCookie(r) {
			if p, ss := s.sessionPrincipal(w, r); p != nil {
				ctx := context.WithValue(context.WithValue(r.Context(), principalKey{}, p), sessionKey{}, ss)
				h(w, r.WithContext(ctx), p)
			}
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="warden"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing API token: send Authorization: Bearer <token>"))
			return
		}
		p, err := s.tokens.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, auth.ErrUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="warden", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, err)
				return
			}
			s.fail(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
	}
}

// principalKey holds the authenticated principal in a request's context, for fail.
type principalKey struct{}

// newErrorID names one internal error, in the log and in the answer.
func newErrorID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// apiError is the JSON error body.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Item is the 1-based item of a batch the error concerns.
	Item int           `json:"item,omitempty"`
	Kind resource.Kind `json:"kind,omitempty"`
	Name string        `json:"name,omitempty"`
	// Problems lists every field problem found, when there are several.
	Problems []*resource.FieldError `json:"problems,omitempty"`
	// StepUp: the caller must use a second factor again first (see sessions.go).
	StepUp bool `json:"step_up,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{Error: err.Error()})
}

var errForbidden = errors.New("forbidden")

type badRequest struct{ error }

func (b badRequest) Unwrap() error { return b.error }

// fail maps an error to its status and JSON body.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, body := errorBody(err)
	if code == http.StatusInternalServerError {
		id := newErrorID()
		s.log.Error("request failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		body = apiError{Error: "internal error (id " + id + ")"}
		if p, _ := r.Context().Value(principalKey{}).(*auth.Principal); p != nil && p.Admin {
			body.Error += ": " + err.Error()
		}
	}
	writeJSON(w, code, body)
}

// errorBody is the status and the body err is answered with (the API's JSON, the pages' message and
// field; a 500's body is the raw error, which fail and uiFail never show as it is).
func errorBody(err error) (int, apiError) {
	body := apiError{Error: err.Error()}
	var item *manage.ItemError
	if errors.As(err, &item) {
		body.Item, body.Kind, body.Name = item.Index+1, item.Kind, item.Name
		body.Error = item.Err.Error()
	}
	var doc *resource.DocumentError
	if errors.As(err, &doc) {
		body.Item, body.Kind, body.Name = doc.Doc, doc.Kind, doc.Name
		body.Error = doc.Err.Error()
	}
	var su *stepUpError
	if errors.As(err, &su) {
		body.StepUp = true
	}
	var fe *resource.FieldError
	var fes resource.Errors
	var owned *manage.OwnedError
	code := http.StatusInternalServerError
	switch {
	case errors.As(err, &owned):
		// What an upstream SCIM connector owns: refused to everyone else, naming the field.
		code, body.Field, body.Error = http.StatusForbidden, owned.Field, owned.Error()
	case errors.As(err, &fes):
		code, body.Field, body.Error = http.StatusBadRequest, fes[0].Field, fes[0].Message
		if len(fes) > 1 {
			body.Problems = fes
		}
	case errors.As(err, &fe):
		code, body.Field, body.Error = http.StatusBadRequest, fe.Field, fe.Message
	case errors.As(err, new(badRequest)):
		code = http.StatusBadRequest
	case errors.As(err, new(tooLarge)):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, errForbidden):
		code = http.StatusForbidden
	case errors.Is(err, store.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrAlreadyExists), errors.Is(err, manage.ErrReferenced):
		code = http.StatusConflict
	case errors.Is(err, context.Canceled):
		code = 499
	}
	return code, body
}

func parseKind(r *http.Request) (resource.Kind, error) {
	k, err := resource.ParseKind(r.PathValue("kind"))
	if err != nil {
		return "", fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return k, nil
}

type tooLarge struct{ error }

func (t tooLarge) Unwrap() error { return t.error }

// decodeBody reads a JSON body of at most MaxObjectBody into v, refusing unknown fields; a bad body
// is a 400 that shows the expected shape.
func decodeBody(r *http.Request, v any, shape string) error {
	b, err := readBody(r, MaxObjectBody)
	if err != nil {
		return err
	}
	return decodeJSON(b, v, shape)
}

// decodeJSON decodes a body strictly: an unknown field (a misspelt "dry_run", say) is an error, not
// ignored.
func decodeJSON(b []byte, v any, shape string) error {
	if err := resource.CheckJSON(b); err != nil { // encoding/json builds what it decodes whole
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest{fmt.Errorf("the body must be %s: %w", shape, err)}
	}
	return nil
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge{fmt.Errorf("request body is larger than %d bytes", limit)}
	}
	if err != nil {
		return nil, badRequest{fmt.Errorf("reading the request body: %w", err)}
	}
	return b, nil
}

// actor is p as the manage layer records it: with the token it acts with, and who minted that token
// when it was minted for p.User by someone else.
func actor(p *auth.Principal) manage.Actor {
	return manage.Actor{User: p.User, Admin: p.Admin, Token: p.TokenID, TokenIssuer: p.TokenIssuer()}
}

// ListResponse is a page of objects; Next, when set, is the After of the next page.
type ListResponse struct {
	Items []*resource.Object `json:"items"`
	Next  string             `json:"next,omitempty"`
}

// listFilters are the query parameters a list accepts, per kind.
var listFilters = map[resource.Kind][]string{
	resource.KindAccessListMember: {resource.IndexList, resource.IndexMember, resource.IndexMemberKind},
	resource.KindAccessRequest:    {resource.IndexUser, resource.IndexState},
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	k, err := parseKind(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	opts := store.ListOptions{After: q.Get("after"), Limit: DefaultPageSize}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageSize {
			s.fail(w, r, &resource.FieldError{Field: "limit", Message: fmt.Sprintf("%q is not a number from 1 to %d", l, MaxPageSize)})
			return
		}
		opts.Limit = n
	}
	for key := range q {
		switch key {
		case "after", "limit":
			continue
		}
		if !slices.Contains(listFilters[k], key) {
			s.fail(w, r, &resource.FieldError{Field: key, Message: fmt.Sprintf("%s cannot be filtered by %q (filters: %s)", k, key, strings.Join(listFilters[k], ", "))})
			return
		}
		opts.Filters = append(opts.Filters, resource.IndexEntry{Key: key, Value: q.Get(key)})
	}
	if err := s.checkListFilters(r.Context(), k, opts.Filters); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := authorizeList(p, k, &opts); err != nil {
		s.fail(w, r, err)
		return
	}
	opts.Limit++ // one more tells whether there is a next page
	items, err := s.store.List(r.Context(), k, opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.withRoleProblems(r.Context(), items); err != nil {
		s.fail(w, r, err)
		return
	}
	resp := ListResponse{Items: items}
	if len(items) == opts.Limit {
		resp.Items = items[:len(items)-1]
		resp.Next = resp.Items[len(resp.Items)-1].Metadata.Name
	}
	if resp.Items == nil {
		resp.Items = []*resource.Object{}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	k, err := parseKind(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.store.Get(r.Context(), k, r.PathValue("name"))
	if err == nil {
		err = authorizeRead(p, o)
	}
	if err == nil {
		err = s.withRoleProblems(r.Context(), []*resource.Object{o})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// decodeOne reads a body holding one object of kind k.
func decodeOne(r *http.Request, k resource.Kind) (*resource.Object, error) {
	b, err := readBody(r, MaxObjectBody)
	if err != nil {
		return nil, err
	}
	o, err := resource.Decode(b)
	if err != nil {
		return nil, err
	}
	if o.Kind != k {
		return nil, &resource.FieldError{Field: "kind", Message: fmt.Sprintf("%q sent to /v1/%s", o.Kind, k)}
	}
	return o, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	k, err := parseKind(r)
	if err == nil {
		err = s.authorizeKind(p, verbCreate, k) // before the body is read
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := decodeOne(r, k)
	if err == nil {
		err = s.authorizeWrite(p, verbCreate, o)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.manage.Create(r.Context(), actor(p), []*resource.Object{o})
	if err != nil {
		s.fail(w, r, unwrapSingle(err))
		return
	}
	writeJSON(w, http.StatusCreated, res[0].Object)
}

// unwrapSingle drops the batch item wrapper from an error about the only item.
func unwrapSingle(err error) error {
	var item *manage.ItemError
	if errors.As(err, &item) {
		return item.Err
	}
	return err
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	k, err := parseKind(r)
	if err == nil {
		err = s.authorizeKind(p, verbUpdate, k) // before the body is read
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := decodeOne(r, k)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if name := r.PathValue("name"); o.Metadata.Name != name {
		s.fail(w, r, &resource.FieldError{Field: "metadata.name", Message: fmt.Sprintf("%q does not match the URL's %q", o.Metadata.Name, name)})
		return
	}
	if o.Metadata.Revision == 0 {
		if m := r.Header.Get("If-Match"); m != "" {
			rev, err := strconv.ParseInt(strings.Trim(m, `"`), 10, 64)
			if err != nil {
				s.fail(w, r, &resource.FieldError{Field: "If-Match", Message: fmt.Sprintf("%q is not a revision", m)})
				return
			}
			o.Metadata.Revision = rev
		}
	}
	if err := s.authorizeWrite(p, verbUpdate, o); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.manage.Update(r.Context(), actor(p), o); err != nil {
		s.fail(w, r, unwrapSingle(err))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	k, err := parseKind(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rev int64
	if v := r.URL.Query().Get("revision"); v != "" {
		if rev, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.fail(w, r, &resource.FieldError{Field: "revision", Message: fmt.Sprintf("%q is not a revision", v)})
			return
		}
	}
	name := r.PathValue("name")
	cur, err := s.store.Get(r.Context(), k, name)
	if err == nil {
		err = s.authorizeWrite(p, verbDelete, cur)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	old, err := s.manage.Delete(r.Context(), actor(p), k, name, rev)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, old)
}

// BatchRequest creates or applies several objects in one transaction.
type BatchRequest struct {
	// Mode is "create" (every object must be new) or "apply" (create or update).
	Mode  string            `json:"mode"`
	Items []json.RawMessage `json:"items"`
}

// BatchResponse says what happened to each item, in order, and what of them is probably not what
// was meant (written all the same).
type BatchResponse struct {
	Results  []BatchResult `json:"results"`
	Warnings []Warning     `json:"warnings,omitempty"`
}

// BatchResult is one item's outcome: what was done, and the revision it now has.
type BatchResult struct {
	Action   manage.Action `json:"action"`
	Kind     resource.Kind `json:"kind"`
	Name     string        `json:"name"`
	Revision int64         `json:"revision"`
}

// String names the item as messages do: user "alice".
func (r BatchResult) String() string { return fmt.Sprintf("%s %q", r.Kind, r.Name) }

func (s *Server) batch(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	limit := int64(MaxObjectBody)
	if p.Admin {
		if !s.requireStepUp(w, r, p, "a batch write (an administrative change)") {
			return
		}
		limit = MaxBatchBody
	}
	b, err := readBody(r, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.Admin {
		// An administrator's batch is as large as MaxBatchBody allows, each item within the
		// decoder's limits; anyone else's may not write anything, and is bounded as a whole.
		if err := resource.CheckJSON(b); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var req BatchRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, r, badRequest{fmt.Errorf("batch body must be {\"mode\": \"create\"|\"apply\", \"items\": [...]}: %w", err)})
		return
	}
	if req.Mode != "create" && req.Mode != "apply" {
		s.fail(w, r, &resource.FieldError{Field: "mode", Message: fmt.Sprintf("%q is not create or apply", req.Mode)})
		return
	}
	objs := make([]*resource.Object, len(req.Items))
	for i, raw := range req.Items {
		var o *resource.Object
		var err error
		if !p.Admin { // may this caller write this kind at all? Decided before the item is decoded
			kind, _ := peekIdentity(raw)
			err = s.authorizeKind(p, verb(req.Mode), kind)
		}
		switch {
		case err != nil:
		case len(raw) > MaxObjectBody:
			err = tooLarge{fmt.Errorf("item is larger than %d bytes", MaxObjectBody)}
		default:
			o, err = resource.Decode(raw)
		}
		if err == nil {
			err = s.authorizeWrite(p, verb(req.Mode), o)
		}
		if err != nil {
			item := &manage.ItemError{Index: i, Err: err}
			if o != nil {
				item.Kind, item.Name = o.Kind, o.Metadata.Name
			} else {
				item.Kind, item.Name = peekIdentity(raw)
			}
			s.fail(w, r, item)
			return
		}
		objs[i] = o
	}
	var res []manage.Result
	if req.Mode == "create" {
		res, err = s.manage.Create(r.Context(), actor(p), objs)
	} else {
		res, err = s.manage.Apply(r.Context(), actor(p), objs, manage.CheckRevisions())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := BatchResponse{Results: make([]BatchResult, len(res))}
	for i, r := range res {
		out.Results[i] = BatchResult{r.Action, r.Object.Kind, r.Object.Metadata.Name, r.Object.Metadata.Revision}
	}
	if out.Warnings, err = s.batchWarnings(r.Context(), objs); err != nil {
		s.log.Warn("batch: checking the written roles against the catalog", "err", err) // written all the same
	}
	writeJSON(w, http.StatusOK, out)
}

// peekIdentity reads kind and name from an item that failed to decode, for the error message.
func peekIdentity(raw json.RawMessage) (resource.Kind, string) {
	var env struct {
		Kind     resource.Kind `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	json.Unmarshal(raw, &env)
	return env.Kind, env.Metadata.Name
}
