package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// PATCH (RFC 7644 §3.5.2) over a resource's JSON form: the operations change the map, which is
// then read back as the resource, so that every form of path and value lands the same way. The
// forms the identity providers send, beside RFC 7644's own:
//   - ops in any case ("Replace", "Add", "Remove": Entra ID without its aadOptscim062020 flag);
//   - no path, the value a map of attributes or paths to set ({"active": false} from Okta;
//     {"displayName": "x", "name.givenName": "y", "urn:…:enterprise:2.0:User:department": "z"}
//     from Entra ID);
//   - remove with path "members" and the members to remove in value (Entra ID), rather than
//     members[value eq "…"];
//   - a path with a filter and a sub-attribute that matches nothing (emails[type eq "work"].value
//     on a user without a work email) adds the value with the filter's attribute.

// PatchRequest is a PATCH body.
type PatchRequest struct {
	Schemas    []string         `json:"schemas"`
	Operations []PatchOperation `json:"Operations"`
}

// PatchOperation is one operation as sent.
type PatchOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// Operation is one operation decoded: Op is add, replace or remove; Path nil when none was given.
type Operation struct {
	Op    string
	Path  *Path
	Value any
}

// DecodePatch decodes and checks a PATCH body.
func DecodePatch(b []byte) ([]Operation, error) {
	var req PatchRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "a PATCH body is {\"schemas\": [%q], \"Operations\": [{\"op\", \"path\", \"value\"}]}: %v", SchemaPatchOp, err)
	}
	if len(req.Operations) == 0 {
		return nil, errorf(http.StatusBadRequest, "invalidValue", "no Operations")
	}
	if len(req.Operations) > MaxOperations {
		return nil, errorf(http.StatusBadRequest, "tooMany", "%d operations; at most %d", len(req.Operations), MaxOperations)
	}
	out := make([]Operation, 0, len(req.Operations))
	for i, o := range req.Operations {
		op := Operation{Op: strings.ToLower(o.Op)}
		switch op.Op {
		case "add", "replace", "remove":
		default:
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "Operations[%d].op: %q is not add, replace or remove", i, o.Op)
		}
		if strings.TrimSpace(o.Path) != "" {
			p, err := ParsePath(o.Path)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "invalidPath", "Operations[%d].path: %v", i, err)
			}
			op.Path = p
		}
		if len(o.Value) > 0 {
			dec := json.NewDecoder(bytes.NewReader(o.Value))
			if err := dec.Decode(&op.Value); err != nil {
				return nil, errorf(http.StatusBadRequest, "invalidValue", "Operations[%d].value: %v", i, err)
			}
		}
		switch {
		case op.Path == nil && op.Op == "remove":
			return nil, errorf(http.StatusBadRequest, "noTarget", "Operations[%d]: remove needs a path", i)
		case op.Path == nil:
			if _, ok := op.Value.(map[string]any); !ok {
				return nil, errorf(http.StatusBadRequest, "invalidValue", "Operations[%d]: without a path, the value must be an object of attributes", i)
			}
		case op.Op != "remove" && len(o.Value) == 0:
			return nil, errorf(http.StatusBadRequest, "invalidValue", "Operations[%d]: %s needs a value", i, op.Op)
		}
		out = append(out, op)
	}
	return out, nil
}

// Apply applies operations to a resource's JSON form, in order.
func Apply(res map[string]any, ops []Operation) error {
	for i, op := range ops {
		if err := applyOp(res, op); err != nil {
			return errorf(http.StatusBadRequest, "invalidValue", "Operations[%d]: %v", i, err)
		}
	}
	return nil
}

func applyOp(res map[string]any, op Operation) error {
	if op.Path != nil {
		return applyPath(res, op.Op, op.Path, op.Value)
	}
	for k, v := range op.Value.(map[string]any) {
		if isSchemaURN(k) {
			// {"urn:…:enterprise:2.0:User": {"department": "x"}}: each attribute of that schema.
			sub, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: the value of a schema is an object of its attributes", k)
			}
			for sk, sv := range sub {
				p, err := ParsePath(k + ":" + sk)
				if err != nil {
					return err
				}
				if err := applyPath(res, op.Op, p, sv); err != nil {
					return err
				}
			}
			continue
		}
		p, err := ParsePath(k)
		if err != nil {
			return err
		}
		if err := applyPath(res, op.Op, p, v); err != nil {
			return err
		}
	}
	return nil
}

// isSchemaURN: a key that is a whole schema URN (…:User, …:Group), not an attribute in one.
func isSchemaURN(k string) bool {
	l := strings.ToLower(k)
	for _, s := range []string{SchemaUser, SchemaGroup, SchemaEnterprise} {
		if l == strings.ToLower(s) {
			return true
		}
	}
	return false
}

