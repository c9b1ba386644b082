package resource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// DocumentError is a problem in one document of a file: "roles.yaml: document 3 (role "dev"): ...".
type DocumentError struct {
	Source string // file name, "-" for standard input, or "" when unknown
	Doc    int    // 1-based document number, 0 when the error concerns the whole input
	Kind   Kind
	Name   string
	Err    error
}

func (e *DocumentError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Doc > 0 {
		fmt.Fprintf(&b, "document %d", e.Doc)
		if e.Kind != "" && e.Name != "" {
			fmt.Fprintf(&b, " (%s %q)", e.Kind, e.Name)
		} else if e.Kind != "" {
			fmt.Fprintf(&b, " (%s)", e.Kind)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *DocumentError) Unwrap() error { return e.Err }

// maxNodes bounds the work one resource may cause (YAML aliases can expand exponentially); no real
// resource comes near it.
const maxNodes = 1_000_000

// DecodeAll reads every document in data (multi-document YAML, a JSON object, or a JSON or YAML list of
// objects), strictly: unknown fields and values of the wrong type are errors naming their field. Each
// object is normalised (version defaulted, member names derived) and validated on its own. The first
// document with problems stops decoding; the error is a *DocumentError naming source and document.
func DecodeAll(source string, data []byte) ([]*Object, error) {
	next := yamlItems(data)
	if looksJSON(data) {
		// JSON is read as JSON (YAML lacks its "\/" escape), one resource at a time. What does not
		// parse as JSON up to its first resource may still be YAML flow style ([{kind: user}]), so it
		// goes to the YAML parser instead.
		jnext := jsonItems(data)
		first, err := jnext()
		if err == nil || errors.Is(err, io.EOF) {
			pending := first
			next = func() (*yaml.Node, error) {
				if pending != nil {
					n := pending
					pending = nil
					return n, nil
				}
				if first == nil {
					return nil, io.EOF
				}
				return jnext()
			}
		}
	}
	var out []*Object
	for doc := 1; ; doc++ {
		item, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &DocumentError{Source: source, Doc: doc, Err: &FieldError{Message: err.Error()}}
		}
		budget := maxNodes
		o, err := decodeObject(item, &budget)
		if err == nil {
			Normalize(o)
			err = Validate(o)
		}
		if err != nil {
			de := &DocumentError{Source: source, Doc: doc, Err: err}
			if o != nil {
				de.Kind, de.Name = o.Kind, o.Metadata.Name
			}
			return nil, de
		}
		out = append(out, o)
	}
}

// looksJSON: input that starts like JSON is tried as JSON first.
func looksJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// yamlItems yields the resources of a YAML stream: each document, or each item of a document that is
// a list; empty documents are skipped.
func yamlItems(data []byte) func() (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var queue []*yaml.Node
	return func() (*yaml.Node, error) {
		for len(queue) == 0 {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, err
				}
				return nil, fmt.Errorf("not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
			root := &n
			if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
				root = root.Content[0]
			}
			switch {
			case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
				// an empty document, as between "---" lines
			case root.Kind == yaml.SequenceNode:
				queue = append(queue, root.Content...)
			default:
				queue = append(queue, root)
			}
		}
		n := queue[0]
		queue = queue[1:]
		return n, nil
	}
}

// jsonItems yields the resources of a JSON stream, streaming the items of top-level lists so that a
// file of a hundred thousand resources is never held as one tree. Nodes keep key order and duplicate
// keys, so the same strict checks apply as for YAML.
func jsonItems(data []byte) func() (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	inList := false
	fail := func(err error) (*yaml.Node, error) {
		return nil, fmt.Errorf("not valid JSON (at byte %d): %w", dec.InputOffset(), err)
	}
	return func() (*yaml.Node, error) {
		for {
			if inList {
				if dec.More() {
					nodes := 0
					n, err := jsonNode(dec, &nodes)
					if err != nil {
						return fail(eofInside(err))
					}
					return n, nil
				}
				if _, err := dec.Token(); err != nil { // the list's closing ]
					return fail(eofInside(err))
				}
				inList = false
				continue
			}
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			if err != nil {
				return fail(err)
			}
			if tok == json.Delim('[') {
				inList = true
				continue
			}
			if tok == nil {
				continue // a top-level null, like an empty YAML document
			}
			nodes := 0
			n, err := jsonValue(dec, tok, &nodes)
			if err != nil {
				return fail(eofInside(err))
			}
			return n, nil
		}
	}
}

