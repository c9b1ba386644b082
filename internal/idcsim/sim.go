package idcsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a simulator. The zero value is a fast, fault-free simulator for unit tests.
type Options struct {
	// Region of the instance; default us-east-1.
	Region string
	// CallRate is the collective rate of Identity Center calls per second (0: unlimited), Burst the
	// bucket's size (default: CallRate).
	CallRate float64
	Burst    int
	// MaxOutstandingCreates caps assignment creations IN_PROGRESS at once (0: unlimited).
	MaxOutstandingCreates int
	// ProvisioningDelay is how long assignment operations, permission set provisionings and account
	// creations stay IN_PROGRESS.
	ProvisioningDelay time.Duration
	// CallLatency is added to every call.
	CallLatency time.Duration
	// ThrottleRate is the probability of a ThrottlingException on any call.
	ThrottleRate float64
	// FailRate is the probability that an assignment operation ends FAILED.
	FailRate float64
	// ConflictRate is the probability of a ConflictException on a write to something written within
	// ConflictWindow (default 1s): a previous write has not propagated.
	ConflictRate   float64
	ConflictWindow time.Duration
	// Seed makes generated ids and injected faults repeatable: a fresh simulator with the same Seed
	// draws the same ids. A restored one goes on from its snapshot's generator.
	Seed int64
	// SCIMToken is the SCIM endpoint's bearer token; empty: one is generated (see SCIMToken()).
	SCIMToken string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// PublicURL is the base URL the simulator is reached at (http://127.0.0.1:8421), which its SAML
	// entity id, ACS URL and access portal start URL are formed on; empty: each request's host.
	PublicURL string
	// RoleARNs are the roles STS AssumeRole lets the organisation's long-term credentials assume;
	// empty: any role ARN in an account of the organisation (as a trust policy naming the
	// management account would).
	RoleARNs []string
}

// AWSQuotas returns o with AWS's quotas: 20 calls per second collectively, 10 outstanding assignment
// creations, and one second of provisioning.
func AWSQuotas(o Options) Options {
	o.CallRate, o.Burst = 20, 20
	o.MaxOutstandingCreates = 10
	if o.ProvisioningDelay == 0 {
		o.ProvisioningDelay = time.Second
	}
	return o
}

// Sim is one simulated organisation with its Identity Center instance. It is an http.Handler.
type Sim struct {
	opts    Options
	now     func() time.Time
	limiter *rate.Limiter

	mu    sync.Mutex
	rng   *rand.Rand
	st    *state
	stats Stats
	// recent writes, for propagation conflicts: resource key -> time written
	recent map[string]time.Time
	// panics counts handlers that panicked; apart from mu, which a panic may meet held.
	panics atomic.Int64
	// idp is the external identity source's metadata (st.ExternalIdP), parsed. Under mu.
	idp *idpMetadata

	// The SAML service provider's and the access portal's memory, not part of snapshots: the
	// AuthnRequests sent (id -> when), assertion ids consumed (id -> until when they are kept),
	// portal sessions, and the sign-in events. Under samlMu.
	samlMu         sync.Mutex
	requests       map[string]time.Time
	seenAssertions map[string]time.Time
	sessions       map[string]*portalSession
	events         []SignInEvent
	// returnTo is where the browser goes after the sign-in answering an AuthnRequest (request id ->
	// portal path). Under samlMu.
	returnTo map[string]string

	// SSO OIDC clients, device authorizations, codes and tokens, and the role credentials the portal
	// API and STS issued: in memory only, as the sessions. Under authMu, never held with mu.
	authMu sync.Mutex
	auth   authState
}

