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

// Limits on what one call of Decode or DecodeAll reads. No real resource comes near them: a resource
// nests 6 deep, and a role listing a thousand account assignments has about 5,000 values. They keep
// what one API request can make the server build to a few megabytes, whatever its shape: 1 MiB of
// [[[[...]]]], a flat list of half a million values, or YAML aliases that repeat a value many times.
const (
	// MaxDepth is how deeply lists and mappings may nest; the resource itself is the first level.
	MaxDepth = 32
	// MaxValues is how many values (scalars, lists and mappings; keys count as read, not as
	// converted) one resource may have, counted both as the input is read and as it is converted,
	// where a YAML alias counts everything it repeats.
	MaxValues = 20_000
)

// budget is what one call of Decode or DecodeAll may still build and convert. There is one per call,
// shared by every document and every item of a list, so that an alias is paid for wherever it is
// expanded: each "- *r" of a list costs the whole of r again.
type budget struct {
	nodes  int // parse-tree nodes: JSON values as they are read; YAML's, estimated before it is parsed
	values int // values converted, aliases expanded
}

// callBudget is one call's budget: a resource's worth, and for a stream of resources two more per
// byte of input, which no real file reaches (a user is about 15 values in 150 bytes) but which keeps
// what a file may expand to proportional to its size.
func callBudget(data []byte, stream bool) *budget {
	n := MaxValues
	if stream {
		n += 2 * len(data)
	}
	return &budget{nodes: n, values: n}
}

// limitError is a limit reached while reading the input: reported as it is, never retried as YAML.
type limitError struct{ *FieldError }

func (e *limitError) Unwrap() error { return e.FieldError }

// DecodeAll reads every document in data (multi-document YAML, a JSON object, or a JSON or YAML list of
// objects), strictly: unknown fields and values of the wrong type are errors naming their field. Each
// object is normalised (version defaulted, member names derived) and validated on its own. The first
// document with problems stops decoding; the error is a *DocumentError naming source and document.
// What the whole call may read is bounded: MaxDepth, MaxValues per resource, and two values per byte.
func DecodeAll(source string, data []byte) ([]*Object, error) {
	return decode(source, data, false)
}

