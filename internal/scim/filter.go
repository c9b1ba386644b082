package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Filters (RFC 7644 §3.4.2.2) and attribute paths (§3.5.2), parsed here and evaluated against a
// resource's JSON form. Every comparison operator is understood (eq, ne, co, sw, ew, gt, ge, lt,
// le, pr), joined with and, or, not and parentheses, and value paths (emails[type eq "work"]).
// Attribute names are matched without case, as SCIM says; values are compared without case except
// for the attributes SCIM makes case exact (id, externalId, members.value, meta.version).

// Bounds on a filter or a path: its length, and how deeply it nests.
const (
	MaxFilterLength = 4096
	maxDepth        = 32
	maxNodes        = 512
)

// AttrPath names an attribute: an optional schema URN, the attribute, an optional sub-attribute.
type AttrPath struct {
	URN  string // lower-cased; "" when none was given
	Name string
	Sub  string
}

func (p AttrPath) String() string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// Expr is a parsed filter.
type Expr interface{ expr() }

// Compare is `attr op value` (Value unused for pr): Value is a string, bool, float64 or nil.
type Compare struct {
	Attr  AttrPath
	Op    string
	Value any
}

// Logical is `left and right` or `left or right`.
type Logical struct {
	Op          string
	Left, Right Expr
}

// Not is `not (x)`.
type Not struct{ X Expr }

// ValuePath is `attr[filter]`: some value of the multi-valued attr matches filter.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*Compare) expr()   {}
func (*Logical) expr()   {}
func (*Not) expr()       {}
func (*ValuePath) expr() {}

// Path is a PATCH operation's path: an attribute, optionally a filter on its values and a
// sub-attribute of the values it selects (emails[type eq "work"].value).
type Path struct {
	Attr   AttrPath
	Filter Expr   // nil: no value filter
	Sub    string // after the filter
}

// ErrInvalidFilter is every parse error's: SCIM's scimType invalidFilter (or invalidPath).
var ErrInvalidFilter = errors.New("invalid filter")

type parser struct {
	s     string
	pos   int
	depth int
	nodes int
}

func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s (at character %d)", ErrInvalidFilter, fmt.Sprintf(format, args...), p.pos+1)
}

// ParseFilter parses a filter.
func ParseFilter(s string) (Expr, error) {
	if len(s) > MaxFilterLength {
		return nil, fmt.Errorf("%w: %d characters; at most %d", ErrInvalidFilter, len(s), MaxFilterLength)
	}
	p := &parser{s: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.fail("unexpected %q", p.rest())
	}
	return e, nil
}

// ParsePath parses a PATCH path.
func ParsePath(s string) (*Path, error) {
	if len(s) > MaxFilterLength {
		return nil, fmt.Errorf("%w: %d characters; at most %d", ErrInvalidFilter, len(s), MaxFilterLength)
	}
	p := &parser{s: strings.TrimSpace(s)}
	a, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	out := &Path{Attr: a}
	if p.peek() == '[' {
		if a.Sub != "" {
			return nil, p.fail("a value filter follows an attribute, not a sub-attribute")
		}
		p.pos++
		if out.Filter, err = p.or(); err != nil {
			return nil, err
		}
		p.space()
		if p.peek() != ']' {
			return nil, p.fail("expected ]")
		}
		p.pos++
		if p.peek() == '.' {
			p.pos++
			if out.Sub, err = p.name(); err != nil {
				return nil, err
			}
		}
	}
	if p.pos < len(p.s) {
		return nil, p.fail("unexpected %q", p.rest())
	}
	return out, nil
}

func (p *parser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) space() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// keyword reads a word (letters) ahead without consuming it.
func (p *parser) word() string {
	p.space()
	i := p.pos
	for i < len(p.s) && isAlpha(p.s[i]) {
		i++
	}
	return strings.ToLower(p.s[p.pos:i])
}

func (p *parser) enter() error {
	p.depth++
	p.nodes++
	if p.depth > maxDepth {
		return p.fail("nested more than %d deep", maxDepth)
	}
	if p.nodes > maxNodes {
		return p.fail("more than %d terms", maxNodes)
	}
	return nil
}

func (p *parser) or() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	return p.logical("or", p.and)
}

// boundary: the word of n letters at pos is followed by a space (an operator, not a name).
func (p *parser) boundary(n int) bool {
	return p.pos+n < len(p.s) && p.s[p.pos+n] == ' '
}

func (p *parser) and() (Expr, error) { return p.logical("and", p.unary) }

