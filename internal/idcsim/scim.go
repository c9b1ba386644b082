package idcsim

// SCIM v2 endpoint (RFC 7643/7644 as IAM Identity Center implements it), served under /scim/v2/.
// It reads and writes the same identity store as the identitystore API: a user or group made here is
// visible through ListUsers, DescribeUser, ListGroupMemberships, ... and the other way round.
//
// Choices, where AWS documents the behaviour (docs.aws.amazon.com/singlesignon/latest/developerguide/)
// or where it does not:
//
//   - Authentication: "Authorization: Bearer <token>" with Sim.SCIMToken() or a second token made
//     by CreateSCIMToken (at most two exist, each lasting a year, as in Identity Center; the first
//     never expires unless replaced), compared in constant time; anything else is 401 (with WWW-Authenticate: Bearer). Unauthenticated requests are
//     refused before they are counted or rate-limited. Authenticated ones are counted in
//     Stats.Calls as "scim:<METHOD> /Users", "scim:<METHOD> /Users/{id}", "scim:GET /Groups", ... and
//     share the collective token bucket with the JSON APIs; a throttle is 429 with Retry-After: 1.
//     Injected propagation conflicts apply with the identitystore keys and answer 409.
//   - The base path is /scim/v2/ (AWS's is /{tenant}/scim/v2/). Responses are application/scim+json
//     (application/json when the request's Accept asks for it and not for scim+json); requests may be
//     application/scim+json, application/json or carry no Content-Type.
//   - Errors are SCIM errors: {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
//     "status":"400","scimType":"invalidValue","detail":"..."}. Unsupported operations are 400, as
//     AWS answers them with ValidationException: PUT on a group, /Bulk, /Me, /Search. Unknown paths
//     are 404.
//   - externalId is stored as an ExternalIds entry of the user or group whose Issuer is
//     "https://scim.{region}.amazonaws.com/{identity store id}" (the identity store id standing for
//     AWS's SCIM tenant id). Entries from other issuers are kept and not shown over SCIM. externalId
//     is unique per resource type, as the identity store requires (409 uniqueness).
//   - Lists (GET /Users, GET /Groups) follow AWS: count is 1-100 (default 100; outside: 400);
//     startIndex other than 1 is 400. Without a cursor parameter the answer is the first page in the
//     classic form {totalResults (all matches), itemsPerPage, startIndex: 1, Resources}. With a cursor
//     parameter (empty for the first page: "?count=100&cursor") the answer is cursor-paginated:
//     {itemsPerPage, Resources, nextCursor} without totalResults and startIndex, and nextCursor is
//     present while more pages exist; pass it back as cursor. A cursor is bound to its resource type
//     and filter; a foreign or broken one is 400. Resources are ordered by id.
//   - Filters: eq only, joined with and (case-insensitive keywords; values quoted strings). Users:
//     userName (case-insensitive), externalId, id, groups.value (members of a group). Groups:
//     displayName (case-insensitive), externalId, id, members / members.value (groups of a user), so
//     `id eq "g" and members eq "u"` is the group when u is a member and an empty list otherwise.
//     Anything else (ne, co, sw, pr, or, not, parentheses, other attributes) is 400 invalidFilter.
//   - Users: POST requires userName, displayName, name.givenName and name.familyName (400 names the
//     missing ones); emails, addresses and phoneNumbers take one value at most, and an email must be
//     marked primary; groups cannot be given (400). Unsupported attributes (password, ims, photos,
//     x509Certificates, entitlements, roles) and the enterprise extension are accepted and not
//     stored. active maps to UserStatus ENABLED / DISABLED (default active). POST answers 201, GET,
//     PUT and PATCH 200 with the user, DELETE 204 (and removes the user's memberships). PUT replaces
//     every SCIM attribute (an absent active means active). PATCH: add, replace, remove on userName,
//     active, externalId, displayName, nickName, profileUrl, title, userType, preferredLanguage,
//     locale, timezone, name[.sub], emails / addresses / phoneNumbers (also with a value filter such
//     as emails[type eq "work"].value), enterprise extension paths (accepted, not stored), or without
//     a path with an object of attributes; remove needs a path and cannot remove userName or active;
//     more than one operation on userName or on active is 400. Values of active may be booleans or
//     "true"/"false" strings (Entra ID sends strings).
//   - Groups: POST requires displayName (unique, case-insensitive: 409 uniqueness), takes externalId
//     and at most 100 members (existing users). GET of a group and group lists show "members": []
//     as AWS does; use `members eq` or the users' groups.value filter to read memberships. PATCH
//     answers 204 and may touch displayName, externalId and members only (400 invalidPath
//     otherwise): add members with value [{"value": userId}, ...]; remove them with path
//     members[value eq "userId"] or with path members and such a value list. Replacing or removing
//     all members is 400, as AWS. At most 100 member values per PATCH request (more: 400 tooMany).
//     A member must be an existing user: a group id is 400 (no nested groups), an unknown id 400.
//     Adding a member already present or removing one absent changes nothing. DELETE answers 204 and
//     removes the group's memberships.
//   - A PATCH request holds at most 1000 operations (more: 400 tooMany; AWS documents no limit), and
//     an operation gives a multi-valued user attribute at most 100 values (more: 400 invalidValue;
//     Identity Center keeps one).
//   - GET /ServiceProviderConfig, /Schemas[/{id}] and /ResourceTypes[/{id}] answer fixed documents.

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	scimUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimListSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimSPCSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimRTSchema         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	scimSchemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"

	scimMaxPage          = 100
	scimMaxMemberChanges = 100
	scimMaxPatchOps      = 1000
)

// scimError is a SCIM error answer (RFC 7644 section 3.12).
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string {
	return fmt.Sprintf("SCIM %d %s: %s", e.status, e.scimType, e.detail)
}

