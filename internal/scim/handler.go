package scim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/wardenhq/warden/internal/manage"
)

// Bool is a SCIM boolean as the providers send it: true, false, or the strings "True" and
// "False" (Entra ID).
type Bool bool

// UnmarshalJSON takes a boolean or a string that is one.
func (b *Bool) UnmarshalJSON(d []byte) error {
	var v bool
	if err := json.Unmarshal(d, &v); err == nil {
		*b = Bool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(d, &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			*b = true
			return nil
		case "false":
			*b = false
			return nil
		}
	}
	return fmt.Errorf("%s is not a boolean", d)
}

// Meta is a resource's meta attribute.
type Meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

// handler serves one request to /Users or /Groups for connector c.
type handler struct {
	s     *Service
	c     Config
	w     http.ResponseWriter
	r     *http.Request
	users bool
	base  string
}

func (h *handler) fail(err error) { h.s.fail(h.w, h.r, err) }

// actor is the connector as package manage records it, with what the request was.
func (h *handler) actor() manage.Actor {
	return manage.Actor{User: h.c.Origin(), Detail: fmt.Sprintf("SCIM %s %s", h.r.Method, h.r.URL.Path)}
}

func (h *handler) serve(ctx context.Context, id string) {
	switch {
	case id == "" && h.r.Method == http.MethodGet:
		h.list(ctx)
	case id == "" && h.r.Method == http.MethodPost:
		if h.users {
			h.createUser(ctx)
		} else {
			h.createGroup(ctx)
		}
	case id != "" && h.r.Method == http.MethodGet:
		h.get(ctx, id)
	case id != "" && (h.r.Method == http.MethodPut || h.r.Method == http.MethodPatch):
		h.change(ctx, id)
	case id != "" && h.r.Method == http.MethodDelete:
		if h.users {
			h.deleteUser(ctx, id)
		} else {
			h.deleteGroup(ctx, id)
		}
	default:
		h.w.Header().Set("Allow", "GET, POST, PUT, PATCH, DELETE")
		h.fail(errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s", h.r.Method, h.r.URL.Path))
	}
}

// newID makes a resource id: a random UUID.
func newID() string { return uuid.NewString() }

// etag is a version as a weak entity tag.
func etag(v string) string { return `W/"` + v + `"` }

// hashVersion makes a version from parts (a group's list and its members' revisions).
func hashVersion(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// precondition checks If-Match against a resource's current version: "*" or a tag equal to it
// (weak or strong, as sent) passes; anything else is 412.
func (h *handler) precondition(version string) error {
	im := strings.TrimSpace(h.r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return nil
	}
	for _, t := range strings.Split(im, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if strings.Trim(t, `"`) == version {
			return nil
		}
	}
	return errorf(http.StatusPreconditionFailed, "", "If-Match %s: the resource's version is now %s", im, etag(version))
}

// answer writes a resource with its version and location.
func (h *handler) answer(code int, res map[string]any, version, location string) {
	h.w.Header().Set("ETag", etag(version))
	if code == http.StatusCreated {
		h.w.Header().Set("Location", location)
	}
	writeJSON(h.w, code, res)
}

// page reads startIndex and count: startIndex from 1 (less is 1), count from 0 to MaxCount (a
// negative count is 0, a larger one MaxCount, as RFC 7644 §3.4.2.4 lets a service provider).
func (h *handler) page() (start, count int, err error) {
	q := h.r.URL.Query()
	start, count = 1, DefaultCount
	if v := q.Get("startIndex"); v != "" {
		if start, err = strconv.Atoi(v); err != nil {
			return 0, 0, errorf(http.StatusBadRequest, "invalidValue", "startIndex %q is not a number", v)
		}
		start = max(start, 1)
	}
	if v := q.Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil {
			return 0, 0, errorf(http.StatusBadRequest, "invalidValue", "count %q is not a number", v)
		}
		count = min(max(count, 0), MaxCount)
	}
	return start, count, nil
}

// filter reads the filter parameter (nil: none).
func (h *handler) filter() (Expr, error) {
	f := h.r.URL.Query().Get("filter")
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	e, err := ParseFilter(f)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "%v", err)
	}
	return e, nil
}

// eqValue finds, in a filter that is attr eq "value" (alone or and-ed with others), the value
// compared with the attribute named name: a candidate set the store finds by index.
func eqValue(e Expr, name string) (string, bool) {
	switch e := e.(type) {
	case *Compare:
		if e.Op == "eq" && e.Attr.Sub == "" && strings.EqualFold(e.Attr.Name, name) && (e.Attr.URN == "" || strings.HasPrefix(e.Attr.URN, "urn:ietf:params:scim:schemas:core:")) {
			s, ok := e.Value.(string)
			return s, ok
		}
	case *Logical:
		if e.Op == "and" {
			if v, ok := eqValue(e.Left, name); ok {
				return v, ok
			}
			return eqValue(e.Right, name)
		}
	}
	return "", false
}

// toMap is a resource's JSON form.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// fromMap reads a JSON form into a resource, as a body is read.
func fromMap(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return decodeResource(b, v)
}

// readResource reads the request's body into a resource (a POST's).
func (h *handler) readResource(v any) error {
	b, err := readBody(h.r)
	if err != nil {
		return err
	}
	return decodeResource(b, v)
}

// readChange reads the resource a PUT or PATCH makes into v: a PUT's body is the resource whole;
// a PATCH's operations apply to the current resource's JSON form, which current gives (read only
// for a PATCH).
func (h *handler) readChange(v any, current func() (map[string]any, error)) error {
	b, err := readBody(h.r)
	if err != nil {
		return err
	}
	if h.r.Method == http.MethodPut {
		return decodeResource(b, v)
	}
	ops, err := DecodePatch(b)
	if err != nil {
		return err
	}
	m, err := current()
	if err != nil {
		return err
	}
	if err := Apply(m, ops); err != nil {
		return err
	}
	return fromMap(m, v)
}

// decodeResource reads a body into a resource: attribute names without case (encoding/json's
// way), unknown attributes ignored (a provider sends more than warden keeps).
func decodeResource(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return errorf(http.StatusBadRequest, "invalidValue", "%v", err)
	}
	return nil
}
