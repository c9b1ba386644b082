package idcsim

// The portal API (portal.sso.<region>.amazonaws.com, restJson1, with the bearer token header
// x-amz-sso_bearer_token): ListAccounts, ListAccountRoles, GetRoleCredentials and Logout. Answers
// come from the user's account assignments at the moment of the call.

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// portalPageSize is ListAccounts' and ListAccountRoles' page when max_result is not given
	// (simulator's choice; AWS documents none). max_result may be 1 to 100.
	portalPageSize = 20
	// defaultRoleSession is a permission set's session duration when it has none (AWS: PT1H).
	defaultRoleSession = time.Hour
)

// issuedCreds are temporary credentials the simulator issued (portal API or STS AssumeRole).
type issuedCreds struct {
	secret, token string
	account       string
	// roleName is the role's name (AWSReservedSSO_<ps>_<hex> for the portal's), rolePath its path,
	// roleID its unique id (AROA…), session the role session's name.
	roleName, rolePath, roleID, session string
	expires                             time.Time
}

func (c *issuedCreds) roleARN() string {
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s", c.account, c.rolePath, c.roleName)
}

func (c *issuedCreds) assumedRoleARN() string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", c.account, c.roleName, c.session)
}

// portalAPIPaths are the portal API's operations' paths.
var portalAPIPaths = map[string]bool{"/federation/credentials": true, "/assignment/accounts": true, "/assignment/roles": true, "/logout": true}

var portalAPIOps = map[string]struct{ method, op string }{
	"/federation/credentials": {http.MethodGet, "GetRoleCredentials"},
	"/assignment/accounts":    {http.MethodGet, "ListAccounts"},
	"/assignment/roles":       {http.MethodGet, "ListAccountRoles"},
	"/logout":                 {http.MethodPost, "Logout"},
}

func portalErr(status int, name, format string, args ...any) *apiError {
	return &apiError{status: status, code: name, message: fmt.Sprintf(format, args...)}
}

func errPortalUnauthorized() *apiError {
	return portalErr(http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid")
}

func writePortalError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{status: 500, code: "InternalServerException", message: err.Error()}
	}
	b, _ := json.Marshal(map[string]string{"message": e.message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.WriteHeader(e.status)
	w.Write(b)
}

func (s *Sim) servePortalAPI(w http.ResponseWriter, r *http.Request) {
	route := portalAPIOps[r.URL.Path]
	if r.Method != route.method {
		writePortalError(w, portalErr(http.StatusNotFound, "UnknownOperationException", "%s %s is not an operation", r.Method, r.URL.Path))
		return
	}
	s.count("sso", route.op)
	if s.injectedThrottle() {
		writePortalError(w, portalErr(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded"))
		return
	}
	token := r.Header.Get("x-amz-sso_bearer_token")
	if token == "" || len(token) > 4096 {
		writePortalError(w, errPortalUnauthorized())
		return
	}
	if len(r.URL.RawQuery) > 4096 {
		writePortalError(w, portalErr(http.StatusBadRequest, "InvalidRequestException", "the query is too long"))
		return
	}
	now := s.now()
	s.authMu.Lock()
	at := s.auth.tokens[token]
	if at != nil && !now.Before(at.expires) {
		delete(s.auth.tokens, token)
		at = nil
	}
	var tok accessToken
	if at != nil {
		tok = *at
	}
	s.authMu.Unlock()
	if at == nil || !s.userAlive(tok.userID, tok.userName) {
		writePortalError(w, errPortalUnauthorized())
		return
	}
	q := r.URL.Query() // by name: clients order the parameters differently
	var out any
	var err error
	switch route.op {
	case "ListAccounts":
		out, err = s.listPortalAccounts(tok.userID, q.Get("max_result"), q.Get("next_token"))
	case "ListAccountRoles":
		out, err = s.listPortalRoles(tok.userID, q.Get("account_id"), q.Get("max_result"), q.Get("next_token"))
	case "GetRoleCredentials":
		out, err = s.getRoleCredentials(tok, q.Get("account_id"), q.Get("role_name"), now)
	case "Logout":
		s.authMu.Lock()
		delete(s.auth.tokens, token)
		if tok.family != "" {
			for k, rt := range s.auth.refresh {
				if rt.family == tok.family {
					delete(s.auth.refresh, k)
				}
			}
			for k, t := range s.auth.tokens {
				if t.family == tok.family {
					delete(s.auth.tokens, k)
				}
			}
		}
		s.authMu.Unlock()
		w.Header().Set("X-Amzn-Requestid", newUUID())
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		writePortalError(w, err)
		return
	}
	writeJSON(w, out)
}

// page cuts n items at next_token for a list bound to what (the operation, user and parameters).
func page(n int, what, maxResult, nextToken string) (from, to int, next string, err error) {
	size := portalPageSize
	if maxResult != "" {
		size, err = strconv.Atoi(maxResult)
		if err != nil || size < 1 || size > 100 {
			return 0, 0, "", portalErr(http.StatusBadRequest, "InvalidRequestException", "max_result must be 1 to 100")
		}
	}
	bind := sha256.Sum256([]byte(what))
	tag := hex.EncodeToString(bind[:6])
	if nextToken != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(nextToken)
		off, t, ok := strings.Cut(string(raw), ":")
		from, err = strconv.Atoi(off)
		if derr != nil || !ok || err != nil || t != tag || from < 0 {
			return 0, 0, "", portalErr(http.StatusBadRequest, "InvalidRequestException", "next_token is not valid")
		}
	}
	from = min(from, n)
	to = min(from+size, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to) + ":" + tag))
	}
	return from, to, next, nil
}