func scimErr(status int, scimType, format string, args ...any) *scimError {
	return &scimError{status: status, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

func scimInvalid(format string, args ...any) *scimError {
	return scimErr(http.StatusBadRequest, "invalidValue", format, args...)
}

func scimInvalidPath(format string, args ...any) *scimError {
	return scimErr(http.StatusBadRequest, "invalidPath", format, args...)
}

func scimInvalidFilter(format string, args ...any) *scimError {
	return scimErr(http.StatusBadRequest, "invalidFilter", format, args...)
}

// toSCIMError turns the directory's AWS errors into SCIM ones.
func toSCIMError(err error) *scimError {
	switch e := err.(type) {
	case *scimError:
		return e
	case *apiError:
		switch e.code {
		case "ValidationException":
			return scimInvalid("%s", e.message)
		case "SerializationException":
			return scimErr(http.StatusBadRequest, "invalidSyntax", "%s", e.message)
		case "ResourceNotFoundException":
			return scimErr(http.StatusNotFound, "", "%s", e.message)
		case "ConflictException":
			t := ""
			if e.extra["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION" {
				t = "uniqueness"
			}
			return scimErr(http.StatusConflict, t, "%s", e.message)
		case "ThrottlingException", "TooManyRequestsException":
			return scimErr(http.StatusTooManyRequests, "", "%s", e.message)
		case "AccessDeniedException":
			return scimErr(http.StatusForbidden, "", "%s", e.message)
		}
		if e.status < 500 {
			return scimErr(http.StatusBadRequest, "", "%s", e.message)
		}
		return scimErr(http.StatusInternalServerError, "", "%s", e.message)
	}
	return scimErr(http.StatusInternalServerError, "", "%s", err.Error())
}

// scimRequest is one SCIM call, parsed.
type scimRequest struct {
	method   string
	resource string // Users, Groups, ...
	id       string
	query    url.Values
	body     []byte
}

type scimHandler func(s *Sim, req *scimRequest) (status int, out any, err error)

func (s *Sim) serveSCIM(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/scim/v2"), "/")
	parts := strings.Split(rest, "/")
	req := &scimRequest{method: r.Method, resource: parts[0], query: r.URL.Query()}
	if len(parts) > 1 {
		req.id = parts[1]
	}
	if !s.scimAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		writeSCIMError(w, r, scimErr(http.StatusUnauthorized, "", "The Authorization header is missing or invalid: a valid bearer token is required"))
		return
	}
	opName := r.Method + " /" + req.resource
	switch req.resource {
	case "Users", "Groups", "ServiceProviderConfig", "Schemas", "ResourceTypes", "Bulk", "Me", "Search", ".search":
		if req.id != "" {
			opName += "/{id}"
		}
	default:
		opName = r.Method + " (unknown path)"
	}
	if err := s.admit(svcSCIM, opName); err != nil {
		w.Header().Set("Retry-After", "1")
		writeSCIMError(w, r, toSCIMError(err))
		return
	}
	h, err := scimRoute(req, len(parts))
	if err == nil && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		req.body, err = readSCIMBody(r)
	}
	if err != nil {
		writeSCIMError(w, r, toSCIMError(err))
		return
	}
	status, body, err := func() (int, []byte, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.settle()
		status, out, err := h(s, req)
		if err != nil || out == nil {
			return status, nil, err
		}
		b, err := json.Marshal(out)
		return status, b, err
	}()
	if err != nil {
		writeSCIMError(w, r, toSCIMError(err))
		return
	}
	w.Header().Set("X-Amzn-Requestid", newUUID())
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", scimContentType(r))
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

// scimRoute picks the handler for a request.
func scimRoute(req *scimRequest, nparts int) (scimHandler, error) {
	unsupported := func() (scimHandler, error) {
		return nil, scimInvalid("%s %s is not supported by IAM Identity Center's SCIM implementation", req.method, "/"+req.resource+map[bool]string{true: "/{id}"}[req.id != ""])
	}
	if nparts > 2 {
		return nil, scimErr(http.StatusNotFound, "", "No SCIM resource at this path")
	}
	switch req.resource {
	case "Users":
		switch {
		case req.id == "" && req.method == http.MethodGet:
			return (*Sim).scimListUsers, nil
		case req.id == "" && req.method == http.MethodPost:
			return (*Sim).scimCreateUser, nil
		case req.id != "" && req.method == http.MethodGet:
			return (*Sim).scimGetUser, nil
		case req.id != "" && req.method == http.MethodPut:
			return (*Sim).scimPutUser, nil
		case req.id != "" && req.method == http.MethodPatch:
			return (*Sim).scimPatchUser, nil
		case req.id != "" && req.method == http.MethodDelete:
			return (*Sim).scimDeleteUser, nil
		}
		return unsupported()
	case "Groups":
		switch {
		case req.id == "" && req.method == http.MethodGet:
			return (*Sim).scimListGroups, nil
		case req.id == "" && req.method == http.MethodPost:
			return (*Sim).scimCreateGroup, nil
		case req.id != "" && req.method == http.MethodGet:
			return (*Sim).scimGetGroup, nil
		case req.id != "" && req.method == http.MethodPatch:
			return (*Sim).scimPatchGroup, nil
		case req.id != "" && req.method == http.MethodDelete:
			return (*Sim).scimDeleteGroup, nil
		}
		return unsupported()
	case "ServiceProviderConfig":
		if req.method == http.MethodGet && req.id == "" {
			return func(s *Sim, _ *scimRequest) (int, any, error) { return http.StatusOK, scimServiceProviderConfig(), nil }, nil
		}
		return unsupported()
	case "Schemas":
		if req.method == http.MethodGet {
			return (*Sim).scimSchemas, nil
		}
		return unsupported()
	case "ResourceTypes":
		if req.method == http.MethodGet {
			return (*Sim).scimResourceTypes, nil
		}
		return unsupported()
	case "Bulk", "Me", "Search", ".search":
		return unsupported()
	}
	return nil, scimErr(http.StatusNotFound, "", "No SCIM resource at this path")
}

func (s *Sim) scimAuthorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	s.mu.Lock()
	defer s.mu.Unlock() // deferred: the clock may panic (a simulator bug), and the lock must go
	now := s.now()
	for _, t := range []struct {
		text    string
		expires time.Time
	}{{s.st.SCIMToken, s.st.SCIMTokenExpires}, {s.st.SCIMToken2, s.st.SCIMToken2Expires}} {
		if t.text != "" && (t.expires.IsZero() || now.Before(t.expires)) && subtle.ConstantTimeCompare([]byte(token), []byte(t.text)) == 1 {
			return true
		}
	}
	return false
}

// CreateSCIMToken makes a new SCIM bearer token lasting a year, as the console's "Generate token"
// does; Identity Center keeps at most two, so with two it fails (delete one first).
func (s *Sim) CreateSCIMToken() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := base64.RawURLEncoding.EncodeToString([]byte(s.st.hex(32)))
	exp := s.now().Add(365 * 24 * time.Hour)
	switch {
	case s.st.SCIMToken == "":
		s.st.SCIMToken, s.st.SCIMTokenExpires = tok, exp
	case s.st.SCIMToken2 == "":
		s.st.SCIMToken2, s.st.SCIMToken2Expires = tok, exp
	default:
		return "", fmt.Errorf("two SCIM tokens exist already: delete one first")
	}
	return tok, nil
}

// DeleteSCIMToken deletes a SCIM bearer token: it is refused from then on.
func (s *Sim) DeleteSCIMToken(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch token {
	case s.st.SCIMToken:
		s.st.SCIMToken, s.st.SCIMTokenExpires = s.st.SCIMToken2, s.st.SCIMToken2Expires
		s.st.SCIMToken2, s.st.SCIMToken2Expires = "", time.Time{}
	case s.st.SCIMToken2:
		s.st.SCIMToken2, s.st.SCIMToken2Expires = "", time.Time{}
	default:
		return fmt.Errorf("no such SCIM token")
	}
	return nil
}

func readSCIMBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return nil, scimErr(http.StatusBadRequest, "invalidSyntax", "Content-Type %q is not supported: use application/scim+json or application/json", ct)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, scimErr(http.StatusBadRequest, "invalidSyntax", "could not read the request body: %v", err)
	}
	return b, nil
}

// scimContentType answers in application/scim+json unless the client asks for application/json only.
func scimContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "application/json") && !strings.Contains(accept, "application/scim+json") {
		return "application/json"
	}
	return "application/scim+json"
}

func writeSCIMError(w http.ResponseWriter, r *http.Request, e *scimError) {
	body := struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail"`
	}{[]string{scimErrorSchema}, strconv.Itoa(e.status), e.scimType, e.detail}
	w.Header().Set("Content-Type", scimContentType(r))
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(body)
}

// decodeSCIMObject reads a JSON object; its keys keep their case (SCIM names are matched
// case-insensitively by the callers).
func decodeSCIMObject(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		msg := "the request body must be a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, scimErr(http.StatusBadRequest, "invalidSyntax", "%s", msg)
	}
	return m, nil
}

// scimSortedKeys returns an object's keys in a stable order.
func scimSortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func scimIsNull(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}

func scimString(raw json.RawMessage, attr string) (string, error) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", scimInvalid("The value of %s must be a string", attr)
	}
	return v, nil
}

// scimBool reads a boolean, also as the strings "true" and "false" (as Entra ID sends them).
func scimBool(raw json.RawMessage, attr string) (bool, error) {
	var v any
	json.Unmarshal(raw, &v)
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if p, err := strconv.ParseBool(strings.ToLower(b)); err == nil {
			return p, nil
		}
	}
	return false, scimInvalid("The value of %s must be a boolean", attr)
}