func eofInside(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func jsonNode(dec *json.Decoder, nodes *int) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return jsonValue(dec, tok, nodes)
}

// jsonValue builds the node of the value that starts with tok.
func jsonValue(dec *json.Decoder, tok json.Token, nodes *int) (*yaml.Node, error) {
	if *nodes++; *nodes > maxNodes {
		return nil, errors.New("a resource of more than a million values")
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if v == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, eofInside(err)
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			child, err := jsonNode(dec, nodes)
			if err != nil {
				return nil, eofInside(err)
			}
			n.Content = append(n.Content, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, eofInside(err)
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(v), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(v)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	default:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
}

// Decode reads exactly one object (YAML or JSON) strictly, normalises and validates it.
func Decode(data []byte) (*Object, error) {
	objs, err := DecodeAll("", data)
	if err != nil {
		var de *DocumentError
		if errors.As(err, &de) {
			return nil, de.Err
		}
		return nil, err
	}
	if len(objs) != 1 {
		return nil, &FieldError{Message: fmt.Sprintf("expected one resource, found %d", len(objs))}
	}
	return objs[0], nil
}

// Normalize fills in what a person may leave out: the version, and a member record's name.
func Normalize(o *Object) {
	if o.Version == "" {
		o.Version = Version
	}
	if o.Spec == nil {
		o.Spec = NewSpec(o.Kind)
	}
	if m, ok := o.Spec.(*AccessListMemberSpec); ok && o.Metadata.Name == "" && m.List != "" && m.Member != "" {
		o.Metadata.Name = MemberName(m.List, m.Member, m.Kind())
	}
}

var envelopeFields = []string{"kind", "version", "metadata", "spec", "status"}

func decodeObject(n *yaml.Node, budget *int) (*Object, error) {
	c := &converter{budget: budget}
	n = c.deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, Errors{{Message: "a resource must be a mapping with kind, version, metadata and spec"}}
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if _, dup := fields[k]; dup {
			c.add(k, "given twice")
			continue
		}
		if !slices.Contains(envelopeFields, k) {
			c.add(k, "unknown field (a resource has %s)", strings.Join(envelopeFields, ", "))
			continue
		}
		fields[k] = n.Content[i+1]
	}
	o := &Object{}
	if kn := fields["kind"]; kn != nil {
		if s, ok := c.scalarString("kind", kn); ok {
			o.Kind = Kind(s)
		}
	}
	if vn := fields["version"]; vn != nil {
		if s, ok := c.scalarString("version", vn); ok {
			o.Version = s
		}
	}
	if o.Kind == "" {
		c.add("kind", "required (one of %s)", kindList())
		return o, c.errs
	}
	if info, ok := kinds[o.Kind]; !ok || !info.public {
		c.add("kind", "unknown kind %q (known kinds: %s)", o.Kind, kindList())
		return o, c.errs
	}
	// metadata may be left out: a member's name is derived and a request's is optional; Validate says
	// "metadata.name: required" for the kinds that need one.
	if mn := fields["metadata"]; mn != nil {
		if v := c.convert("metadata", mn, reflect.TypeOf(Metadata{})); v != nil {
			c.into("metadata", v, &o.Metadata)
		}
	}
	o.Spec = NewSpec(o.Kind)
	if sn := fields["spec"]; sn != nil {
		if v := c.convert("spec", sn, reflect.TypeOf(o.Spec).Elem()); v != nil {
			c.into("spec", v, o.Spec)
		}
	}
	if stn := fields["status"]; stn != nil {
		// Status is warden's to write; it is accepted so that output can be applied again, then ignored.
		if v := c.convert("status", stn, reflect.TypeOf((*any)(nil)).Elem()); v != nil {
			o.Status, _ = json.Marshal(v)
		}
	}
	if len(c.errs) > 0 {
		return o, c.errs
	}
	return o, nil
}

type converter struct {
	errs   Errors
	budget *int
}

func (c *converter) add(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return c.deref(n.Content[0])
	}
	return n
}