func (s *Sim) listPortalAccounts(userID, maxResult, nextToken string) (any, error) {
	accts := s.PortalAccounts(userID)
	from, to, next, err := page(len(accts), "accounts|"+userID, maxResult, nextToken)
	if err != nil {
		return nil, err
	}
	list := make([]map[string]string, 0, to-from)
	for _, a := range accts[from:to] {
		list = append(list, map[string]string{"accountId": a.ID, "accountName": a.Name, "emailAddress": a.Email})
	}
	out := map[string]any{"accountList": list}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Sim) listPortalRoles(userID, accountID, maxResult, nextToken string) (any, error) {
	if !validAccountID(accountID) {
		return nil, portalErr(http.StatusBadRequest, "InvalidRequestException", "account_id must be a 12-digit account id")
	}
	var roles []string
	for _, a := range s.PortalAccounts(userID) {
		if a.ID == accountID {
			roles = a.PermissionSets
		}
	}
	from, to, next, err := page(len(roles), "roles|"+userID+"|"+accountID, maxResult, nextToken)
	if err != nil {
		return nil, err
	}
	list := make([]map[string]string, 0, to-from)
	for _, r := range roles[from:to] {
		list = append(list, map[string]string{"roleName": r, "accountId": accountID})
	}
	out := map[string]any{"roleList": list}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// ssoRoleSuffix is the 16 hex digits of an Identity Center role's name, stable per account and
// permission set.
func (s *Sim) ssoRoleSuffix(account, permissionSetARN string) string {
	sum := sha256.Sum256([]byte("idcsim-sso-role|" + account + "|" + permissionSetARN))
	return hex.EncodeToString(sum[:8])
}

// roleUniqueID is a role's id: AROA and 17 characters of [A-Z2-7], stable per role ARN.
func roleUniqueID(roleARN string) string {
	sum := sha256.Sum256([]byte("idcsim-role-id|" + roleARN))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func (s *Sim) getRoleCredentials(tok accessToken, accountID, roleName string, now time.Time) (any, error) {
	if !validAccountID(accountID) || roleName == "" || len(roleName) > 32 {
		return nil, portalErr(http.StatusBadRequest, "InvalidRequestException", "account_id (12 digits) and role_name (a permission set's name) are required")
	}
	s.mu.Lock()
	s.settle()
	var psARN string
	var duration time.Duration
	for _, a := range s.portalAccounts(tok.userID) {
		if a.ID != accountID {
			continue
		}
		for _, n := range a.PermissionSets {
			if n == roleName {
				for arn, ps := range s.st.PermissionSets {
					if ps.Name == roleName {
						psARN = arn
						d, ok := parseISODuration(ps.SessionDuration)
						if !ok || d <= 0 {
							d = defaultRoleSession
						}
						duration = d
					}
				}
			}
		}
	}
	region := s.opts.Region
	s.mu.Unlock()
	if psARN == "" {
		// What AWS answers when the user has no assignment of that permission set in that account.
		return nil, portalErr(http.StatusForbidden, "ForbiddenException", "No access")
	}
	c := &issuedCreds{account: accountID, roleName: "AWSReservedSSO_" + roleName + "_" + s.ssoRoleSuffix(accountID, psARN),
		rolePath: "/aws-reserved/sso.amazonaws.com/" + region + "/", session: tok.userName, expires: now.Add(duration).Truncate(time.Second)}
	c.roleID = roleUniqueID(c.roleARN())
	key := s.issue(c, now)
	return map[string]any{"roleCredentials": map[string]any{"accessKeyId": key, "secretAccessKey": c.secret,
		"sessionToken": c.token, "expiration": c.expires.UnixMilli()}}, nil
}

// issue records temporary credentials and returns their access key id.
func (s *Sim) issue(c *issuedCreds, now time.Time) string {
	b := randomBytes(10)
	key := "ASIA" + base32.StdEncoding.EncodeToString(b)[:16]
	c.secret = base64.StdEncoding.EncodeToString(randomBytes(30))
	c.token = "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(randomBytes(180))
	s.authMu.Lock()
	defer s.authMu.Unlock()
	makeRoom(s.auth.creds, now, func(c *issuedCreds) time.Time { return c.expires })
	s.auth.creds[key] = c
	return key
}