func scimTime(f float64) string {
	if f == 0 {
		return ""
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(time.RFC3339)
}

// scimIssuer is the ExternalIds issuer under which SCIM's externalId is stored.
func (s *Sim) scimIssuer() string {
	return "https://scim." + s.opts.Region + ".amazonaws.com/" + s.st.Instance.IdentityStoreId
}

func (s *Sim) scimExternalID(ids []externalID) string {
	iss := s.scimIssuer()
	for _, e := range ids {
		if e.Issuer == iss {
			return e.Id
		}
	}
	return ""
}

// withSCIMExternalID returns ids with the SCIM issuer's entry set to ext (removed when ext is "").
func (s *Sim) withSCIMExternalID(ids []externalID, ext string) []externalID {
	iss := s.scimIssuer()
	var out []externalID
	for _, e := range ids {
		if e.Issuer != iss {
			out = append(out, e)
		}
	}
	if ext != "" {
		out = append(out, externalID{Issuer: iss, Id: ext})
	}
	return out
}

// ---- filters and paths ----

// scimCond is one `attribute eq value` comparison.
type scimCond struct {
	attr  string // lower-cased, without the core schema URN
	value string
	str   bool // the value was a quoted string
}

type scimToken struct {
	text   string
	quoted bool
}

func scimTokens(f string) ([]scimToken, error) {
	var toks []scimToken
	for i := 0; i < len(f); {
		switch c := f[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			return nil, scimInvalidFilter("Filter %q is not supported: only `attribute eq \"value\"` expressions joined with and are", f)
		case c == '"':
			j := i + 1
			for ; j < len(f) && f[j] != '"'; j++ {
				if f[j] == '\\' {
					j++
				}
			}
			if j >= len(f) {
				return nil, scimInvalidFilter("Filter %q has an unterminated string", f)
			}
			var v string
			if err := json.Unmarshal([]byte(f[i:j+1]), &v); err != nil {
				return nil, scimInvalidFilter("Filter %q has an invalid string: %v", f, err)
			}
			toks = append(toks, scimToken{v, true})
			i = j + 1
		default:
			j := i
			for j < len(f) && !strings.ContainsRune(" \t\n\r\"()[]", rune(f[j])) {
				j++
			}
			toks = append(toks, scimToken{f[i:j], false})
			i = j
		}
	}
	return toks, nil
}

// parseSCIMFilter reads `attr eq "value" [and attr eq "value"]...`, the only form AWS supports.
func parseSCIMFilter(f string) ([]scimCond, error) {
	toks, err := scimTokens(f)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, scimInvalidFilter("The filter is empty")
	}
	var out []scimCond
	for i := 0; ; {
		if i+1 >= len(toks) || toks[i].quoted {
			return nil, scimInvalidFilter("Filter %q is not valid: expected `attribute eq \"value\"`", f)
		}
		if op := toks[i+1]; op.quoted || !strings.EqualFold(op.text, "eq") {
			return nil, scimInvalidFilter("Filter %q is not supported: the only operator is eq (found %q)", f, op.text)
		}
		if i+2 >= len(toks) {
			return nil, scimInvalidFilter("Filter %q is not valid: eq needs a value", f)
		}
		v := toks[i+2]
		if !v.quoted && strings.EqualFold(v.text, "and") {
			return nil, scimInvalidFilter("Filter %q is not valid: eq needs a value", f)
		}
		out = append(out, scimCond{attr: normalizeSCIMAttr(toks[i].text), value: v.text, str: v.quoted})
		i += 3
		if i == len(toks) {
			return out, nil
		}
		if toks[i].quoted || !strings.EqualFold(toks[i].text, "and") {
			return nil, scimInvalidFilter("Filter %q is not supported: expressions can only be joined with and (found %q)", f, toks[i].text)
		}
		i++
	}
}

// normalizeSCIMAttr lower-cases an attribute path and drops a core schema URN prefix.
func normalizeSCIMAttr(a string) string {
	l := strings.ToLower(a)
	for _, urn := range []string{scimUserSchema, scimGroupSchema} {
		if p := strings.ToLower(urn) + ":"; strings.HasPrefix(l, p) {
			return l[len(p):]
		}
	}
	return l
}

// scimPath is a PATCH path: attr[filter].sub
type scimPath struct {
	attr   string
	filter []scimCond
	sub    string
}

func parseSCIMPath(p string) (scimPath, error) {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(strings.ToLower(p), strings.ToLower(scimEnterpriseSchema)) {
		return scimPath{attr: "enterprise"}, nil
	}
	var out scimPath
	if open := strings.IndexByte(p, '['); open >= 0 {
		close, inQuote := -1, false
		for i := open + 1; i < len(p); i++ {
			switch {
			case p[i] == '\\' && inQuote:
				i++
			case p[i] == '"':
				inQuote = !inQuote
			case p[i] == ']' && !inQuote:
				close = i
			}
			if close >= 0 {
				break
			}
		}
		if close < 0 {
			return out, scimInvalidPath("Path %q is not valid: unterminated [", p)
		}
		f, err := parseSCIMFilter(p[open+1 : close])
		if err != nil {
			return out, scimInvalidPath("Path %q is not valid: %s", p, err.(*scimError).detail)
		}
		out.attr, out.filter = normalizeSCIMAttr(p[:open]), f
		switch rest := p[close+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ".") && len(rest) > 1:
			out.sub = strings.ToLower(rest[1:])
		default:
			return out, scimInvalidPath("Path %q is not valid", p)
		}
		return out, nil
	}
	l := normalizeSCIMAttr(p)
	out.attr, out.sub, _ = strings.Cut(l, ".")
	if out.attr == "" {
		return out, scimInvalidPath("Path %q is not valid", p)
	}
	return out, nil
}

// ---- users ----

var scimUserStrings = map[string]func(*user) *string{
	"username":          func(u *user) *string { return &u.UserName },
	"displayname":       func(u *user) *string { return &u.DisplayName },
	"nickname":          func(u *user) *string { return &u.NickName },
	"profileurl":        func(u *user) *string { return &u.ProfileUrl },
	"title":             func(u *user) *string { return &u.Title },
	"usertype":          func(u *user) *string { return &u.UserType },
	"preferredlanguage": func(u *user) *string { return &u.PreferredLanguage },
	"locale":            func(u *user) *string { return &u.Locale },
	"timezone":          func(u *user) *string { return &u.Timezone },
}

var scimNameParts = map[string]func(*name) *string{
	"formatted":       func(n *name) *string { return &n.Formatted },
	"familyname":      func(n *name) *string { return &n.FamilyName },
	"givenname":       func(n *name) *string { return &n.GivenName },
	"middlename":      func(n *name) *string { return &n.MiddleName },
	"honorificprefix": func(n *name) *string { return &n.HonorificPrefix },
	"honorificsuffix": func(n *name) *string { return &n.HonorificSuffix },
}

// scimMultiValued: the multi-valued user attributes (one value at most with AWS), their SCIM names
// and sub-attributes (lower-cased -> SCIM spelling; the identity store's is the same, capitalised).
var scimMultiValued = map[string]struct {
	name string
	subs map[string]string
}{
	"emails":       {"emails", map[string]string{"value": "value", "type": "type", "primary": "primary"}},
	"phonenumbers": {"phoneNumbers", map[string]string{"value": "value", "type": "type", "primary": "primary"}},
	"addresses": {"addresses", map[string]string{"formatted": "formatted", "streetaddress": "streetAddress", "locality": "locality",
		"region": "region", "postalcode": "postalCode", "country": "country", "type": "type", "primary": "primary"}},
}

// scimUserDraft is a user being built or changed over SCIM.
type scimUserDraft struct {
	u       user
	ext     string
	mv      map[string][]map[string]any // lower-cased attribute -> values with SCIM sub-attribute names
	touched map[string]bool             // multi-valued attributes the request set
}

func (s *Sim) newSCIMUserDraft(u *user) *scimUserDraft {
	d := &scimUserDraft{u: *u, mv: map[string][]map[string]any{}}
	if u.Name != nil {
		n := *u.Name
		d.u.Name = &n
	}
	d.u.ExternalIds = append([]externalID(nil), u.ExternalIds...)
	d.ext = s.scimExternalID(u.ExternalIds)
	for _, e := range u.Emails {
		m := map[string]any{"value": e.Value, "primary": e.Primary}
		if e.Type != "" {
			m["type"] = e.Type
		}
		d.mv["emails"] = append(d.mv["emails"], m)
	}
	for i := range u.PhoneNumbers {
		d.mv["phonenumbers"] = append(d.mv["phonenumbers"], contactToSCIM(&u.PhoneNumbers[i]))
	}
	for i := range u.Addresses {
		d.mv["addresses"] = append(d.mv["addresses"], contactToSCIM(&u.Addresses[i]))
	}
	return d
}

// contactToSCIM is a stored phone number or address as a SCIM value: the members given, and primary.
func contactToSCIM(c contact) map[string]any {
	m := map[string]any{"primary": *c.primary()}
	for k, v := range c.members() {
		if *v != nil {
			m[k] = **v
		}
	}
	return m
}

// contactFromSCIM sets c from a SCIM value. An empty string is taken as not given: the identity
// store keeps none (its members are 1 to 1024 characters).
func contactFromSCIM(c contact, m map[string]any) {
	for k, f := range c.members() {
		if v, _ := m[k].(string); v != "" {
			*f = &v
		}
	}
	*c.primary(), _ = m["primary"].(bool)
}