// Stats is what the simulator has seen, for tests and benchmarks.
type Stats struct {
	// Calls counts calls per operation ("sso-admin:ListInstances", "scim:GET /Users", ...).
	Calls map[string]int `json:"calls"`
	// Throttled counts ThrottlingExceptions returned (rate, injected or quota).
	Throttled int `json:"throttled"`
	// Conflicts counts injected propagation ConflictExceptions.
	Conflicts int `json:"conflicts"`
	// Outstanding is the number of assignment operations IN_PROGRESS now.
	Outstanding int `json:"outstanding"`
	// MaxOutstandingCreates is the most assignment creations seen IN_PROGRESS at once.
	MaxOutstandingCreates int `json:"max_outstanding_creates"`
	// Failed counts assignment operations that ended FAILED.
	Failed int `json:"failed"`
	// Panics counts requests whose handling panicked (a simulator bug): each answered 500.
	Panics int `json:"panics"`
}

// TotalCalls is the sum of all calls.
func (s Stats) TotalCalls() int {
	n := 0
	for _, c := range s.Calls {
		n += c
	}
	return n
}

// New returns a simulator with an empty organisation: a management account, a root, and an
// Identity Center instance with an empty identity store.
func New(opts Options) *Sim {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.ConflictWindow == 0 {
		opts.ConflictWindow = time.Second
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Sim{opts: opts, now: now, rng: rand.New(rand.NewSource(opts.Seed)), recent: map[string]time.Time{},
		requests: map[string]time.Time{}, seenAssertions: map[string]time.Time{}, sessions: map[string]*portalSession{},
		returnTo: map[string]string{}, auth: newAuthState()}
	s.opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.CallRate > 0 {
		burst := opts.Burst
		if burst <= 0 {
			burst = max(1, int(opts.CallRate))
		}
		s.limiter = rate.NewLimiter(rate.Limit(opts.CallRate), burst)
	}
	s.st = newState(opts.Seed, opts.Region, now())
	if opts.SCIMToken != "" {
		s.st.SCIMToken = opts.SCIMToken
	}
	return s
}

// InstanceARN is the instance's ARN.
func (s *Sim) InstanceARN() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Instance.InstanceArn
}

// IdentityStoreID is the identity store's id.
func (s *Sim) IdentityStoreID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Instance.IdentityStoreId
}

// SCIMToken is the bearer token the SCIM endpoint accepts.
func (s *Sim) SCIMToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.SCIMToken
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	out := s.stats
	out.Calls = make(map[string]int, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		out.Calls[k] = v
	}
	out.Outstanding = s.st.outstanding(opCreate) + s.st.outstanding(opDelete)
	out.Panics = int(s.panics.Load())
	return out
}

// ResetStats zeroes the counters.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

// Snapshot is the whole state as JSON.
func (s *Sim) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	return json.MarshalIndent(s.st, "", "  ")
}

// Restore replaces the state with a snapshot.
func (s *Sim) Restore(b []byte) error {
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("idcsim: restoring state: %w", err)
	}
	var idp *idpMetadata
	if st.ExternalIdP != nil {
		m, err := parseIdPMetadata([]byte(st.ExternalIdP.Metadata))
		if err != nil {
			return fmt.Errorf("idcsim: restoring state: the external identity provider's metadata: %w", err)
		}
		idp = m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.rebuild()
	s.st = st
	s.idp = idp
	s.recent = map[string]time.Time{}
	return nil
}

// SetFailRate changes, while the simulator runs, the probability that an assignment operation ends
// FAILED (tests turn a fault on and off).
func (s *Sim) SetFailRate(p float64) {
	s.mu.Lock()
	s.opts.FailRate = p
	s.mu.Unlock()
}

// Update runs fn on the state under the simulator's lock, for seeding and for tests that change
// Identity Center "behind warden's back".
func (s *Sim) Update(fn func(*Directory) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	return fn(&Directory{s: s})
}

