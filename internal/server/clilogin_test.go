package server_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/clilogin"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// cliBrowser is an http.Client with a cookie jar that does not follow redirects (the tests read them).
type cliBrowser struct {
	e *env
	c *http.Client
}

func (e *env) cliBrowser(user string) *cliBrowser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &cliBrowser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if user != "" {
		if err := e.store.Create(e.ctx, resource.New(resource.KindUser, user)); err != nil {
			e.t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if _, err := e.srv.Sessions().Issue(e.ctx, rec, httptest.NewRequest("GET", e.url+"/", nil), user, auth.MethodUse{Method: auth.MethodPassword}); err != nil {
			e.t.Fatal(err)
		}
		u, _ := url.Parse(e.url)
		jar.SetCookies(u, rec.Result().Cookies())
	}
	return b
}

func (b *cliBrowser) do(method, path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.url+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	s, _ := io.ReadAll(resp.Body)
	return resp, string(s)
}

var cliHiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func cliHidden(page string) url.Values {
	v := url.Values{}
	for _, m := range cliHiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func cliLoginQuery(verifier, redirect string) url.Values {
	return url.Values{"redirect_uri": {redirect}, "code_challenge": {clilogin.Challenge(verifier)}, "code_challenge_method": {"S256"}, "state": {"xyz"}}
}

func (e *env) cliGrants() int {
	e.t.Helper()
	objs, err := e.store.List(e.ctx, resource.KindCLIGrant, store.ListOptions{Filters: store.Filter("flow", "loopback")})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(objs)
}

func TestCLILoginPage(t *testing.T) {
	e := newEnv(t)
	verifier := clilogin.NewVerifier()
	q := cliLoginQuery(verifier, "http://127.0.0.1:41234/callback")

	// No session: sent to sign in, and back here after.
	resp, _ := e.cliBrowser("").do("GET", "/login/cli?"+q.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?"+(url.Values{"next": {"/login/cli?" + q.Encode()}}).Encode() {
		t.Fatalf("without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	b := e.cliBrowser("carol")
	// A redirect_uri off the loopback is refused, and never redirected to.
	for _, bad := range []string{"https://evil.example/callback", "http://localhost:41234/callback", "http://127.0.0.1:41234/other", "http://10.1.2.3:41234/callback"} {
		bq := cliLoginQuery(verifier, bad)
		resp, body := b.do("GET", "/login/cli?"+bq.Encode(), nil)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "redirect_uri") {
			t.Errorf("redirect_uri %s: %d %s", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
		form := bq
		form.Set("csrf", "x")
		form.Set("action", "confirm")
		if resp, _ := b.do("POST", "/login/cli", form); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("confirming redirect_uri %s: %d %s", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	bq := cliLoginQuery(verifier, "http://127.0.0.1:41234/callback")
	bq.Set("code_challenge_method", "plain")
	if resp, _ := b.do("GET", "/login/cli?"+bq.Encode(), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain PKCE: %d", resp.StatusCode)
	}

	resp, page := b.do("GET", "/login/cli?"+q.Encode(), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Sign in warden CLI on this computer?") || !strings.Contains(page, "carol") {
		t.Fatalf("the page: %d %s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:41234;") {
		t.Errorf("CSP %q: the form's redirect to the loopback must be allowed", csp)
	}
	form := cliHidden(page)
	if form.Get("csrf") == "" || form.Get("state") != "xyz" {
		t.Fatalf("form %v", form)
	}
	form.Set("action", "confirm")

	// Without the CSRF token (a malicious page posting the form): refused, nothing minted.
	noCSRF := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			noCSRF[k] = v
		}
	}
	if resp, _ := b.do("POST", "/login/cli", noCSRF); resp.StatusCode != http.StatusForbidden || e.cliGrants() != 0 {
		t.Fatalf("without CSRF: %d, %d grants", resp.StatusCode, e.cliGrants())
	}
	// Without a session: refused.
	if resp, _ := e.cliBrowser("").do("POST", "/login/cli", form); resp.StatusCode != http.StatusForbidden || e.cliGrants() != 0 {
		t.Fatalf("without a session: %d", resp.StatusCode)
	}

	resp, _ = b.do("POST", "/login/cli", form)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "127.0.0.1:41234" || loc.Path != "/callback" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("confirmed: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	// The token endpoint: PKCE mismatch refused (and the code is void after it).
	status, body := e.raw("POST", "/v1/auth/cli/token", "", `{"code": "`+code+`", "code_verifier": "`+clilogin.NewVerifier()+`", "redirect_uri": "http://127.0.0.1:41234/callback"}`)
	if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "PKCE") {
		t.Fatalf("PKCE mismatch: %d %v", status, body)
	}
	status, body = e.raw("POST", "/v1/auth/cli/token", "", `{"code": "`+code+`", "code_verifier": "`+verifier+`", "redirect_uri": "http://127.0.0.1:41234/callback"}`)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("after a mismatch: %d %v", status, body)
	}

	// A fresh code, exchanged once; replayed, refused.
	resp, _ = b.do("POST", "/login/cli", form)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	good := `{"code": "` + loc.Query().Get("code") + `", "code_verifier": "` + verifier + `", "redirect_uri": "http://127.0.0.1:41234/callback"}`
	status, body = e.raw("POST", "/v1/auth/cli/token", "", good)
	if status != 200 || body["user"] != "carol" || body["login"] != "loopback" || !strings.HasPrefix(body["token"].(string), "wdn_") {
		t.Fatalf("exchange: %d %v", status, body)
	}
	status, body = e.raw("POST", "/v1/auth/cli/token", "", good)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %v", status, body)
	}
	if status, body := e.raw("POST", "/v1/auth/cli/token", "", `{"code": 1}`); status != 400 || body["error"] != "invalid_request" {
		t.Fatalf("bad body: %d %v", status, body)
	}

	entries := e.entries(audit.Filter{Actor: "carol"})
	var created bool
	for _, en := range entries {
		if en.Action == "create" && strings.Contains(en.Detail, "received by warden login (loopback)") {
			created = true
		}
	}
	if !created {
		t.Errorf("no audit entry of the token's creation by warden login")
	}

	// Cancel: back to the loopback with access_denied.
	form.Set("action", "cancel")
	resp, _ = b.do("POST", "/login/cli", form)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
		t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestCLILoginWhoami(t *testing.T) {
	e := newEnv(t)
	b := e.cliBrowser("dave")
	verifier := clilogin.NewVerifier()
	_, page := b.do("GET", "/login/cli?"+cliLoginQuery(verifier, "http://[::1]:5555/callback").Encode(), nil)
	form := cliHidden(page)
	form.Set("action", "confirm")
	resp, _ := b.do("POST", "/login/cli", form)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	status, body := e.raw("POST", "/v1/auth/cli/token", "", `{"code": "`+loc.Query().Get("code")+`", "code_verifier": "`+verifier+`", "redirect_uri": "http://[::1]:5555/callback"}`)
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	status, me := e.raw("GET", "/v1/whoami", body["token"].(string), "")
	b2, _ := json.Marshal(me)
	if status != 200 || me["user"] != "dave" || me["login"] != "loopback" || me["method"] != "token" || me["expires"] == nil {
		t.Fatalf("whoami: %d %s", status, b2)
	}
	su, _ := me["step_up"].(map[string]any)
	if su == nil || su["satisfied"] != false || su["window"] != "10m" {
		t.Fatalf("step_up (password only): %s", b2)
	}
}

func TestDeviceEndpoints(t *testing.T) {
	e := newEnv(t)
	status, da := e.raw("POST", "/v1/auth/device", "", "")
	if status != 200 || da["interval"] != float64(5) || da["expires_in"] != float64(600) || da["verification_uri"] != e.url+"/device" {
		t.Fatalf("start: %d %v", status, da)
	}
	dc := da["device_code"].(string)
	if status, body := e.raw("POST", "/v1/auth/device/token", "", `{"device_code": "`+dc+`"}`); status != 400 || body["error"] != "authorization_pending" {
		t.Fatalf("poll: %d %v", status, body)
	}
	if status, body := e.raw("POST", "/v1/auth/device/token", "", `{"device_code": "`+dc+`"}`); status != 400 || body["error"] != "slow_down" {
		t.Fatalf("poll again at once: %d %v", status, body)
	}
	if status, body := e.raw("POST", "/v1/auth/device/token", "", `{"device_code": "nope"}`); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("unknown device code: %d %v", status, body)
	}

	// The page: a session needed; the form needs the CSRF token; a wrong code is refused.
	resp, _ := e.cliBrowser("").do("GET", "/device?user_code="+da["user_code"].(string), nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fdevice") {
		t.Fatalf("without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b := e.cliBrowser("erin")
	_, page := b.do("GET", "/device?user_code="+strings.ToLower(da["user_code"].(string)), nil)
	if !strings.Contains(page, `value="`+da["user_code"].(string)+`"`) {
		t.Fatalf("the page does not hold the code: %s", page)
	}
	form := cliHidden(page)
	form.Set("user_code", da["user_code"].(string))
	form.Set("action", "approve")
	noCSRF := url.Values{"user_code": form["user_code"], "action": {"approve"}}
	if resp, _ := b.do("POST", "/device", noCSRF); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", resp.StatusCode)
	}
	wrong := url.Values{"csrf": form["csrf"], "user_code": {"CCCC-CCCC"}, "action": {"approve"}}
	if resp, body := b.do("POST", "/device", wrong); resp.StatusCode != 400 || !strings.Contains(body, "no device login waits for this code") {
		t.Fatalf("a wrong code: %d %s", resp.StatusCode, body)
	}
	for range clilogin.DefaultMaxCodeFailures - 1 {
		b.do("POST", "/device", wrong)
	}
	if resp, body := b.do("POST", "/device", form); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many wrong codes") {
		t.Fatalf("the right code after %d wrong ones: %d %s", clilogin.DefaultMaxCodeFailures, resp.StatusCode, body)
	}
	// Someone else may still approve it (the limit is per user).
	b2 := e.cliBrowser("frank")
	_, page = b2.do("GET", "/device", nil)
	form.Set("csrf", cliHidden(page).Get("csrf"))
	if resp, body := b2.do("POST", "/device", form); resp.StatusCode != 200 || !strings.Contains(body, "warden CLI signed in") {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
}