// apply applies one operation (add, replace or remove) at a path.
func (d *scimUserDraft) apply(op string, p scimPath, raw json.RawMessage) error {
	remove := op == "remove"
	clear := remove || scimIsNull(raw)
	simple := func() error {
		if p.filter != nil || p.sub != "" {
			return scimInvalidPath("%s has no sub-attributes or value filters", p.attr)
		}
		return nil
	}
	switch {
	case p.attr == "enterprise":
		return nil // accepted, not stored
	case p.attr == "externalid":
		if err := simple(); err != nil {
			return err
		}
		if clear {
			d.ext = ""
			return nil
		}
		v, err := scimString(raw, "externalId")
		d.ext = v
		return err
	case p.attr == "active":
		if err := simple(); err != nil {
			return err
		}
		if remove {
			return scimInvalid("active cannot be removed")
		}
		b, err := scimBool(raw, "active")
		if err != nil {
			return err
		}
		d.u.UserStatus = map[bool]string{true: "ENABLED", false: "DISABLED"}[b]
		return nil
	case scimUserStrings[p.attr] != nil:
		if err := simple(); err != nil {
			return err
		}
		if p.attr == "username" && remove {
			return scimInvalid("userName cannot be removed")
		}
		field := scimUserStrings[p.attr](&d.u)
		if clear {
			*field = ""
			return nil
		}
		v, err := scimString(raw, p.attr)
		*field = v
		return err
	case p.attr == "name":
		if p.filter != nil {
			return scimInvalidPath("name has no value filters")
		}
		if p.sub != "" {
			part := scimNameParts[p.sub]
			if part == nil {
				return scimInvalidPath("name.%s is not a name sub-attribute", p.sub)
			}
			if d.u.Name == nil {
				d.u.Name = &name{}
			}
			if clear {
				*part(d.u.Name) = ""
				return nil
			}
			v, err := scimString(raw, "name."+p.sub)
			*part(d.u.Name) = v
			return err
		}
		if clear {
			d.u.Name = nil
			return nil
		}
		obj, err := decodeSCIMObject(raw)
		if err != nil {
			return scimInvalid("The value of name must be an object")
		}
		if d.u.Name == nil {
			d.u.Name = &name{}
		}
		for _, k := range scimSortedKeys(obj) {
			part := scimNameParts[strings.ToLower(k)]
			if part == nil {
				continue
			}
			v := ""
			if !scimIsNull(obj[k]) {
				if v, err = scimString(obj[k], "name."+k); err != nil {
					return err
				}
			}
			*part(d.u.Name) = v
		}
		return nil
	case scimMultiValued[p.attr].name != "":
		if d.touched == nil {
			d.touched = map[string]bool{}
		}
		d.touched[p.attr] = true
		return d.applyMultiValued(op, p, raw)
	}
	return scimInvalidPath("Attribute %q cannot be set on a user", p.attr)
}

// scimMultiValue reads one value of a multi-valued attribute: an object of sub-attributes.
// scimMaxValues bounds the values one operation gives a multi-valued attribute. A choice: Identity
// Center keeps one email, address and phone number per user, and reading a request of a million
// values costs hundreds of megabytes.
const scimMaxValues = 100

// scimValues reads the values of a multi-valued attribute: a list of at most scimMaxValues, or one
// value on its own.
func scimValues(name string, raw json.RawMessage) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return []json.RawMessage{raw}, nil // a single object
	}
	var items []json.RawMessage
	for dec.More() {
		if len(items) == scimMaxValues {
			return nil, scimInvalid("%s has more than %d values", name, scimMaxValues)
		}
		var it json.RawMessage
		if err := dec.Decode(&it); err != nil {
			return nil, scimInvalid("A value of %s must be an object", name)
		}
		items = append(items, it)
	}
	return items, nil
}

