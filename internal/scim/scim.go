// Package scim is warden's SCIM 2.0 service provider (RFC 7643, RFC 7644) for the company's
// identity provider: Microsoft Entra ID or Okta provision users and push groups into warden at
// /scim/v2/, each through a connector of its own (scim.connectors in the config file), with a
// bearer token warden made for it.
//
// What a connector provisions has origin scim:<connector> and is that connector's own (package
// manage refuses everyone else's changes to it): a user's name, profile and whether they are
// active; the access lists it pushes (groups: lists) or the user trait it keeps groups in (groups:
// traits). A user the provider deactivates (active false, or the string "False" Entra ID sends)
// is disabled at once: warden ends their sessions, revokes their API and CLI tokens and ends their
// approved access requests (through the Hooks the server gives), keeps their memberships
// inactive, and the sync takes their groups and assignments away in Identity Center (package
// policy), and removes their Identity Center user when the connector deprovisions by deletion.
//
// Users and Groups answer POST, GET (one, or a list with filter, startIndex and count), PUT,
// PATCH and DELETE; ServiceProviderConfig, Schemas and ResourceTypes describe what is supported.
// Filters take every operator of RFC 7644 (eq, ne, co, sw, ew, gt, ge, lt, le, pr, and, or, not,
// value paths); PATCH takes add, replace and remove with or without a path, in any case, with the
// forms Entra ID and Okta send (see docs/scim.md). Resources carry weak ETags, W/"<version>", and
// a PUT, PATCH or DELETE with an If-Match that no longer holds is refused with 412. Errors are
// SCIM errors (schemas, status as a string, scimType, detail) in application/scim+json.
//
// Every change is written through package manage, audited with actor scim:<connector>.
package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Bounds on what a request may ask.
const (
	// MaxBody is the largest request body read.
	MaxBody = 1 << 20
	// DefaultCount and MaxCount bound a list's page.
	DefaultCount = 100
	MaxCount     = 1000
	// MaxOperations bounds a PATCH's operations.
	MaxOperations = 1000
)