// apiError is an AWS error answer.
type apiError struct {
	status  int
	code    string
	message string
	extra   map[string]any
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errValidation(format string, args ...any) *apiError {
	return &apiError{status: 400, code: "ValidationException", message: fmt.Sprintf(format, args...)}
}

func errNotFound(resourceType, id string, format string, args ...any) *apiError {
	e := &apiError{status: 400, code: "ResourceNotFoundException", message: fmt.Sprintf(format, args...)}
	if resourceType != "" {
		e.extra = map[string]any{"ResourceType": resourceType}
		if id != "" { // a lookup by another attribute has no id to name
			e.extra["ResourceId"] = id
		}
	}
	return e
}

func errConflict(reason, format string, args ...any) *apiError {
	e := &apiError{status: 400, code: "ConflictException", message: fmt.Sprintf(format, args...)}
	if reason != "" {
		e.extra = map[string]any{"Reason": reason}
	}
	return e
}

// errUnsupported answers an operation of AWS's model that the simulator does not implement, as AWS
// answers a caller whose policy does not allow it: AccessDeniedException, which every operation of
// the three models lists. It is not retryable and names the operation.
func errUnsupported(service, op string) *apiError {
	return &apiError{status: 400, code: "AccessDeniedException",
		message: fmt.Sprintf("The simulator does not implement %s:%s (an operation of AWS's model); it answers it as AWS answers a caller not allowed to call it", service, op)}
}

func errThrottled(service string) *apiError {
	if service == svcOrganizations {
		return &apiError{status: 400, code: "TooManyRequestsException", message: "Rate exceeded"}
	}
	return &apiError{status: 400, code: "ThrottlingException", message: "Rate exceeded", extra: map[string]any{"RetryAfterSeconds": 1}}
}

// Service names, as in Stats.Calls keys.
const (
	svcSSOAdmin      = "sso-admin"
	svcIdentityStore = "identitystore"
	svcOrganizations = "organizations"
	svcSCIM          = "scim"
)

var targetPrefixes = map[string]string{
	"SWBExternalService":        svcSSOAdmin,
	"AWSIdentityStore":          svcIdentityStore,
	"AWSOrganizationsV20161128": svcOrganizations,
}

type handler func(s *Sim, in []byte) (any, error)

var handlers = map[string]handler{}

func register(service, op string, h handler) { handlers[service+":"+op] = h }

// ServeHTTP answers AWS JSON calls at POST /, SCIM under /scim/v2/, and introspection under /_sim/.
// A panic while handling a request (a bug of the simulator's) answers 500, an InternalServerException
// or a SCIM error naming the panic and where it happened, and is counted in Stats.Panics; the
// simulator goes on serving. (Left alone, net/http would log it and drop the connection, an answer
// no AWS client expects.)
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	aw := &answerWriter{ResponseWriter: w}
	defer s.recoverPanic(aw, r)
	s.serve(aw, r)
}

// answerWriter notes whether the answer has begun.
type answerWriter struct {
	http.ResponseWriter
	started bool
}