func (c *converter) into(field string, v any, dst any) {
	b, err := json.Marshal(v)
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		err = d.Decode(dst)
	}
	if err != nil {
		c.add(field, "%v", err)
	}
}

func (c *converter) scalarString(field string, n *yaml.Node) (string, bool) {
	n = c.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.add(field, "must be a string")
		return "", false
	}
	return n.Value, true
}

var (
	timeType        = reflect.TypeOf(time.Time{})
	unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true/false"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "a " + strings.TrimPrefix(n.Tag, "!!")
}

// convert turns n into a JSON-ready value shaped for t, recording errors with their field path.
// It returns nil for JSON null (and after an error).
func (c *converter) convert(path string, n *yaml.Node, t reflect.Type) any {
	n = c.deref(n)
	if *c.budget--; *c.budget < 0 { // maxNodes nodes are allowed; the first one over is reported
		if *c.budget == -1 {
			c.add(path, "input too large or too deeply aliased")
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!timestamp") {
			c.add(path, "must be a time like 2026-01-02T15:04:05Z, found %s", kindName(n))
			return nil
		}
		tm, err := ParseTime(n.Value)
		if err != nil {
			c.add(path, "%q is not a time like 2026-01-02T15:04:05Z or a date like 2026-01-02", n.Value)
			return nil
		}
		return tm.Format(time.RFC3339Nano)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			c.add(path, "must be a single value, found %s", kindName(n))
			return nil
		}
		return n.Value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.add(path, "must be a mapping, found %s", kindName(n))
			return nil
		}
		fields := jsonFields(t)
		out := map[string]any{}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := c.deref(n.Content[i]).Value
			if seen[k] {
				c.add(join(path, k), "given twice")
				continue
			}
			seen[k] = true
			ft, ok := fields[k]
			if !ok {
				c.add(join(path, k), "unknown field (known fields here: %s)", strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
				continue
			}
			if v := c.convert(join(path, k), n.Content[i+1], ft); v != nil {
				if l, ok := v.([]any); ok && len(l) == 0 {
					continue // an empty list is no list, as it is after a JSON round trip (omitempty)
				}
				out[k] = v
			}
		}
		return out
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.add(path, "must be a mapping, found %s", kindName(n))
			return nil
		}
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := c.deref(n.Content[i]).Value
			if _, dup := out[k]; dup {
				c.add(join(path, k), "given twice")
				continue
			}
			if v := c.convert(join(path, k), n.Content[i+1], t.Elem()); v != nil {
				out[k] = v
			}
		}
		return out
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.add(path, "must be a list, found %s", kindName(n))
			return nil
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(fmt.Sprintf("%s[%d]", path, i), item, t.Elem()))
		}
		return out
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.add(path, "must be a string, found %s", kindName(n))
			return nil
		}
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!timestamp":
			// An unquoted number is taken as written: account: 058264527036 keeps its leading zero.
			return n.Value
		}
		c.add(path, "must be a string, found %s (quote it: \"%s\")", kindName(n), n.Value)
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
			if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				return v
			}
		}
		c.add(path, "must be a whole number, found %s", kindName(n))
		return nil
	case reflect.Bool:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err == nil {
				return b
			}
		}
		c.add(path, "must be true or false, found %s", kindName(n))
		return nil
	case reflect.Interface:
		var v any
		if err := n.Decode(&v); err != nil {
			c.add(path, "%v", err)
			return nil
		}
		return jsonable(v)
	}
	c.add(path, "cannot decode into %s", t)
	return nil
}

// jsonable turns what yaml.v3 decodes into interface{} into something encoding/json accepts.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// ParseTime accepts RFC 3339 times and plain dates (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
