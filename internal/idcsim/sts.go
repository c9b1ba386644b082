package idcsim

// STS (awsQuery at POST / with a form body, SigV4): GetCallerIdentity and AssumeRole, and the
// checking of the temporary credentials the simulator issued wherever they are used.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

func isForm(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

// stsError is an STS error (<ErrorResponse>).
type stsError struct {
	status     int
	code, msg  string
	senderSide bool
}

func (e *stsError) Error() string { return e.code + ": " + e.msg }

func stsErr(status int, code, format string, args ...any) *stsError {
	return &stsError{status: status, code: code, msg: fmt.Sprintf(format, args...), senderSide: status < 500}
}

func writeSTSError(w http.ResponseWriter, err error) {
	e, ok := err.(*stsError)
	if !ok {
		e = stsErr(500, "InternalFailure", "%v", err)
	}
	typ := "Sender"
	if !e.senderSide {
		typ = "Receiver"
	}
	id := newUUID()
	var b strings.Builder
	fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>`, stsNS, typ, e.code)
	xml.EscapeText(&b, []byte(e.msg))
	fmt.Fprintf(&b, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, id)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(e.status)
	io.WriteString(w, b.String())
}

var stsActions = map[string]bool{"GetCallerIdentity": true, "AssumeRole": true}

func (s *Sim) serveSTS(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(body) > 64<<10 {
		writeSTSError(w, stsErr(400, "InvalidParameterValue", "the request body could not be read or is over 64 KiB"))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeSTSError(w, stsErr(400, "MalformedQueryString", "the form body could not be read"))
		return
	}
	action := form.Get("Action")
	if stsActions[action] {
		s.count("sts", action)
	} else {
		s.count("sts", "unknown")
	}
	if form.Get("Version") != "2011-06-15" || !stsActions[action] {
		writeSTSError(w, stsErr(400, "InvalidAction", "Could not find operation %s for version %s", truncate(action, 64), truncate(form.Get("Version"), 32)))
		return
	}
	if s.injectedThrottle() {
		writeSTSError(w, stsErr(400, "Throttling", "Rate exceeded"))
		return
	}
	caller, err := s.authenticate(r, body, stsErrors)
	if err != nil {
		writeSTSError(w, err)
		return
	}
	var b strings.Builder
	now := s.now()
	id := newUUID()
	switch action {
	case "GetCallerIdentity":
		fmt.Fprintf(&b, `<GetCallerIdentityResponse xmlns="%s"><GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult>`,
			stsNS, xmlEscape(caller.arn), xmlEscape(caller.userID), caller.account)
	case "AssumeRole":
		c, err := s.assumeRole(caller, form, now)
		if err != nil {
			writeSTSError(w, err)
			return
		}
		key := s.issue(c, now)
		fmt.Fprintf(&b, `<AssumeRoleResponse xmlns="%s"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>%s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>`+
			`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleResult>`,
			stsNS, xmlEscape(c.roleID+":"+c.session), xmlEscape(c.assumedRoleARN()), key, c.secret, c.token, c.expires.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, id, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	io.WriteString(w, b.String())
}

// caller is who signed a request.
type caller struct {
	arn, userID, account string
	// temporary: the credentials are ones the simulator issued (an assumed role).
	temporary bool
}

// authErrors name, per protocol, the errors of authentication.
type authErrors struct {
	missing, invalidToken, expired, signature func(msg string) error
}

var stsErrors = authErrors{
	missing:      func(m string) error { return stsErr(403, "MissingAuthenticationToken", "%s", m) },
	invalidToken: func(m string) error { return stsErr(403, "InvalidClientTokenId", "%s", m) },
	expired:      func(m string) error { return stsErr(400, "ExpiredToken", "%s", m) },
	signature:    func(m string) error { return stsErr(403, "SignatureDoesNotMatch", "%s", m) },
}

var jsonAuthErrors = authErrors{
	missing: func(m string) error {
		return &apiError{status: 400, code: "MissingAuthenticationTokenException", message: m}
	},
	invalidToken: func(m string) error { return &apiError{status: 400, code: "UnrecognizedClientException", message: m} },
	expired:      func(m string) error { return &apiError{status: 400, code: "ExpiredTokenException", message: m} },
	signature:    func(m string) error { return &apiError{status: 400, code: "InvalidSignatureException", message: m} },
}

const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpired      = "The security token included in the request is expired"
	msgSignature    = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// authenticate checks a request's SigV4 signature. Credentials the simulator issued (ASIA…) are
// checked fully: the signature with their secret, the session token, their expiry by the
// simulator's clock. Any other access key is taken as the organisation's long-term credentials (the
// simulator has no IAM users): its signature is not checked, as on the JSON APIs.
func (s *Sim) authenticate(r *http.Request, body []byte, errs authErrors) (caller, error) {
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return caller{}, errs.missing("Request is missing Authentication Token")
	}
	s.authMu.Lock()
	c := s.auth.creds[a.key]
	var ic issuedCreds
	if c != nil {
		ic = *c
	}
	s.authMu.Unlock()
	if c == nil {
		if strings.HasPrefix(a.key, "ASIA") {
			return caller{}, errs.invalidToken(msgInvalidToken)
		}
		s.mu.Lock()
		mgmt := s.st.Organization.MasterAccountId
		s.mu.Unlock()
		return caller{arn: "arn:aws:iam::" + mgmt + ":root", userID: mgmt, account: mgmt}, nil
	}
	if !hmac.Equal([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(ic.token)) {
		return caller{}, errs.invalidToken(msgInvalidToken)
	}
	if !verifySigV4(r, body, a, ic.secret) {
		return caller{}, errs.signature(msgSignature)
	}
	if !s.now().Before(ic.expires) {
		return caller{}, errs.expired(msgExpired)
	}
	return caller{arn: ic.assumedRoleARN(), userID: ic.roleID + ":" + ic.session, account: ic.account, temporary: true}, nil
}

// checkIssuedCredentials applies authenticate to a JSON API call made with credentials the
// simulator issued (or claiming to be: an ASIA key); other calls pass as before.
func (s *Sim) checkIssuedCredentials(r *http.Request, body []byte) error {
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok || !strings.HasPrefix(a.key, "ASIA") {
		return nil
	}
	_, err := s.authenticate(r, body, jsonAuthErrors)
	return err
}

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/((?:[\x21-\x7e]+/)?)([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// assumeRole checks an AssumeRole request and makes the credentials to issue.
func (s *Sim) assumeRole(who caller, form url.Values, now time.Time) (*issuedCreds, error) {
	roleARN, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if roleARN == "" || session == "" {
		return nil, stsErr(400, "ValidationError", "RoleArn and RoleSessionName are required")
	}
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if len(roleARN) > 2048 || m == nil {
		return nil, stsErr(400, "ValidationError", "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must be a role ARN")
	}
	if !sessionNamePattern.MatchString(session) {
		return nil, stsErr(400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*, length 2 to 64")
	}
	duration := time.Hour
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, stsErr(400, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		if n > 3600 { // the role's MaxSessionDuration: IAM's default, 1 hour; and role chaining's limit
			return nil, stsErr(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		duration = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	allowed := false
	if len(s.opts.RoleARNs) == 0 {
		allowed = s.st.Accounts[m[1]] != nil
	}
	for _, a := range s.opts.RoleARNs {
		allowed = allowed || a == roleARN
	}
	s.mu.Unlock()
	if !allowed {
		return nil, stsErr(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", who.arn, roleARN)
	}
	c := &issuedCreds{account: m[1], rolePath: "/" + m[2], roleName: m[3], session: session, expires: now.Add(duration).Truncate(time.Second)}
	c.roleID = roleUniqueID(c.roleARN())
	return c, nil
}

// sigV4Auth is a parsed AWS4-HMAC-SHA256 Authorization header.
type sigV4Auth struct {
	key, date, region, service string
	signedHeaders              []string
	signature                  string
}

func parseAuthorization(h string) (sigV4Auth, bool) {
	var a sigV4Auth
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok || len(h) > 8192 {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, false
			}
			a.key, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, a.key != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// uriEncode encodes as SigV4 does: every byte but the unreserved characters.
func uriEncode(v string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// verifySigV4 recomputes the request's signature with secret (AWS Signature Version 4, as the
// General Reference describes it: canonical request, string to sign, derived key).
func verifySigV4(r *http.Request, body []byte, a sigV4Auth, secret string) bool {
	amzDate := r.Header.Get("X-Amz-Date")
	if len(amzDate) < 8 || amzDate[:8] != a.date {
		return false
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Non-S3 services encode the (already escaped) path once more.
	canonicalURI := uriEncode(path, true)
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			qs = append(qs, uriEncode(k, false)+"="+uriEncode(v, false))
		}
	}
	var ch strings.Builder
	for _, h := range a.signedHeaders {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values(h)
			if len(vals) == 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		ch.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canonical := strings.Join([]string{r.Method, canonicalURI, strings.Join(qs, "&"), ch.String(), strings.Join(a.signedHeaders, ";"), payload}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	k := hmacSHA256([]byte("AWS4"+secret), a.date)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	return hmac.Equal([]byte(want), []byte(a.signature))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