// logical reads operands joined by the operator op (left to right), each read by next.
func (p *parser) logical(op string, next func() (Expr, error)) (Expr, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		if p.word() != op || !p.boundary(len(op)) {
			p.pos = save
			return left, nil
		}
		p.pos += len(op)
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: op, Left: left, Right: right}
	}
}

func (p *parser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.space()
	save := p.pos
	if w := p.word(); w == "not" {
		p.pos += 3
		p.space()
		if p.peek() != '(' {
			p.pos = save // an attribute named "not..."
		} else {
			x, err := p.group()
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
	}
	if p.peek() == '(' {
		return p.group()
	}
	return p.attrExp()
}

func (p *parser) group() (Expr, error) {
	p.pos++ // (
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() != ')' {
		return nil, p.fail("expected )")
	}
	p.pos++
	return x, nil
}

func (p *parser) attrExp() (Expr, error) {
	p.space()
	a, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() == '[' {
		if a.Sub != "" {
			return nil, p.fail("a value filter follows an attribute, not a sub-attribute")
		}
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.peek() != ']' {
			return nil, p.fail("expected ]")
		}
		p.pos++
		return &ValuePath{Attr: a, Filter: f}, nil
	}
	if p.peek() != ' ' {
		if p.pos >= len(p.s) {
			return nil, p.fail("%s needs an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)", a)
		}
		return nil, p.fail("unexpected %q after %s", p.rest(), a)
	}
	op := p.word()
	switch op {
	case "pr":
		p.pos += 2
		return &Compare{Attr: a, Op: op}, nil
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
		p.pos += 2
	default:
		return nil, p.fail("%q is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)", op)
	}
	if p.peek() != ' ' {
		return nil, p.fail("expected a space and a value after %s", op)
	}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: a, Op: op, Value: v}, nil
}