func scimMultiValue(attr string, raw json.RawMessage) (map[string]any, error) {
	spec := scimMultiValued[attr]
	obj, err := decodeSCIMObject(raw)
	if err != nil {
		return nil, scimInvalid("A value of %s must be an object", spec.name)
	}
	m := map[string]any{}
	for _, k := range scimSortedKeys(obj) {
		sub := spec.subs[strings.ToLower(k)]
		if sub == "" || scimIsNull(obj[k]) {
			continue // display and unknown sub-attributes are not supported: ignored
		}
		if err := scimSetMultiSub(m, spec.name, sub, obj[k]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func scimSetMultiSub(m map[string]any, attr, sub string, raw json.RawMessage) error {
	if sub == "primary" {
		b, err := scimBool(raw, attr+".primary")
		m[sub] = b
		return err
	}
	v, err := scimString(raw, attr+"."+sub)
	m[sub] = v
	return err
}

func scimMatchesMulti(m map[string]any, subs map[string]string, filter []scimCond) bool {
	for _, c := range filter {
		v, ok := m[subs[c.attr]]
		if !ok || !strings.EqualFold(fmt.Sprint(v), c.value) {
			return false
		}
	}
	return true
}

func (d *scimUserDraft) applyMultiValued(op string, p scimPath, raw json.RawMessage) error {
	spec := scimMultiValued[p.attr]
	list := d.mv[p.attr]
	if p.sub != "" && spec.subs[p.sub] == "" {
		return scimInvalidPath("%s.%s is not a sub-attribute of %s", spec.name, p.sub, spec.name)
	}
	for _, c := range p.filter {
		if spec.subs[c.attr] == "" {
			return scimInvalidPath("%s cannot be filtered on %q", spec.name, c.attr)
		}
	}
	if p.filter == nil && p.sub == "" {
		var values []map[string]any
		if !scimIsNull(raw) {
			items, err := scimValues(spec.name, raw)
			if err != nil {
				return err
			}
			for _, it := range items {
				m, err := scimMultiValue(p.attr, it)
				if err != nil {
					return err
				}
				values = append(values, m)
			}
		}
		switch {
		case op == "replace":
			list = values
		case op == "add": // a value already there is replaced (the first one with it), others appended
			at := map[string]int{}
			for i, m := range list {
				if k := fmt.Sprint(m["value"]); at[k] == 0 {
					at[k] = i + 1
				}
			}
			for _, v := range values {
				k := fmt.Sprint(v["value"])
				if i := at[k]; i > 0 && v["value"] != nil {
					list[i-1] = v
					continue
				}
				list = append(list, v)
				if at[k] == 0 {
					at[k] = len(list)
				}
			}
		case values == nil: // remove everything
			list = nil
		default: // remove the given values
			drop := map[string]bool{}
			for _, v := range values {
				if v["value"] != nil {
					drop[fmt.Sprint(v["value"])] = true
				}
			}
			var kept []map[string]any
			for _, m := range list {
				if !drop[fmt.Sprint(m["value"])] {
					kept = append(kept, m)
				}
			}
			list = kept
		}
		d.mv[p.attr] = list
		return nil
	}
	var matches []int
	for i, m := range list {
		if scimMatchesMulti(m, spec.subs, p.filter) {
			matches = append(matches, i)
		}
	}
	if op == "remove" {
		var kept []map[string]any
		for i, m := range list {
			if len(matches) > 0 && scimContainsInt(matches, i) {
				if p.sub == "" {
					continue
				}
				delete(m, spec.subs[p.sub])
			}
			kept = append(kept, m)
		}
		d.mv[p.attr] = kept
		return nil
	}
	if len(matches) == 0 {
		// a new value, with what the filter says of it; being the only one, it is primary
		m := map[string]any{"primary": true}
		for _, c := range p.filter {
			if sub := spec.subs[c.attr]; sub == "primary" {
				m[sub], _ = strconv.ParseBool(strings.ToLower(c.value))
			} else {
				m[sub] = c.value
			}
		}
		list = append(list, m)
		matches = []int{len(list) - 1}
	}
	for _, i := range matches {
		if p.sub != "" {
			if scimIsNull(raw) {
				delete(list[i], spec.subs[p.sub])
			} else if err := scimSetMultiSub(list[i], spec.name, spec.subs[p.sub], raw); err != nil {
				return err
			}
			continue
		}
		v, err := scimMultiValue(p.attr, raw)
		if err != nil {
			return err
		}
		for k, x := range v {
			list[i][k] = x
		}
	}
	d.mv[p.attr] = list
	return nil
}

func scimContainsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// scimFinishUser checks what Identity Center requires and returns the user to store.
func (s *Sim) scimFinishUser(d *scimUserDraft) (*user, error) {
	var missing []string
	if strings.TrimSpace(d.u.UserName) == "" {
		missing = append(missing, "userName")
	}
	if strings.TrimSpace(d.u.DisplayName) == "" {
		missing = append(missing, "displayName")
	}
	if d.u.Name == nil || strings.TrimSpace(d.u.Name.GivenName) == "" {
		missing = append(missing, "name.givenName")
	}
	if d.u.Name == nil || strings.TrimSpace(d.u.Name.FamilyName) == "" {
		missing = append(missing, "name.familyName")
	}
	if len(missing) > 0 {
		return nil, scimInvalid("Missing required attributes: %s", strings.Join(missing, ", "))
	}
	for _, attr := range []string{"emails", "phonenumbers", "addresses"} {
		if d.touched[attr] && len(d.mv[attr]) > 1 {
			return nil, scimInvalid("IAM Identity Center accepts a single value for %s", scimMultiValued[attr].name)
		}
	}
	u := d.u
	u.Emails, u.PhoneNumbers, u.Addresses = nil, nil, nil
	for _, m := range d.mv["emails"] {
		v, _ := m["value"].(string)
		t, _ := m["type"].(string)
		p, _ := m["primary"].(bool)
		if strings.TrimSpace(v) == "" {
			return nil, scimInvalid("emails.value is required for an email")
		}
		if !p && d.touched["emails"] {
			return nil, scimInvalid("The emails attribute value must be marked as primary")
		}
		u.Emails = append(u.Emails, email{Value: v, Type: t, Primary: p})
	}
	for _, m := range d.mv["phonenumbers"] {
		var p phoneNumber
		contactFromSCIM(&p, m)
		u.PhoneNumbers = append(u.PhoneNumbers, p)
	}
	for _, m := range d.mv["addresses"] {
		var a address
		contactFromSCIM(&a, m)
		u.Addresses = append(u.Addresses, a)
	}
	u.ExternalIds = s.withSCIMExternalID(u.ExternalIds, d.ext)
	if u.UserStatus == "" {
		u.UserStatus = "ENABLED"
	}
	if err := checkUserAttributes(&u); err != nil {
		return nil, err
	}
	return &u, nil
}

// fromBody applies a POST or PUT body: every supported attribute it carries.
func (d *scimUserDraft) fromBody(attrs map[string]json.RawMessage) error {
	for _, k := range scimSortedKeys(attrs) {
		attr := normalizeSCIMAttr(k)
		switch {
		case attr == "groups":
			return scimInvalid("groups cannot be set on a user: change memberships with PATCH /Groups/{id}")
		case attr == "externalid" || attr == "active" || attr == "name" || scimUserStrings[attr] != nil || scimMultiValued[attr].name != "":
			if err := d.apply("replace", scimPath{attr: attr}, attrs[k]); err != nil {
				return err
			}
		}
		// schemas, id, meta, the enterprise extension and unsupported attributes (password, ims,
		// photos, x509Certificates, entitlements, roles) are ignored.
	}
	return nil
}

// scimSaveUser checks the draft of a PUT or PATCH, stores it as u and answers u.
func (s *Sim) scimSaveUser(u *user, d *scimUserDraft) (int, any, error) {
	c, err := s.scimFinishUser(d)
	if err != nil {
		return 0, nil, err
	}
	if err := s.scimCommitUser(u, c); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.scimUserOf(u), nil
}

// scimCommitUser stores c as the new state of u, keeping the indexes right.
func (s *Sim) scimCommitUser(u, c *user) error {
	st := s.st
	if id, taken := st.userByName[strings.ToLower(c.UserName)]; taken && id != u.UserId {
		return scimErr(http.StatusConflict, "uniqueness", "Duplicate userName: a user named %s exists", c.UserName)
	}
	for _, e := range c.ExternalIds {
		if id, taken := st.byExternalID["user|"+e.Issuer+"|"+e.Id]; taken && id != u.UserId {
			return scimErr(http.StatusConflict, "uniqueness", "Duplicate externalId %s", e.Id)
		}
	}
	if err := st.userConflict(c, u.UserId); err != nil { // the email address
		return err
	}
	if err := s.conflictOnRecentWrite("user:" + u.UserId); err != nil {
		return err
	}
	c.UpdatedAt = epoch(s.now())
	st.unindexUser(u)
	*u = *c
	st.indexUser(u)
	return nil
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

type scimName struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

type scimUser struct {
	Schemas           []string         `json:"schemas"`
	ID                string           `json:"id"`
	ExternalID        string           `json:"externalId,omitempty"`
	Meta              scimMeta         `json:"meta"`
	UserName          string           `json:"userName"`
	Name              *scimName        `json:"name,omitempty"`
	DisplayName       string           `json:"displayName,omitempty"`
	NickName          string           `json:"nickName,omitempty"`
	ProfileURL        string           `json:"profileUrl,omitempty"`
	Title             string           `json:"title,omitempty"`
	UserType          string           `json:"userType,omitempty"`
	PreferredLanguage string           `json:"preferredLanguage,omitempty"`
	Locale            string           `json:"locale,omitempty"`
	Timezone          string           `json:"timezone,omitempty"`
	Active            bool             `json:"active"`
	Emails            []map[string]any `json:"emails,omitempty"`
	Addresses         []map[string]any `json:"addresses,omitempty"`
	PhoneNumbers      []map[string]any `json:"phoneNumbers,omitempty"`
}

func (s *Sim) scimUserOf(u *user) *scimUser {
	d := s.newSCIMUserDraft(u)
	out := &scimUser{
		Schemas: []string{scimUserSchema}, ID: u.UserId, ExternalID: d.ext,
		Meta:     scimMeta{ResourceType: "User", Created: scimTime(u.CreatedAt), LastModified: scimTime(u.UpdatedAt)},
		UserName: u.UserName, DisplayName: u.DisplayName, NickName: u.NickName, ProfileURL: u.ProfileUrl, Title: u.Title,
		UserType: u.UserType, PreferredLanguage: u.PreferredLanguage, Locale: u.Locale, Timezone: u.Timezone,
		Active: u.UserStatus != "DISABLED", Emails: d.mv["emails"], Addresses: d.mv["addresses"], PhoneNumbers: d.mv["phonenumbers"],
	}
	if n := u.Name; n != nil {
		out.Name = &scimName{n.Formatted, n.FamilyName, n.GivenName, n.MiddleName, n.HonorificPrefix, n.HonorificSuffix}
	}
	return out
}

func (s *Sim) scimFindUser(id string) (*user, error) {
	u := s.st.Users[id]
	if u == nil {
		return nil, scimErr(http.StatusNotFound, "", "User %s is not found", id)
	}
	return u, nil
}

func (s *Sim) scimCreateUser(req *scimRequest) (int, any, error) {
	attrs, err := decodeSCIMObject(req.body)
	if err != nil {
		return 0, nil, err
	}
	d := &scimUserDraft{u: user{UserStatus: "ENABLED"}, mv: map[string][]map[string]any{}}
	if err := d.fromBody(attrs); err != nil {
		return 0, nil, err
	}
	u, err := s.scimFinishUser(d)
	if err != nil {
		return 0, nil, err
	}
	if err := s.dir().createUser(u); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.scimUserOf(u), nil
}

func (s *Sim) scimGetUser(req *scimRequest) (int, any, error) {
	u, err := s.scimFindUser(req.id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.scimUserOf(u), nil
}

func (s *Sim) scimPutUser(req *scimRequest) (int, any, error) {
	u, err := s.scimFindUser(req.id)
	if err != nil {
		return 0, nil, err
	}
	attrs, err := decodeSCIMObject(req.body)
	if err != nil {
		return 0, nil, err
	}
	d := &scimUserDraft{mv: map[string][]map[string]any{}, u: user{
		IdentityStoreId: u.IdentityStoreId, UserId: u.UserId, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		ExternalIds: s.withSCIMExternalID(u.ExternalIds, ""), UserStatus: "ENABLED",
	}}
	if err := d.fromBody(attrs); err != nil {
		return 0, nil, err
	}
	return s.scimSaveUser(u, d)
}

type scimPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// scimReadOperations reads the Operations of a PatchOp body (the last, if it names them twice, as
// encoding/json does) one at a time, refusing more than scimMaxPatchOps before reading them all: a
// million of them would cost hundreds of megabytes.
func scimReadOperations(body []byte, ops *[]scimPatchOp) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); !strings.EqualFold(key, "Operations") {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		*ops = nil
		if tok, err = dec.Token(); err != nil || tok == nil {
			if err != nil {
				return err
			}
			continue // "Operations": null
		}
		if tok != json.Delim('[') {
			return fmt.Errorf("Operations is not a list")
		}
		for dec.More() {
			if len(*ops) == scimMaxPatchOps {
				return scimErr(http.StatusBadRequest, "tooMany", "At most %d operations are allowed in a single request", scimMaxPatchOps)
			}
			var op scimPatchOp
			if err := dec.Decode(&op); err != nil {
				return err
			}
			*ops = append(*ops, op)
		}
		if _, err := dec.Token(); err != nil { // ]
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the PatchOp object")
	}
	return nil
}

// scimReadPatch reads a PatchOp body.
func scimReadPatch(body []byte) ([]scimPatchOp, error) {
	var req struct{ Operations []scimPatchOp }
	if err := scimReadOperations(body, &req.Operations); err != nil {
		if se, ok := err.(*scimError); ok {
			return nil, se
		}
		return nil, scimErr(http.StatusBadRequest, "invalidSyntax", "The request body is not a PatchOp: %v", err)
	}
	if len(req.Operations) == 0 {
		return nil, scimInvalid("Operations is required and must not be empty")
	}
	for i := range req.Operations {
		op := &req.Operations[i]
		op.Op = strings.ToLower(strings.TrimSpace(op.Op))
		switch op.Op {
		case "add", "replace":
			if len(op.Value) == 0 {
				return nil, scimInvalid("A value is required for %s", op.Op)
			}
		case "remove":
			if strings.TrimSpace(op.Path) == "" {
				return nil, scimErr(http.StatusBadRequest, "noTarget", "The path is required for a remove operation")
			}
		case "":
			return nil, scimInvalid("The operation (op) must be specified")
		default:
			return nil, scimInvalid("Operation %q is not supported: use add, replace or remove", op.Op)
		}
	}
	return req.Operations, nil
}

// scimPatchTargets expands an operation into (path, value) pairs: its path, or the attributes of its
// value when it has none.
func scimPatchTargets(op scimPatchOp) ([]scimPath, []json.RawMessage, error) {
	if strings.TrimSpace(op.Path) != "" {
		p, err := parseSCIMPath(op.Path)
		if err != nil {
			return nil, nil, err
		}
		return []scimPath{p}, []json.RawMessage{op.Value}, nil
	}
	obj, err := decodeSCIMObject(op.Value)
	if err != nil {
		return nil, nil, scimInvalid("An operation without a path needs an object of attributes as its value")
	}
	var paths []scimPath
	var values []json.RawMessage
	for _, k := range scimSortedKeys(obj) {
		switch normalizeSCIMAttr(k) {
		case "schemas", "id", "meta":
			continue
		}
		p, err := parseSCIMPath(k)
		if err != nil {
			return nil, nil, err
		}
		paths, values = append(paths, p), append(values, obj[k])
	}
	return paths, values, nil
}

// scimApplyPatch hands each (path, value) of the operations to apply, in order; the first error stops it.
func scimApplyPatch(ops []scimPatchOp, apply func(op string, p scimPath, raw json.RawMessage) error) error {
	for _, op := range ops {
		paths, values, err := scimPatchTargets(op)
		if err != nil {
			return err
		}
		for i, p := range paths {
			if err := apply(op.Op, p, values[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Sim) scimPatchUser(req *scimRequest) (int, any, error) {
	u, err := s.scimFindUser(req.id)
	if err != nil {
		return 0, nil, err
	}
	ops, err := scimReadPatch(req.body)
	if err != nil {
		return 0, nil, err
	}
	d := s.newSCIMUserDraft(u)
	counts := map[string]int{}
	err = scimApplyPatch(ops, func(op string, p scimPath, raw json.RawMessage) error {
		if p.attr == "username" || p.attr == "active" {
			if counts[p.attr]++; counts[p.attr] > 1 {
				return scimInvalid("Only one operation on %s is allowed per request", map[string]string{"username": "userName", "active": "active"}[p.attr])
			}
		}
		if p.attr == "groups" {
			return scimInvalidPath("groups cannot be changed on a user: change memberships with PATCH /Groups/{id}")
		}
		return d.apply(op, p, raw)
	})
	if err != nil {
		return 0, nil, err
	}
	return s.scimSaveUser(u, d)
}

func (s *Sim) scimDeleteUser(req *scimRequest) (int, any, error) {
	u, err := s.scimFindUser(req.id)
	if err != nil {
		return 0, nil, err
	}
	if err := s.conflictOnRecentWrite("user:" + u.UserId); err != nil {
		return 0, nil, err
	}
	if err := s.dir().DeleteUser(u.UserId); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// ---- lists ----

// scimIntersect narrows set to the ids also in next (set is taken whole while not narrowed yet).
func scimIntersect(set []string, narrowed bool, next []string) []string {
	if !narrowed {
		return append([]string{}, next...)
	}
	in := map[string]bool{}
	for _, id := range next {
		in[id] = true
	}
	var out []string
	for _, id := range set {
		if in[id] {
			out = append(out, id)
		}
	}
	return out
}

func scimKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// scimFilter resolves a filter to sorted ids; lookup gives the ids matching one condition.
func scimFilter(filter string, all func() []string, lookup func(c scimCond) ([]string, error)) ([]string, error) {
	if strings.TrimSpace(filter) == "" {
		return all(), nil
	}
	conds, err := parseSCIMFilter(filter)
	if err != nil {
		return nil, err
	}
	var set []string
	for i, c := range conds {
		if !c.str {
			return nil, scimInvalidFilter("Filter values must be quoted strings (found %s)", c.value)
		}
		ids, err := lookup(c)
		if err != nil {
			return nil, err
		}
		set = scimIntersect(set, i > 0, ids)
	}
	sort.Strings(set)
	return set, nil
}

type scimListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults *int     `json:"totalResults,omitempty"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   *int     `json:"startIndex,omitempty"`
	Resources    []any    `json:"Resources"`
	NextCursor   string   `json:"nextCursor,omitempty"`
}

func scimClassicList(items []any) *scimListResponse {
	total, one := len(items), 1
	if items == nil {
		items = []any{}
	}
	return &scimListResponse{Schemas: []string{scimListSchema}, TotalResults: &total, ItemsPerPage: len(items), StartIndex: &one, Resources: items}
}

// scimPage applies count, startIndex and cursor to the matching ids (see the comment at the top).
func scimPage(q url.Values, op, filter string, keys []string, render func(id string) any) (any, error) {
	if si := q.Get("startIndex"); si != "" && strings.TrimSpace(si) != "1" {
		return nil, scimInvalid("startIndex is not supported: paginate with count and cursor")
	}
	size := scimMaxPage
	if c := q.Get("count"); c != "" {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > scimMaxPage {
			return nil, scimInvalid("count must be an integer between 1 and %d", scimMaxPage)
		}
		size = n
	}
	resources := func(ids []string) []any {
		out := make([]any, 0, len(ids))
		for _, id := range ids {
			out = append(out, render(id))
		}
		return out
	}
	if _, cursorMode := q["cursor"]; !cursorMode {
		out := scimClassicList(resources(keys[:min(size, len(keys))]))
		*out.TotalResults = len(keys)
		return out, nil
	}
	cursor := q.Get("cursor")
	page, next, err := pageOf(keys, op, filter, &cursor, size)
	if err != nil {
		return nil, scimInvalid("The cursor is not valid for this request")
	}
	out := &scimListResponse{Schemas: []string{scimListSchema}, ItemsPerPage: len(page), Resources: resources(page)}
	if next != nil {
		out.NextCursor = *next
	}
	return out, nil
}

// scimListed describes a resource type to scimList: where its filters look and how it is shown.
type scimListed[T any] struct {
	op         string                       // what a cursor is bound to: "scim:/Users"
	collection string                       // sortedKeys' cache name: "users"
	all        map[string]*T                // id -> resource
	render     func(*T) any                 // the SCIM representation
	nameAttr   string                       // the unique name's attribute, normalized: "username"
	byName     map[string]string            // lower-cased name -> id
	extKind    string                       // the byExternalID key prefix: "user"
	memberAttr string                       // the membership filter, also with ".value": "groups"
	members    map[string]map[string]string // memberAttr's value -> the ids it lists
	plural     string                       // for the unsupported-filter message: "users"
	allowed    string                       // the filters it names: "userName, externalId, id or groups.value"
}

// scimList answers GET /Users or GET /Groups: the resources matching the filter, one page of them.
func scimList[T any](s *Sim, req *scimRequest, d scimListed[T]) (int, any, error) {
	filter := req.query.Get("filter")
	keys, err := scimFilter(filter, func() []string { return sortedKeys(s.st, d.collection, d.all) }, func(c scimCond) ([]string, error) {
		switch c.attr {
		case d.nameAttr:
			if id, ok := d.byName[strings.ToLower(c.value)]; ok {
				return []string{id}, nil
			}
		case "externalid":
			if id, ok := s.st.byExternalID[d.extKind+"|"+s.scimIssuer()+"|"+c.value]; ok {
				return []string{id}, nil
			}
		case "id":
			if d.all[c.value] != nil {
				return []string{c.value}, nil
			}
		case d.memberAttr, d.memberAttr + ".value":
			return scimKeys(d.members[c.value]), nil
		default:
			return nil, scimInvalidFilter("Filtering %s on %q is not supported: use %s", d.plural, c.attr, d.allowed)
		}
		return nil, nil
	})
	if err != nil {
		return 0, nil, err
	}
	out, err := scimPage(req.query, d.op, filter, keys, func(id string) any { return d.render(d.all[id]) })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Sim) scimListUsers(req *scimRequest) (int, any, error) {
	st := s.st
	return scimList(s, req, scimListed[user]{
		op: "scim:/Users", collection: "users", all: st.Users, render: func(u *user) any { return s.scimUserOf(u) },
		nameAttr: "username", byName: st.userByName, extKind: "user", memberAttr: "groups", members: st.groupMembers,
		plural: "users", allowed: "userName, externalId, id or groups.value",
	})
}

// ---- groups ----

type scimGroup struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	Meta        scimMeta `json:"meta"`
	DisplayName string   `json:"displayName"`
	Members     []any    `json:"members"`
}

func (s *Sim) scimGroupOf(g *group) *scimGroup {
	return &scimGroup{Schemas: []string{scimGroupSchema}, ID: g.GroupId, ExternalID: s.scimExternalID(g.ExternalIds),
		Meta:        scimMeta{ResourceType: "Group", Created: scimTime(g.CreatedAt), LastModified: scimTime(g.UpdatedAt)},
		DisplayName: g.DisplayName, Members: []any{}}
}

func (s *Sim) scimFindGroup(id string) (*group, error) {
	g := s.st.Groups[id]
	if g == nil {
		return nil, scimErr(http.StatusNotFound, "", "Group %s is not found", id)
	}
	return g, nil
}

// scimMemberIDs reads a members value: a list of {"value": userId} (or one such object). It reads
// the ids of the first scimMaxMemberChanges+1 members, which is as many as any request may change,
// and counts the rest without keeping them: n is how many the value lists.
func scimMemberIDs(raw json.RawMessage) (ids []string, n int, err error) {
	bad := scimInvalid(`members must be a list of {"value": "<user id>"}`)
	id := func(item json.RawMessage) (string, error) {
		var it map[string]json.RawMessage
		if json.Unmarshal(item, &it) != nil || it == nil {
			return "", bad
		}
		var v json.RawMessage
		for k, x := range it {
			if strings.EqualFold(k, "value") {
				v = x
			}
		}
		id, err := scimString(v, "members.value")
		if err != nil || id == "" {
			return "", bad
		}
		return id, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		one, err := id(raw) // one member on its own
		if err != nil {
			return nil, 0, err
		}
		return []string{one}, 1, nil
	}
	for ; dec.More(); n++ {
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, 0, bad
		}
		if n > scimMaxMemberChanges {
			continue // counted, not kept: the request is refused for having too many
		}
		one, err := id(item)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, one)
	}
	return ids, n, nil
}

// scimCheckMember refuses what cannot be a group member: a group (no nested groups) or an unknown id.
func (s *Sim) scimCheckMember(id string) error {
	if s.st.Users[id] != nil {
		return nil
	}
	if s.st.Groups[id] != nil {
		return scimInvalid("Member %s is a group: IAM Identity Center does not support nested groups", id)
	}
	return scimInvalid("Member %s is not a user of this identity store", id)
}

func (s *Sim) scimCreateGroup(req *scimRequest) (int, any, error) {
	attrs, err := decodeSCIMObject(req.body)
	if err != nil {
		return 0, nil, err
	}
	g := &group{}
	var ext string
	var members []string
	var count int
	for _, k := range scimSortedKeys(attrs) {
		v := attrs[k]
		switch normalizeSCIMAttr(k) {
		case "displayname":
			if !scimIsNull(v) {
				if g.DisplayName, err = scimString(v, "displayName"); err != nil {
					return 0, nil, err
				}
			}
		case "externalid":
			if !scimIsNull(v) {
				if ext, err = scimString(v, "externalId"); err != nil {
					return 0, nil, err
				}
			}
		case "members":
			if !scimIsNull(v) {
				if members, count, err = scimMemberIDs(v); err != nil {
					return 0, nil, err
				}
			}
		}
	}
	if strings.TrimSpace(g.DisplayName) == "" {
		return 0, nil, scimInvalid("Missing required attribute: displayName")
	}
	if count > scimMaxMemberChanges {
		return 0, nil, scimErr(http.StatusBadRequest, "tooMany", "A group can be created with at most %d members (got %d)", scimMaxMemberChanges, count)
	}
	seen := map[string]bool{}
	var unique []string
	for _, id := range members {
		if err := s.scimCheckMember(id); err != nil {
			return 0, nil, err
		}
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	g.ExternalIds = s.withSCIMExternalID(nil, ext)
	if err := s.dir().createGroup(g); err != nil {
		return 0, nil, err
	}
	for _, id := range unique {
		if _, err := s.dir().createMembership(g.GroupId, id); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusCreated, s.scimGroupOf(g), nil
}

func (s *Sim) scimGetGroup(req *scimRequest) (int, any, error) {
	g, err := s.scimFindGroup(req.id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.scimGroupOf(g), nil
}

func (s *Sim) scimListGroups(req *scimRequest) (int, any, error) {
	st := s.st
	return scimList(s, req, scimListed[group]{
		op: "scim:/Groups", collection: "groups", all: st.Groups, render: func(g *group) any { return s.scimGroupOf(g) },
		nameAttr: "displayname", byName: st.groupByName, extKind: "group", memberAttr: "members", members: st.userGroups,
		plural: "groups", allowed: "displayName, externalId, id or members",
	})
}

// scimGroupDraft collects a PATCH's effect on a group before anything is applied.
type scimGroupDraft struct {
	s                       *Sim
	g                       *group
	displayName, ext        string
	nameChanged, extChanged bool
	member                  map[string]bool // user -> member after the request
	order                   []string        // users touched, in order
	changes                 int             // member values in the request
}

func (d *scimGroupDraft) touch(id string, member bool) error {
	if d.changes++; d.changes > scimMaxMemberChanges {
		return scimErr(http.StatusBadRequest, "tooMany", "At most %d membership changes are allowed in a single request", scimMaxMemberChanges)
	}
	if member {
		if err := d.s.scimCheckMember(id); err != nil {
			return err
		}
	} else if d.s.st.Groups[id] != nil {
		return scimInvalid("Member %s is a group: IAM Identity Center does not support nested groups", id)
	}
	if _, seen := d.member[id]; !seen {
		d.order = append(d.order, id)
	}
	d.member[id] = member
	return nil
}

// touchAll touches every user a members value lists.
func (d *scimGroupDraft) touchAll(raw json.RawMessage, member bool) error {
	ids, _, err := scimMemberIDs(raw)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.touch(id, member); err != nil {
			return err
		}
	}
	return nil
}

func (d *scimGroupDraft) apply(op string, p scimPath, raw json.RawMessage) error {
	if p.attr != "members" && (p.filter != nil || p.sub != "") {
		return scimInvalidPath("%s has no sub-attributes or value filters", p.attr)
	}
	switch p.attr {
	case "displayname":
		if op == "remove" {
			return scimInvalid("displayName is required and cannot be removed")
		}
		v, err := scimString(raw, "displayName")
		if err != nil {
			return err
		}
		if strings.TrimSpace(v) == "" {
			return scimInvalid("displayName must not be empty")
		}
		d.displayName, d.nameChanged = v, true
		return nil
	case "externalid":
		v := ""
		if op != "remove" && !scimIsNull(raw) {
			var err error
			if v, err = scimString(raw, "externalId"); err != nil {
				return err
			}
		}
		d.ext, d.extChanged = v, true
		return nil
	case "members":
		if p.sub != "" && p.sub != "value" {
			return scimInvalidPath("members.%s cannot be changed", p.sub)
		}
		switch {
		case op == "replace":
			return scimInvalid("Replacing all members of a group is not supported: use add and remove operations on members")
		case op == "add":
			if p.filter != nil {
				return scimInvalidPath("add on members takes no value filter")
			}
			return d.touchAll(raw, true)
		case p.filter != nil:
			if len(p.filter) != 1 || p.filter[0].attr != "value" || !p.filter[0].str {
				return scimInvalidPath(`remove on members takes the filter members[value eq "<user id>"]`)
			}
			return d.touch(p.filter[0].value, false)
		case scimIsNull(raw):
			return scimInvalid("Removing all members of a group is not supported: name the members to remove")
		default:
			return d.touchAll(raw, false)
		}
	}
	return scimInvalidPath("Only displayName, members and externalId can be changed on a group (not %q)", p.attr)
}

func (s *Sim) scimPatchGroup(req *scimRequest) (int, any, error) {
	st := s.st
	g, err := s.scimFindGroup(req.id)
	if err != nil {
		return 0, nil, err
	}
	ops, err := scimReadPatch(req.body)
	if err != nil {
		return 0, nil, err
	}
	d := &scimGroupDraft{s: s, g: g, displayName: g.DisplayName, ext: s.scimExternalID(g.ExternalIds), member: map[string]bool{}}
	if err := scimApplyPatch(ops, d.apply); err != nil {
		return 0, nil, err
	}
	if d.nameChanged {
		if id, taken := st.groupByName[strings.ToLower(d.displayName)]; taken && id != g.GroupId {
			return 0, nil, scimErr(http.StatusConflict, "uniqueness", "Duplicate displayName: a group named %s exists", d.displayName)
		}
	}
	if d.extChanged && d.ext != "" {
		if id, taken := st.byExternalID["group|"+s.scimIssuer()+"|"+d.ext]; taken && id != g.GroupId {
			return 0, nil, scimErr(http.StatusConflict, "uniqueness", "Duplicate externalId %s", d.ext)
		}
	}
	var adds, removes []string
	for _, uid := range d.order {
		_, is := st.groupMembers[g.GroupId][uid]
		switch {
		case d.member[uid] && !is:
			adds = append(adds, uid)
		case !d.member[uid] && is:
			removes = append(removes, uid)
		}
	}
	if d.nameChanged || d.extChanged {
		if err := s.conflictOnRecentWrite("group:" + g.GroupId); err != nil {
			return 0, nil, err
		}
	}
	for _, uid := range append(append([]string{}, adds...), removes...) {
		if err := s.conflictOnRecentWrite("membership:" + g.GroupId + "|" + uid); err != nil {
			return 0, nil, err
		}
	}
	if d.nameChanged || d.extChanged {
		delete(st.groupByName, strings.ToLower(g.DisplayName))
		for _, e := range g.ExternalIds {
			delete(st.byExternalID, "group|"+e.Issuer+"|"+e.Id)
		}
		g.DisplayName = d.displayName
		g.ExternalIds = s.withSCIMExternalID(g.ExternalIds, d.ext)
		st.groupByName[strings.ToLower(g.DisplayName)] = g.GroupId
		for _, e := range g.ExternalIds {
			st.byExternalID["group|"+e.Issuer+"|"+e.Id] = g.GroupId
		}
		g.UpdatedAt = epoch(s.now())
	}
	for _, uid := range adds {
		if _, err := s.dir().createMembership(g.GroupId, uid); err != nil {
			return 0, nil, err
		}
	}
	for _, uid := range removes {
		s.dir().deleteMembership(st.Memberships[st.groupMembers[g.GroupId][uid]])
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) scimDeleteGroup(req *scimRequest) (int, any, error) {
	g, err := s.scimFindGroup(req.id)
	if err != nil {
		return 0, nil, err
	}
	if err := s.conflictOnRecentWrite("group:" + g.GroupId); err != nil {
		return 0, nil, err
	}
	if err := s.dir().DeleteGroup(g.GroupId); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// ---- discovery ----

func scimServiceProviderConfig() map[string]any {
	return map[string]any{
		"schemas":          []string{scimSPCSchema},
		"documentationUri": "https://docs.aws.amazon.com/singlesignon/latest/developerguide/what-is-scim.html",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 1, "maxPayloadSize": 1048576},
		"filter":           map[string]any{"supported": true, "maxResults": scimMaxPage},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig"},
	}
}

func scimAttr(name, typ string, required, multi bool, subs ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": false,
		"mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	if name == "userName" {
		a["uniqueness"] = "server"
	}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

func scimSchemaDocs() []any {
	str := func(n string) map[string]any { return scimAttr(n, "string", false, false) }
	primary := scimAttr("primary", "boolean", false, false)
	userAttrs := []any{
		scimAttr("userName", "string", true, false),
		scimAttr("name", "complex", true, false, str("formatted"), scimAttr("familyName", "string", true, false),
			scimAttr("givenName", "string", true, false), str("middleName"), str("honorificPrefix"), str("honorificSuffix")),
		scimAttr("displayName", "string", true, false), str("nickName"), scimAttr("profileUrl", "reference", false, false),
		str("title"), str("userType"), str("preferredLanguage"), str("locale"), str("timezone"),
		scimAttr("active", "boolean", false, false),
		scimAttr("emails", "complex", false, true, str("value"), str("type"), primary),
		scimAttr("addresses", "complex", false, true, str("formatted"), str("streetAddress"), str("locality"), str("region"),
			str("postalCode"), str("country"), str("type"), primary),
		scimAttr("phoneNumbers", "complex", false, true, str("value"), str("type"), primary),
	}
	displayName := scimAttr("displayName", "string", true, false)
	displayName["uniqueness"] = "server"
	groupAttrs := []any{displayName,
		scimAttr("members", "complex", false, true, str("value"), scimAttr("$ref", "reference", false, false), str("type"))}
	enterprise := []any{str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
		scimAttr("manager", "complex", false, false, str("value"))}
	doc := func(id, name, desc string, attrs []any) map[string]any {
		return map[string]any{"schemas": []string{scimSchemaSchema}, "id": id, "name": name, "description": desc, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema"}}
	}
	return []any{
		doc(scimUserSchema, "User", "User Account", userAttrs),
		doc(scimGroupSchema, "Group", "Group", groupAttrs),
		doc(scimEnterpriseSchema, "EnterpriseUser", "Enterprise User", enterprise),
	}
}

func scimResourceTypeDocs() []any {
	return []any{
		map[string]any{"schemas": []string{scimRTSchema}, "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
			"schema": scimUserSchema, "schemaExtensions": []any{map[string]any{"schema": scimEnterpriseSchema, "required": false}},
			"meta": map[string]any{"resourceType": "ResourceType"}},
		map[string]any{"schemas": []string{scimRTSchema}, "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
			"schema": scimGroupSchema, "meta": map[string]any{"resourceType": "ResourceType"}},
	}
}

// scimDiscovery answers a list of documents, or the one whose id is asked.
func scimDiscovery(req *scimRequest, docs []any) (int, any, error) {
	if req.id == "" {
		return http.StatusOK, scimClassicList(docs), nil
	}
	for _, d := range docs {
		if d.(map[string]any)["id"] == req.id {
			return http.StatusOK, d, nil
		}
	}
	return 0, nil, scimErr(http.StatusNotFound, "", "%s %s is not found", req.resource, req.id)
}

func (s *Sim) scimSchemas(req *scimRequest) (int, any, error) {
	return scimDiscovery(req, scimSchemaDocs())
}

func (s *Sim) scimResourceTypes(req *scimRequest) (int, any, error) {
	return scimDiscovery(req, scimResourceTypeDocs())
}