func (w *answerWriter) WriteHeader(code int) {
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// recoverPanic turns a handler's panic into a 500. Every lock of the state is released by a defer,
// so the simulator is usable after it.
func (s *Sim) recoverPanic(w *answerWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.panics.Add(1)
	if w.started {
		panic(http.ErrAbortHandler) // half an answer is out: cut the connection rather than finish it wrong
	}
	msg := fmt.Sprintf("internal error in the simulator: %v", v)
	if at := panicSite(); at != "" {
		msg += " (at " + at + ")"
	}
	if strings.HasPrefix(r.URL.Path, "/scim/v2") {
		writeSCIMError(w, r, scimErr(http.StatusInternalServerError, "", "%s", msg))
		return
	}
	prefix, _, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	service := targetPrefixes[prefix]
	writeAWSError(w, service, &apiError{status: http.StatusInternalServerError, code: internalErrorCode(service), message: msg})
}

// panicSite is the file and line of the simulator's code where the panic being recovered began.
func panicSite() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && strings.Contains(f.Function, "/idcsim."):
			return fmt.Sprintf("%s:%d", path.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/scim/v2"):
		s.serveSCIM(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/_sim/saml/"):
		s.serveSAMLAdmin(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/_sim/"):
		s.serveIntrospection(w, r)
		return
	case r.URL.Path == "/start/device" || strings.HasPrefix(r.URL.Path, "/start/device/") || r.URL.Path == "/authorize":
		s.serveDevicePages(w, r)
		return
	case r.URL.Path == "/start" || strings.HasPrefix(r.URL.Path, "/start/") || strings.HasPrefix(r.URL.Path, acsPathPrefix):
		s.servePortal(w, r)
		return
	case oidcPaths[r.URL.Path]:
		s.serveOIDC(w, r)
		return
	case portalAPIPaths[r.URL.Path]:
		s.servePortalAPI(w, r)
		return
	case r.URL.Path == "/" && r.Header.Get("X-Amz-Target") == "" && isForm(r):
		s.serveSTS(w, r)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	service := targetPrefixes[prefix]
	if r.Method != http.MethodPost || !ok || service == "" {
		writeAWSError(w, service, &apiError{status: 400, code: "UnknownOperationException", message: fmt.Sprintf("unknown operation %q", target)})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeAWSError(w, service, &apiError{status: 400, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token: requests must be signed with SigV4"})
		return
	}
	h := handlers[service+":"+op]
	if h == nil && !modelOperation[service+":"+op] {
		writeAWSError(w, service, &apiError{status: 400, code: "UnknownOperationException", message: fmt.Sprintf("%s has no operation %s", service, op)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		writeAWSError(w, service, &apiError{status: 400, code: "SerializationException", message: err.Error()})
		return
	}
	if err := s.checkIssuedCredentials(r, body); err != nil {
		writeAWSError(w, service, err)
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if err := s.admit(service, op); err != nil {
		writeAWSError(w, service, err)
		return
	}
	if h == nil {
		writeAWSError(w, service, errUnsupported(service, op))
		return
	}
	out, err := func() (any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.settle()
		return h(s, body)
	}()
	if err != nil {
		writeAWSError(w, service, err)
		return
	}
	// Encoded under the lock (outputs point into the state) and sent with a Content-Length, as AWS does.
	b, err := func() ([]byte, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return json.Marshal(out)
	}()
	if err != nil {
		writeAWSError(w, service, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// admit counts the call, applies latency, the collective rate and injected throttling.
func (s *Sim) admit(service, op string) error {
	if s.opts.CallLatency > 0 {
		time.Sleep(s.opts.CallLatency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats.Calls == nil {
		s.stats.Calls = map[string]int{}
	}
	s.stats.Calls[service+":"+op]++
	if (s.limiter != nil && !s.limiter.AllowN(s.now(), 1)) || (s.opts.ThrottleRate > 0 && s.rng.Float64() < s.opts.ThrottleRate) {
		s.stats.Throttled++
		return errThrottled(service)
	}
	return nil
}

// errorMembers are, per service, the members its model gives each exception besides Message: an
// error answer carries those and no other. Errors of the protocol (SerializationException,
// UnknownOperationException, MissingAuthenticationTokenException) are not in the models and carry a
// message only. Each identitystore exception carries the request's id as RequestId.
var errorMembers = map[string]map[string][]string{
	svcSSOAdmin: {}, // every sso-admin exception has Message only
	svcIdentityStore: {
		"AccessDeniedException":         {"RequestId"},
		"ConflictException":             {"RequestId", "Reason"},
		"InternalServerException":       {"RequestId", "RetryAfterSeconds"},
		"ResourceNotFoundException":     {"RequestId", "ResourceType", "ResourceId"},
		"ServiceQuotaExceededException": {"RequestId"},
		"ThrottlingException":           {"RequestId", "RetryAfterSeconds"},
		"ValidationException":           {"RequestId"},
	},
	svcOrganizations: {
		"InvalidInputException":                 {"Reason"},
		"ConstraintViolationException":          {"Reason"},
		"HandshakeConstraintViolationException": {"Reason"},
		"AccessDeniedForDependencyException":    {"Reason"},
		"TooManyRequestsException":              {"Type"},
	},
}

// internalErrorCode is the service's exception for an internal failure.
func internalErrorCode(service string) string {
	if service == svcOrganizations {
		return "ServiceException"
	}
	return "InternalServerException"
}

// writeAWSError answers err as service's model shapes it (errorMembers).
func writeAWSError(w http.ResponseWriter, service string, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{status: 500, code: internalErrorCode(service), message: err.Error()}
	}
	requestID := newUUID()
	body := map[string]any{"__type": e.code, "message": e.message}
	allowed, modelled := errorMembers[service][e.code]
	for _, k := range allowed {
		if v, ok := e.extra[k]; ok && v != "" {
			body[k] = v
		}
	}
	if modelled && service == svcIdentityStore {
		body["RequestId"] = requestID
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(body)
}

// conflictOnRecentWrite injects a propagation ConflictException for a write to key written lately,
// and records this write.
func (s *Sim) conflictOnRecentWrite(key string) error {
	now := s.now()
	if s.opts.ConflictRate > 0 {
		if t, ok := s.recent[key]; ok && now.Sub(t) < s.opts.ConflictWindow && s.rng.Float64() < s.opts.ConflictRate {
			s.stats.Conflicts++
			return errConflict("CONCURRENT_MODIFICATION", "A previous change to this resource is still in progress; retry")
		}
		if len(s.recent) > 100_000 {
			for k, t := range s.recent {
				if now.Sub(t) >= s.opts.ConflictWindow {
					delete(s.recent, k)
				}
			}
		}
		s.recent[key] = now
	}
	return nil
}

func (s *Sim) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sim/stats":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Stats())
	case "/_sim/state":
		b, err := s.Snapshot()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case "/_sim/info":
		w.Header().Set("Content-Type", "application/json")
		e := s.Endpoints(s.baseURL(r))
		json.NewEncoder(w).Encode(map[string]string{
			"instance_arn": s.InstanceARN(), "identity_store_id": s.IdentityStoreID(), "region": s.opts.Region,
			"saml_issuer_url": e.EntityID, "saml_acs_url": e.ACS, "saml_metadata_url": e.Metadata, "start_url": e.StartURL,
		})
	default:
		http.NotFound(w, r)
	}
}

// decode reads an operation's input; a body that is not a JSON object is a SerializationException.
func decode(in []byte, v any) error {
	if err := json.Unmarshal(in, v); err != nil {
		return &apiError{status: 400, code: "SerializationException", message: "could not read the request: " + err.Error()}
	}
	return nil
}

// required checks required string members; names are the model's member names.
func required(pairs ...any) error {
	var missing, empty []string
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		switch v := pairs[i+1].(type) {
		case string:
			if v == "" {
				missing = append(missing, name)
			}
		case *string:
			if v == nil {
				missing = append(missing, name)
			} else if *v == "" {
				empty = append(empty, name)
			}
		case bool:
			if !v {
				missing = append(missing, name)
			}
		}
	}
	if len(missing)+len(empty) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(empty)
	var msgs []string
	for _, m := range missing {
		msgs = append(msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(m)))
	}
	for _, m := range empty {
		msgs = append(msgs, fmt.Sprintf("Value '' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", lowerFirst(m)))
	}
	return errValidation("%d validation error(s) detected: %s", len(msgs), strings.Join(msgs, "; "))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// registerJSON registers an operation whose input decodes into In.
func registerJSON[In any](service, op string, h func(s *Sim, req *In) (any, error)) {
	register(service, op, func(s *Sim, in []byte) (any, error) {
		req := new(In)
		if err := decode(in, req); err != nil {
			return nil, err
		}
		return h(s, req)
	})
}