// Decode reads exactly one object (YAML or JSON) strictly, normalises and validates it. It stops at a
// second one, before converting either; its whole input is bounded as one resource is (MaxValues).
func Decode(data []byte) (*Object, error) {
	objs, err := decode("", data, true)
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

func decode(source string, data []byte, one bool) ([]*Object, error) {
	b := callBudget(data, !one)
	next := items(data, b)
	var out []*Object
	for doc := 1; ; doc++ {
		item, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &DocumentError{Source: source, Doc: doc, Err: itemError(err)}
		}
		if one {
			switch _, err := next(); {
			case err == nil:
				return nil, &FieldError{Message: "expected one resource, found more than one"}
			case !errors.Is(err, io.EOF):
				return nil, &DocumentError{Source: source, Doc: doc + 1, Err: itemError(err)}
			}
		}
		o, err := decodeObject(item, b)
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

// itemError is the error of an item that could not be read: a limit keeps its field.
func itemError(err error) error {
	var le *limitError
	if errors.As(err, &le) {
		return le.FieldError
	}
	return &FieldError{Message: err.Error()}
}

// items yields the resources in data, as nodes, within b.
func items(data []byte, b *budget) func() (*yaml.Node, error) {
	if looksJSON(data) {
		// JSON is read as JSON (YAML lacks its "\/" escape), one resource at a time. What does not
		// parse as JSON up to its first resource may still be YAML flow style ([{kind: user}]), so it
		// goes to the YAML parser instead, with the whole budget; a limit reached is final.
		saved := *b
		jnext := jsonItems(data, b)
		first, err := jnext()
		if err == nil || errors.Is(err, io.EOF) || errors.As(err, new(*limitError)) {
			started := false
			return func() (*yaml.Node, error) {
				if !started {
					started = true
					return first, err
				}
				if first == nil {
					return nil, io.EOF
				}
				return jnext()
			}
		}
		*b = saved
	}
	return yamlItems(data, b)
}

// looksJSON: input that starts like JSON is tried as JSON first.
func looksJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// yamlEstimate is how much larger than its budget of nodes the estimate of a YAML input may be
// (yamlNodeBound): the estimate counts every token of the text, comments, quoted and block scalars
// included, so ordinary YAML estimates at two to three times its nodes, and the largest inline
// policy (32 KB, one value) at 20,000 to 23,000. A YAML resource near MaxValues may thus be refused
// as too large where its JSON is not; none comes near.
const yamlEstimate = 2

// yamlItems yields the resources of a YAML stream: each document, or each item of a document that is
// a list; empty documents are skipped. yaml.v3 builds each document's whole tree (aliases
// unexpanded) before any of it can be counted, so the whole stream is bounded first.
func yamlItems(data []byte, b *budget) func() (*yaml.Node, error) {
	if bound, limit := yamlNodeBound(data), yamlEstimate*b.nodes; bound > limit {
		err := &limitError{&FieldError{Message: fmt.Sprintf("input too large: %d bytes of YAML hold up to %d keys, values and other tokens; at most %d are read at once", len(data), bound, limit)}}
		return func() (*yaml.Node, error) { return nil, err }
	}
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

// yamlNodeBound is an upper bound on the nodes yaml.v3 makes of data, found in one pass without
// parsing. Every node the parser makes is a token's (a scalar, an alias, a collection's start) or an
// empty node an indicator implies. So a run of plain characters counts one; ':' and '?' three (an
// implicit mapping with an empty key and an empty value); '-' two (a sequence and an empty entry);
// every other indicator one; each document two. Quoted and block scalars are counted as if their
// contents were YAML: the bound is loose there, never too low (FuzzYAMLNodeBound checks it against
// the parser). About one value per 2-3 bytes for ordinary YAML.
func yamlNodeBound(data []byte) int {
	n := 2 // the first document, and its empty node
	run := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			run = false
			continue
		case ':', '?':
			n += 3
		case '-':
			n += 2
		case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
			n++
		case '.':
			if (i == 0 || data[i-1] == '\n') && bytes.HasPrefix(data[i:], []byte("...")) {
				n += 2 // the end of a document: another may follow
			}
			if !run {
				n, run = n+1, true
			}
			continue
		case 0xC2, 0xE2, 0xEF:
			// Line breaks other than \n and \r (NEL, LS, PS) and the byte order mark separate tokens.
			if w := yamlSpecialSpace(data[i:]); w > 0 {
				run = false
				i += w - 1
				continue
			}
			fallthrough
		default:
			if !run {
				n, run = n+1, true
			}
			continue
		}
		run = false
	}
	return n
}

// yamlSpecialSpace is the length of the multi-byte line break or byte order mark data starts with, or 0.
func yamlSpecialSpace(data []byte) int {
	for _, s := range []string{"\u0085", "\u2028", "\u2029", "\ufeff"} {
		if bytes.HasPrefix(data, []byte(s)) {
			return len(s)
		}
	}
	return 0
}

// jsonReader builds nodes of JSON values within a budget, one resource at a time. Nodes keep key
// order and duplicate keys, so the same strict checks apply as for YAML.
type jsonReader struct {
	dec  *json.Decoder
	b    *budget
	left int        // nodes the current resource may still have
	path []pathPart // where the value being read is, for errors
	what string     // what is being read, for errors: "a resource"
}

// pathPart is a key, or an index when key is "" and index >= 0.
type pathPart struct {
	key   string
	index int
}

func (r *jsonReader) field() string {
	var sb strings.Builder
	for _, p := range r.path {
		if p.index >= 0 {
			fmt.Fprintf(&sb, "[%d]", p.index)
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(p.key)
	}
	return sb.String()
}

func (r *jsonReader) limit(format string, args ...any) error {
	return &limitError{&FieldError{Field: r.field(), Message: fmt.Sprintf(format, args...)}}
}

// charge counts one node read against the resource and the call.
func (r *jsonReader) charge() error {
	if r.left--; r.left < 0 {
		return r.limit("too large: %s has at most %d values", r.what, MaxValues)
	}
	if r.b.nodes--; r.b.nodes < 0 {
		return r.limit("input too large: more values than its size allows")
	}
	return nil
}

// jsonItems yields the resources of a JSON stream, streaming the items of top-level lists so that a
// file of a hundred thousand resources is never held as one tree.
func jsonItems(data []byte, b *budget) func() (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	r := &jsonReader{dec: dec, b: b, what: "a resource"}
	inList := false
	fail := func(err error) (*yaml.Node, error) {
		if errors.As(err, new(*limitError)) {
			return nil, err
		}
		return nil, fmt.Errorf("not valid JSON (at byte %d): %w", dec.InputOffset(), err)
	}
	return func() (*yaml.Node, error) {
		for {
			if inList {
				if dec.More() {
					r.left, r.path = MaxValues, r.path[:0]
					n, err := r.node(1)
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
			r.left, r.path = MaxValues, r.path[:0]
			n, err := r.value(tok, 1)
			if err != nil {
				return fail(eofInside(err))
			}
			return n, nil
		}
	}
}

// CheckJSON reports whether data, the JSON of one request body, nests at most MaxDepth deep and
// holds at most MaxValues values (keys included), reading it token by token without building
// anything. What encoding/json decodes into Go types it builds whole, however many values the body
// holds (300,000 empty resources in a megabyte had cost 160 MB): bodies are checked first. The error
// is a *FieldError naming the field where the limit was reached; a body that is not JSON is left to
// its decoder to explain.
func CheckJSON(data []byte) error {
	r := &jsonReader{dec: json.NewDecoder(bytes.NewReader(data)), b: &budget{nodes: MaxValues}, left: MaxValues, what: "a request body"}
	var le *limitError
	if err := r.scan(1); errors.As(err, &le) {
		return le.FieldError
	}
	return nil
}

// scan reads the next value, depth levels down, within the limits, building nothing.
func (r *jsonReader) scan(depth int) error {
	tok, err := r.dec.Token()
	if err != nil {
		return err
	}
	if err := r.charge(); err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth > MaxDepth {
		return r.limit("nested more than %d levels deep", MaxDepth)
	}
	r.path = append(r.path, pathPart{index: -1})
	for i := 0; r.dec.More(); i++ {
		at := &r.path[len(r.path)-1]
		if d == '{' {
			k, err := r.dec.Token()
			if err != nil {
				return err
			}
			at.key, _ = k.(string)
			if err := r.charge(); err != nil {
				return err
			}
		} else {
			at.index = i
		}
		if err := r.scan(depth + 1); err != nil {
			return err
		}
	}
	r.path = r.path[:len(r.path)-1]
	_, err = r.dec.Token()
	return err
}

func eofInside(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (r *jsonReader) node(depth int) (*yaml.Node, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	return r.value(tok, depth)
}

// value builds the node of the value that starts with tok, depth levels down in its resource.
func (r *jsonReader) value(tok json.Token, depth int) (*yaml.Node, error) {
	if err := r.charge(); err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth > MaxDepth {
			return nil, r.limit("nested more than %d levels deep", MaxDepth)
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if v == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		r.path = append(r.path, pathPart{index: -1})
		for i := 0; r.dec.More(); i++ {
			at := &r.path[len(r.path)-1]
			if n.Kind == yaml.MappingNode {
				k, err := r.dec.Token()
				if err != nil {
					return nil, eofInside(err)
				}
				key, _ := k.(string)
				at.key = key
				if err := r.charge(); err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key})
			} else {
				at.index = i
			}
			child, err := r.node(depth + 1)
			if err != nil {
				return nil, eofInside(err)
			}
			n.Content = append(n.Content, child)
		}
		r.path = r.path[:len(r.path)-1]
		if _, err := r.dec.Token(); err != nil { // the closing delimiter
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

func decodeObject(n *yaml.Node, b *budget) (*Object, error) {
	c := &converter{b: b, left: MaxValues}
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
		if v := c.convert("metadata", mn, reflect.TypeOf(Metadata{}), 2); v != nil {
			c.into("metadata", v, &o.Metadata)
		}
	}
	o.Spec = NewSpec(o.Kind)
	if sn := fields["spec"]; sn != nil {
		if v := c.convert("spec", sn, reflect.TypeOf(o.Spec).Elem(), 2); v != nil {
			c.into("spec", v, o.Spec)
		}
	}
	if stn := fields["status"]; stn != nil {
		// Status is warden's to write; it is accepted so that output can be applied again, then ignored.
		if v := c.convert("status", stn, anyType, 2); v != nil {
			o.Status, _ = json.Marshal(v)
		}
	}
	if len(c.errs) > 0 {
		return o, c.errs
	}
	return o, nil
}

type converter struct {
	errs Errors
	b    *budget
	left int  // values this resource may still convert
	over bool // a limit was reported
}

// charge counts one value converted against the resource and the call; the first one over a limit
// is reported on its field.
func (c *converter) charge(path string) bool {
	c.left--
	c.b.values--
	if c.left >= 0 && c.b.values >= 0 {
		return true
	}
	if !c.over {
		c.over = true
		c.add(path, "input too large or too deeply aliased")
	}
	return false
}

func (c *converter) add(field, format string, args ...any) {
	c.errs = addProblem(c.errs, field, format, args...)
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
	anyType         = reflect.TypeOf((*any)(nil)).Elem()
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

// convert turns n, depth levels down in its resource, into a JSON-ready value shaped for t, recording
// errors with their field path. It returns nil for JSON null (and after an error).
func (c *converter) convert(path string, n *yaml.Node, t reflect.Type, depth int) any {
	n = c.deref(n)
	if !c.charge(path) {
		return nil
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && depth > MaxDepth {
		// Aliases can nest deeper than the text does, and even contain themselves (&a [*a]).
		c.add(path, "nested more than %d levels deep", MaxDepth)
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
			if v := c.convert(join(path, k), n.Content[i+1], ft, depth+1); v != nil {
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
			if v := c.convert(join(path, k), n.Content[i+1], t.Elem(), depth+1); v != nil {
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
			out = append(out, c.convert(fmt.Sprintf("%s[%d]", path, i), item, t.Elem(), depth+1))
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
		return c.anything(path, n, depth)
	}
	c.add(path, "cannot decode into %s", t)
	return nil
}

// anything converts a value of any shape (a status), node by node so that every value, aliases
// expanded, is charged: yaml.v3's own decoding would expand aliases outside the budget.
func (c *converter) anything(path string, n *yaml.Node, depth int) any {
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn := c.deref(n.Content[i])
			if kn.Kind != yaml.ScalarNode {
				c.add(path, "a key must be a single value, found %s", kindName(kn))
				return nil
			}
			k := kn.Value
			if _, dup := out[k]; dup {
				c.add(join(path, k), "given twice")
				continue
			}
			out[k] = c.convert(join(path, k), n.Content[i+1], anyType, depth+1)
		}
		return out
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(fmt.Sprintf("%s[%d]", path, i), item, anyType, depth+1))
		}
		return out
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil { // one scalar: nothing to expand
			c.add(path, "%v", err)
			return nil
		}
		return jsonable(v)
	}
	c.add(path, "cannot decode %s", kindName(n))
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