// container is the map an attribute path writes in (made when asked to, for an extension).
func container(res map[string]any, a AttrPath, create bool) map[string]any {
	if a.URN == "" || strings.HasPrefix(a.URN, "urn:ietf:params:scim:schemas:core:") {
		return res
	}
	key := keyOf(res, a.URN)
	m, ok := res[key].(map[string]any)
	if !ok && create {
		m = map[string]any{}
		res[key] = m
	}
	return m
}

// keyOf is the key of m that names name without case, or name when none does.
func keyOf(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func applyPath(res map[string]any, op string, p *Path, value any) error {
	m := container(res, p.Attr, op != "remove")
	if m == nil {
		return nil // removing from an extension that is not there
	}
	key := keyOf(m, p.Attr.Name)
	cur, exists := m[key]
	if p.Filter != nil {
		return applyFiltered(m, key, op, p, value)
	}
	if p.Attr.Sub != "" {
		set := func(el map[string]any) {
			sk := keyOf(el, p.Attr.Sub)
			if op == "remove" {
				delete(el, sk)
			} else {
				el[sk] = value
			}
		}
		switch c := cur.(type) {
		case map[string]any:
			set(c)
		case []any: // emails.value: every value's
			for _, el := range c {
				if em, ok := el.(map[string]any); ok {
					set(em)
				}
			}
		default:
			if op != "remove" {
				el := map[string]any{}
				set(el)
				m[key] = el
			}
		}
		return nil
	}
	switch op {
	case "remove":
		if arr, ok := cur.([]any); ok && value != nil {
			// Entra ID: {"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}
			// removes those members, not all.
			drop := map[string]bool{}
			for _, v := range asList(value) {
				drop[valueOf(v)] = true
			}
			kept := arr[:0:0]
			for _, el := range arr {
				if !drop[valueOf(el)] {
					kept = append(kept, el)
				}
			}
			m[key] = kept
			return nil
		}
		delete(m, key)
	case "add":
		if arr, ok := cur.([]any); ok || (!exists && isList(value)) {
			have := map[string]bool{}
			for _, el := range arr {
				have[valueOf(el)] = true
			}
			for _, v := range asList(value) {
				if k := valueOf(v); k == "" || !have[k] {
					arr = append(arr, v)
					have[k] = true
				}
			}
			m[key] = arr
			return nil
		}
		if c, ok := cur.(map[string]any); ok {
			if vm, ok := value.(map[string]any); ok {
				for k, v := range vm {
					c[keyOf(c, k)] = v
				}
				return nil
			}
		}
		m[key] = value
	case "replace":
		if c, ok := cur.(map[string]any); ok {
			if vm, ok := value.(map[string]any); ok { // a complex attribute: the sub-attributes given
				for k, v := range vm {
					c[keyOf(c, k)] = v
				}
				return nil
			}
		}
		if _, multi := cur.([]any); multi && !isList(value) && value != nil {
			value = []any{value}
		}
		m[key] = value
	}
	return nil
}

// applyFiltered applies op to the values of m[key] that p's filter selects.
func applyFiltered(m map[string]any, key, op string, p *Path, value any) error {
	arr, _ := m[key].([]any)
	matched := false
	out := arr[:0:0]
	for _, el := range arr {
		em, ok := el.(map[string]any)
		if !ok || !Match(p.Filter, em) {
			out = append(out, el)
			continue
		}
		matched = true
		switch {
		case op == "remove" && p.Sub == "":
			continue // the value goes
		case op == "remove":
			delete(em, keyOf(em, p.Sub))
		case p.Sub != "":
			em[keyOf(em, p.Sub)] = value
		default:
			if vm, ok := value.(map[string]any); ok {
				for k, v := range vm {
					em[keyOf(em, k)] = v
				}
			} else {
				return fmt.Errorf("%s: the value of a filtered path without a sub-attribute must be an object", p.Attr)
			}
		}
		out = append(out, em)
	}
	if !matched && op != "remove" {
		// Nothing matched: add a value that matches (emails[type eq "work"].value = x on a user
		// without a work email), when the filter says what it is (attr eq value).
		el := map[string]any{}
		if c, ok := p.Filter.(*Compare); ok && c.Op == "eq" && c.Attr.Sub == "" {
			el[c.Attr.Name] = c.Value
		}
		if p.Sub != "" {
			el[p.Sub] = value
		} else if vm, ok := value.(map[string]any); ok {
			for k, v := range vm {
				el[k] = v
			}
		}
		out = append(out, el)
	}
	m[key] = out
	return nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// valueOf is what identifies one value of a multi-valued attribute: its "value" (a member's id,
// an email address), or a plain value itself.
func valueOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if val, ok := lookup(x, "value"); ok {
			s, _ := val.(string)
			return s
		}
	case string:
		return x
	}
	return ""
}