// Schema URNs.
const (
	SchemaUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// ContentType is what every answer is.
const ContentType = "application/scim+json"

// Hooks are what the service needs of the rest of warden.
type Hooks struct {
	// Deprovision ends what a user just disabled could still use: their browser sessions, API and
	// CLI tokens and approved (or pending) access requests, each audited as actor.
	Deprovision func(ctx context.Context, user, actor string) error
}

// Service serves the SCIM API of the configured connectors.
type Service struct {
	store      store.Store
	manage     *manage.Service
	connectors map[string]Config
	hooks      Hooks
	log        *slog.Logger
	now        func() time.Time
}

// New returns the service for connectors (validated by the config) over st.
func New(st store.Store, connectors []Config, hooks Hooks, log *slog.Logger) *Service {
	s := &Service{store: st, manage: manage.New(st), connectors: map[string]Config{}, hooks: hooks, log: log, now: time.Now}
	for _, c := range connectors {
		s.connectors[c.Name] = c.WithDefaults()
	}
	return s
}

// SetClock makes the service read time from now (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Connector returns a configured connector.
func (s *Service) Connector(name string) (Config, bool) {
	c, ok := s.connectors[name]
	return c, ok
}

// ---- errors ----

// Error is a SCIM error answer.
type Error struct {
	Status   int
	SCIMType string
	Detail   string
}

func (e *Error) Error() string {
	if e.SCIMType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.SCIMType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

func errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, SCIMType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of a SCIM error.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	SCIMType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// fail answers err as a SCIM error: an *Error as it is; warden's own errors mapped (a field error
// 400 invalidValue, not found 404, exists 409 uniqueness, a stale revision 412, a change to what
// another owns 403 mutability); anything else 500, logged with an id, its text not shown.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *Error
	var owned *manage.OwnedError
	var fe *resource.FieldError
	var fes resource.Errors
	switch {
	case errors.As(err, &se):
	case errors.As(err, &owned):
		se = errorf(http.StatusForbidden, "mutability", "%s", owned.Error())
	case errors.As(err, &fes):
		se = errorf(http.StatusBadRequest, "invalidValue", "%s", fes.Error())
	case errors.As(err, &fe):
		se = errorf(http.StatusBadRequest, "invalidValue", "%s", fe.Error())
	case errors.Is(err, store.ErrNotFound):
		se = errorf(http.StatusNotFound, "", "%s", err.Error())
	case errors.Is(err, store.ErrAlreadyExists):
		se = errorf(http.StatusConflict, "uniqueness", "%s", err.Error())
	case errors.Is(err, store.ErrConflict):
		se = errorf(http.StatusPreconditionFailed, "", "changed meanwhile: %s", err.Error())
	case errors.Is(err, manage.ErrReferenced):
		se = errorf(http.StatusConflict, "", "%s", err.Error())
	default:
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		s.log.Error("scim request failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		se = errorf(http.StatusInternalServerError, "", "internal error (id %s)", id)
	}
	writeJSON(w, se.Status, errorBody{Schemas: []string{SchemaError}, Status: strconv.Itoa(se.Status), SCIMType: se.SCIMType, Detail: se.Detail})
}

// ---- tokens ----

// tokenPrefix starts every connector token: wsc_<connector>_<64 hex digits>.
const tokenPrefix = "wsc_"

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new bearer token for a configured connector, replacing the one it had (that
// one stops working at once), audited as by; the token is returned once and only its hash kept.
func (s *Service) CreateToken(ctx context.Context, connector string, by manage.Actor) (string, error) {
	if _, ok := s.connectors[connector]; !ok {
		return "", &resource.FieldError{Field: "connector", Message: fmt.Sprintf("%q is not a SCIM connector of this warden (scim.connectors in the config file: %s)", connector, s.names())}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	o := resource.New(resource.KindSCIMToken, connector)
	o.Spec = &resource.SCIMTokenSpec{Connector: connector, SecretHash: hashSecret(secret), Created: s.now().UTC().Truncate(time.Second), Issuer: by.User}
	if err := resource.Validate(o); err != nil {
		return "", err
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		cur, err := tx.Get(ctx, resource.KindSCIMToken, connector)
		action, detail := "create", fmt.Sprintf("SCIM token of connector %s created by %s", connector, by.User)
		switch {
		case errors.Is(err, store.ErrNotFound):
			err = tx.Create(ctx, o)
		case err != nil:
			return err
		default:
			o.Metadata.Revision = cur.Metadata.Revision
			action, detail = "rotate", fmt.Sprintf("SCIM token of connector %s replaced by %s: the former one no longer works", connector, by.User)
			err = tx.Update(ctx, o)
		}
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, by.Entry(audit.Entry{Action: action, Kind: resource.KindSCIMToken, Name: connector, Detail: detail}))
	})
	if err != nil {
		return "", err
	}
	return tokenPrefix + connector + "_" + secret, nil
}

func (s *Service) names() string {
	var out []string
	for n := range s.connectors {
		out = append(out, n)
	}
	if len(out) == 0 {
		return "none configured"
	}
	return strings.Join(out, ", ")
}

// authenticate says which connector a request's bearer token is: the connector it names, if it
// is configured and the token's secret hashes to the one stored (compared in constant time).
func (s *Service) authenticate(r *http.Request) (Config, error) {
	unauth := func(detail string) error { return errorf(http.StatusUnauthorized, "", "%s", detail) }
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Config{}, unauth("missing bearer token: send Authorization: Bearer <the connector's token (warden scim token create)>")
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if !ok || len(rest) < 66 || rest[len(rest)-65] != '_' {
		return Config{}, unauth("not a warden SCIM token")
	}
	name, secret := rest[:len(rest)-65], rest[len(rest)-64:]
	c, configured := s.connectors[name]
	if !configured {
		return Config{}, unauth("unknown or replaced token")
	}
	o, err := s.store.Get(r.Context(), resource.KindSCIMToken, name)
	if errors.Is(err, store.ErrNotFound) {
		return Config{}, unauth("unknown or replaced token")
	}
	if err != nil {
		return Config{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(o.Spec.(*resource.SCIMTokenSpec).SecretHash)) != 1 {
		return Config{}, unauth("unknown or replaced token")
	}
	return c, nil
}

// ---- routing ----

// ServeHTTP serves /scim/v2/...: every route needs a connector's token.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warden-scim"`)
		s.fail(w, r, err)
		return
	}
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/scim/v2"), "/")
	kind, id, _ := strings.Cut(path, "/")
	if strings.Contains(id, "/") {
		s.fail(w, r, errorf(http.StatusNotFound, "", "no SCIM endpoint %s", r.URL.Path))
		return
	}
	ctx := r.Context()
	switch {
	case kind == "ServiceProviderConfig" && id == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, spConfig(r))
	case kind == "Schemas" && r.Method == http.MethodGet:
		s.schemas(w, r, id)
	case kind == "ResourceTypes" && r.Method == http.MethodGet:
		s.resourceTypes(w, r, id)
	case kind == "Users" || kind == "Groups":
		h := &handler{s: s, c: c, w: w, r: r, users: kind == "Users", base: baseURL(r)}
		h.serve(ctx, id)
	case kind == "Bulk" || kind == "Me" || kind == ".search" || id == ".search":
		s.fail(w, r, errorf(http.StatusNotImplemented, "", "/%s is not supported by warden", path))
	default:
		s.fail(w, r, errorf(http.StatusNotFound, "", "no SCIM endpoint %s %s", r.Method, r.URL.Path))
	}
}

// baseURL is the SCIM base the request came to, for meta.location.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}

// readBody reads a JSON body of at most MaxBody bytes, checked for size and shape first.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "tooLarge", "the body is larger than %d bytes", MaxBody)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "reading the body: %v", err)
	}
	if err := resource.CheckJSON(b); err != nil {
		return nil, errorf(http.StatusRequestEntityTooLarge, "tooLarge", "%v", err)
	}
	if !json.Valid(b) {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "the body is not JSON")
	}
	return b, nil
}