func (p *parser) value() (any, error) {
	if p.peek() == '"' {
		start := p.pos
		p.pos++
		for p.pos < len(p.s) {
			switch p.s[p.pos] {
			case '\\':
				p.pos += 2
				continue
			case '"':
				p.pos++
				var s string
				if err := json.Unmarshal([]byte(p.s[start:p.pos]), &s); err != nil {
					p.pos = start
					return nil, p.fail("a malformed string")
				}
				return s, nil
			}
			p.pos++
		}
		p.pos = start
		return nil, p.fail("a string without its closing quote")
	}
	i := p.pos
	for i < len(p.s) && p.s[i] != ' ' && p.s[i] != ')' && p.s[i] != ']' {
		i++
	}
	tok := p.s[p.pos:i]
	switch strings.ToLower(tok) {
	case "true":
		p.pos = i
		return true, nil
	case "false":
		p.pos = i
		return false, nil
	case "null":
		p.pos = i
		return nil, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil && tok != "" && (tok[0] == '-' || (tok[0] >= '0' && tok[0] <= '9')) {
		p.pos = i
		return f, nil
	}
	return nil, p.fail("%q is not a value (a \"string\", a number, true, false or null)", tok)
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isNameChar(c byte) bool {
	return isAlpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_'
}

// name reads ATTRNAME: a letter (or $ref's $) then letters, digits, - and _.
func (p *parser) name() (string, error) {
	start := p.pos
	if p.peek() == '$' {
		p.pos++
	}
	if !isAlpha(p.peek()) {
		p.pos = start
		return "", p.fail("expected an attribute name")
	}
	for p.pos < len(p.s) && isNameChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos], nil
}

// attrPath reads [URN ":"] name ["." sub]. A URN is told by its "urn:" start; it runs to the last
// ':' before the name.
func (p *parser) attrPath() (AttrPath, error) {
	var a AttrPath
	if len(p.s)-p.pos > 4 && strings.EqualFold(p.s[p.pos:p.pos+4], "urn:") {
		end := p.pos
		for end < len(p.s) && p.s[end] != ' ' && p.s[end] != '[' && p.s[end] != '(' && p.s[end] != ')' && p.s[end] != ']' {
			end++
		}
		colon := strings.LastIndexByte(p.s[p.pos:end], ':')
		a.URN = strings.ToLower(p.s[p.pos : p.pos+colon])
		p.pos += colon + 1
		// The name after a URN whose last part has a dot (…:2.0:User:name.givenName): the dot
		// before the last colon belongs to the URN, the one after it to the path.
	}
	var err error
	if a.Name, err = p.name(); err != nil {
		return a, err
	}
	if p.peek() == '.' {
		p.pos++
		if a.Sub, err = p.name(); err != nil {
			return a, err
		}
	}
	return a, nil
}

// ---- evaluation ----

// caseExact are the attributes SCIM compares with case (lower-cased paths).
var caseExact = map[string]bool{"id": true, "externalid": true, "members.value": true, "meta.version": true, "groups.value": true}

// lookup finds a key of m without case.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// scope is the object an attribute path is read in: the resource, or the extension's object its
// URN names. The resource's own core schema URN reads the resource itself.
func scope(res map[string]any, a AttrPath) map[string]any {
	if a.URN == "" || strings.HasPrefix(a.URN, "urn:ietf:params:scim:schemas:core:") {
		return res
	}
	ext, _ := lookup(res, a.URN)
	m, _ := ext.(map[string]any)
	return m
}

// values are the values an attribute path reads: one for a single-valued attribute, each value's
// for a multi-valued one (its "value" sub-attribute when no sub-attribute is named).
func values(res map[string]any, a AttrPath) []any {
	m := scope(res, a)
	if m == nil {
		return nil
	}
	v, ok := lookup(m, a.Name)
	if !ok || v == nil {
		return nil
	}
	sub := func(x any) (any, bool) {
		if a.Sub == "" {
			return x, true
		}
		xm, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		return lookup(xm, a.Sub)
	}
	if arr, ok := v.([]any); ok {
		var out []any
		for _, el := range arr {
			if a.Sub == "" {
				if em, ok := el.(map[string]any); ok {
					el, _ = lookup(em, "value")
				}
				out = append(out, el)
				continue
			}
			if x, ok := sub(el); ok {
				out = append(out, x)
			}
		}
		return out
	}
	if x, ok := sub(v); ok {
		return []any{x}
	}
	return nil
}

// Match evaluates a filter against a resource's JSON form.
func Match(e Expr, res map[string]any) bool {
	switch e := e.(type) {
	case *Logical:
		if e.Op == "and" {
			return Match(e.Left, res) && Match(e.Right, res)
		}
		return Match(e.Left, res) || Match(e.Right, res)
	case *Not:
		return !Match(e.X, res)
	case *ValuePath:
		m := scope(res, e.Attr)
		if m == nil {
			return false
		}
		v, _ := lookup(m, e.Attr.Name)
		arr, ok := v.([]any)
		if !ok && v != nil {
			arr = []any{v}
		}
		for _, el := range arr {
			if em, ok := el.(map[string]any); ok && Match(e.Filter, em) {
				return true
			}
		}
		return false
	case *Compare:
		vals := values(res, e.Attr)
		if e.Op == "pr" {
			for _, v := range vals {
				if present(v) {
					return true
				}
			}
			return false
		}
		exact := caseExact[strings.ToLower(e.Attr.Name+optDot(e.Attr.Sub))]
		if e.Op == "ne" {
			for _, v := range vals {
				if compare(v, "eq", e.Value, exact) {
					return false
				}
			}
			return true
		}
		for _, v := range vals {
			if compare(v, e.Op, e.Value, exact) {
				return true
			}
		}
	}
	return false
}

func optDot(s string) string {
	if s == "" {
		return ""
	}
	return "." + s
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// compare judges one attribute value against a filter's value.
func compare(have any, op string, want any, exact bool) bool {
	switch h := have.(type) {
	case bool:
		w, ok := want.(bool)
		if s, isStr := want.(string); isStr { // "True", as Entra writes booleans
			w, ok = strings.EqualFold(s, "true"), strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
		}
		return ok && op == "eq" && h == w
	case float64:
		w, ok := want.(float64)
		if !ok {
			return false
		}
		switch op {
		case "eq":
			return h == w
		case "gt":
			return h > w
		case "ge":
			return h >= w
		case "lt":
			return h < w
		case "le":
			return h <= w
		}
		return false
	case string:
		w, ok := want.(string)
		if !ok {
			if b, isBool := want.(bool); isBool { // a boolean kept as a string
				return op == "eq" && strings.EqualFold(h, strconv.FormatBool(b))
			}
			return false
		}
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return h == w
		case "co":
			return strings.Contains(h, w)
		case "sw":
			return strings.HasPrefix(h, w)
		case "ew":
			return strings.HasSuffix(h, w)
		case "gt":
			return h > w
		case "ge":
			return h >= w
		case "lt":
			return h < w
		case "le":
			return h <= w
		}
	case nil:
		return false
	}
	return false
}
