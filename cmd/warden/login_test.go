package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/clilogin"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// loginServer is a real warden server (httptest) with users and a signed-in browser.
type loginServer struct {
	t       *testing.T
	ctx     context.Context
	srv     *server.Server
	url     string
	browser *http.Client
}

func newLoginServer(t *testing.T, users ...string) *loginServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetCLILogin(config.Auth{}, "", clilogin.WithInterval(time.Second))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for _, u := range users {
		o := resource.New(resource.KindUser, u)
		o.Spec.(*resource.UserSpec).Roles = nil
		if err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	jar, _ := cookiejar.New(nil)
	return &loginServer{t: t, ctx: ctx, srv: srv, url: hs.URL, browser: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// signIn gives the browser a session of user, made with a password and a TOTP code (a second
// factor at that instant).
func (l *loginServer) signIn(user string) {
	l.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, l.url+"/", nil)
	if _, err := l.srv.Sessions().Issue(l.ctx, rec, req, user, auth.MethodUse{Method: auth.MethodPassword}, auth.MethodUse{Method: auth.MethodTOTP}); err != nil {
		l.t.Fatal(err)
	}
	u, _ := url.Parse(l.url)
	l.browser.Jar.SetCookies(u, rec.Result().Cookies())
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// formOf reads the hidden fields of a page's form.
func formOf(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// get fetches u with the browser, following redirects.
func (l *loginServer) get(u string) (int, string) {
	l.t.Helper()
	resp, err := l.browser.Get(u)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (l *loginServer) post(u string, form url.Values) (int, string, error) {
	resp, err := l.browser.PostForm(u, form)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// confirm is the browser side of the loopback flow: open the page, press "Sign in warden CLI".
// The browser follows the redirect to the CLI's loopback listener, as a real one would.
func (l *loginServer) confirm(action string) func(string) error {
	return func(target string) error {
		code, page := l.get(target)
		if code != 200 || !strings.Contains(page, "Sign in warden CLI on this computer?") {
			return fmt.Errorf("the confirmation page: %d %s", code, page)
		}
		form := formOf(page)
		form.Set("action", action)
		code, body, err := l.post(l.url+"/login/cli", form)
		if err != nil {
			return err
		}
		if code != 200 || !strings.Contains(body, "warden CLI:") {
			return fmt.Errorf("after confirming: %d %s", code, body)
		}
		return nil
	}
}

func readCredentials(t *testing.T) *credentialsFile {
	t.Helper()
	c, _, err := loadCredentials()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The loopback flow end to end: warden login against a real server, the browser signed in,
// confirming; the token stored 0600 per server; whoami with it; logout revokes it on the server.
func TestLoginLoopbackEndToEnd(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv("HOME", cfgHome)
	t.Setenv("WARDEN_ADDR", "")
	t.Setenv("WARDEN_TOKEN", "")
	t.Setenv("WARDEN_CREDENTIALS", "")
	ls := newLoginServer(t, "alice")
	ls.signIn("alice")

	var stdout, stderr bytes.Buffer
	err := runLogin(ls.ctx, &stdout, &stderr, loginOptions{server: ls.url + "/", open: ls.confirm("confirm"), timeout: time.Minute})
	if err != nil {
		t.Fatalf("warden login: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), ls.url+"/login/cli?") || !strings.Contains(stdout.String(), "Signed in to "+ls.url+" as alice") {
		t.Fatalf("output:\n%s\n%s", stdout.String(), stderr.String())
	}
	path := filepath.Join(cfgHome, "warden", "credentials.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v, want mode 0600", fi, err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("credentials directory mode %v, want 0700", di.Mode().Perm())
	}
	creds := readCredentials(t)
	l := creds.Servers[ls.url]
	if creds.Default != ls.url || l == nil || l.User != "alice" || l.Login != "loopback" || !strings.HasPrefix(l.Token, "wdn_"+l.ID+"_") {
		t.Fatalf("credentials: %+v %+v", creds, l)
	}
	if d := time.Until(l.Expires); d < 11*time.Hour || d > 12*time.Hour {
		t.Fatalf("the token expires in %s, want 12h", d)
	}

	// Every command now finds the stored token for the server (no --addr: the latest login's).
	var cf clientFlags
	c, err := cf.client()
	if err != nil || c.Addr != ls.url || c.Token != l.Token || !cf.stored {
		t.Fatalf("client: %+v %v", c, err)
	}
	me, err := c.WhoAmI(ls.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeWhoami(&out, c.Addr, me, "")
	for _, want := range []string{"user:      alice (a user)", "signed in: token " + l.ID + " from warden login (loopback)", "expires:   ", "roles:     (none)", "step-up:   satisfied until"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("whoami lacks %q:\n%s", want, out.String())
		}
	}
	// --token and WARDEN_TOKEN come first.
	t.Setenv("WARDEN_TOKEN", "wdn_other")
	if c, _ := (&clientFlags{}).client(); c.Token != "wdn_other" {
		t.Fatalf("WARDEN_TOKEN not preferred: %s", c.Token)
	}
	if c, _ := (&clientFlags{token: "wdn_flag"}).client(); c.Token != "wdn_flag" {
		t.Fatalf("--token not preferred: %s", c.Token)
	}
	t.Setenv("WARDEN_TOKEN", "")

	// A second server sits beside the first.
	other := newLoginServer(t, "alice")
	other.signIn("alice")
	if err := runLogin(ls.ctx, io.Discard, io.Discard, loginOptions{server: other.url, open: other.confirm("confirm"), timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	creds = readCredentials(t)
	if len(creds.Servers) != 2 || creds.Default != other.url || creds.Servers[ls.url].Token != l.Token {
		t.Fatalf("two servers: %+v", creds)
	}

	// Logout revokes the token on the server and forgets it here; the other server's stays.
	out.Reset()
	if err := runLogout(ls.ctx, &out, ls.url); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.srv.Tokens().Authenticate(ls.ctx, l.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the token after logout: %v, want revoked", err)
	}
	creds = readCredentials(t)
	if creds.Servers[ls.url] != nil || creds.Servers[other.url] == nil {
		t.Fatalf("after logout: %+v", creds)
	}
	if err := runLogout(ls.ctx, &out, ls.url); err == nil {
		t.Fatal("logging out twice: no error")
	}
}

// Cancel in the browser: warden login fails and stores nothing.
func TestLoginLoopbackCancelled(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("WARDEN_CREDENTIALS", "")
	ls := newLoginServer(t, "alice")
	ls.signIn("alice")
	err := runLogin(ls.ctx, io.Discard, io.Discard, loginOptions{server: ls.url, open: ls.confirm("cancel"), timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("cancelled: %v", err)
	}
	if c := readCredentials(t); len(c.Servers) != 0 {
		t.Fatalf("stored %+v", c)
	}
}

// No browser answer: the timeout ends the wait.
func TestLoginTimeout(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	ls := newLoginServer(t, "alice")
	err := runLogin(ls.ctx, io.Discard, io.Discard, loginOptions{server: ls.url, noBrowser: true, timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no sign-in within") {
		t.Fatalf("timeout: %v", err)
	}
}

// syncBuf is a bytes.Buffer safe for a writer and a reader at once.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var userCodeRE = regexp.MustCompile(`\n  ([A-Z]{4}-[A-Z]{4})\n`)

// The device flow end to end: warden login --device prints a code; the signed-in browser enters
// a wrong one (refused), then the right one and approves; the CLI receives the token.
func TestLoginDeviceEndToEnd(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("WARDEN_CREDENTIALS", "")
	ls := newLoginServer(t, "bob")
	ls.signIn("bob")
	var stderr syncBuf
	done := make(chan error, 1)
	go func() {
		done <- runLogin(ls.ctx, io.Discard, &stderr, loginOptions{server: ls.url, device: true, timeout: time.Minute})
	}()
	var code string
	waitFor(t, func() bool {
		if m := userCodeRE.FindStringSubmatch(stderr.String()); m != nil {
			code = m[1]
		}
		return code != ""
	}, "the user code printed")
	if !strings.Contains(stderr.String(), ls.url+"/device?user_code="+code) {
		t.Fatalf("output: %s", stderr.String())
	}
	status, page := ls.get(ls.url + "/device?user_code=" + code)
	if status != 200 || !strings.Contains(page, `value="`+code+`"`) {
		t.Fatalf("device page: %d %s", status, page)
	}
	form := formOf(page)
	form.Set("user_code", "BBBB-BBBB")
	form.Set("action", "approve")
	if status, body, _ := ls.post(ls.url+"/device", form); status != 400 || !strings.Contains(body, "no device login waits for this code") {
		t.Fatalf("a wrong code: %d %s", status, body)
	}
	form.Set("user_code", strings.ToLower(code))
	if status, body, _ := ls.post(ls.url+"/device", form); status != 200 || !strings.Contains(body, "warden CLI signed in") {
		t.Fatalf("approving: %d %s", status, body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("warden login --device: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("warden login --device did not finish")
	}
	l := readCredentials(t).Servers[ls.url]
	if l == nil || l.User != "bob" || l.Login != "device" {
		t.Fatalf("stored %+v", l)
	}
	b, _ := json.Marshal(l)
	if !strings.Contains(string(b), `"login":"device"`) {
		t.Fatalf("stored %s", b)
	}
	if _, err := client.New(ls.url, l.Token).WhoAmI(ls.ctx); err != nil {
		t.Fatalf("the device token: %v", err)
	}
}

// Denied in the browser: warden login --device says so.
func TestLoginDeviceDenied(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	ls := newLoginServer(t, "bob")
	ls.signIn("bob")
	var stderr syncBuf
	done := make(chan error, 1)
	go func() {
		done <- runLogin(ls.ctx, io.Discard, &stderr, loginOptions{server: ls.url, device: true, timeout: time.Minute})
	}()
	var code string
	waitFor(t, func() bool {
		if m := userCodeRE.FindStringSubmatch(stderr.String()); m != nil {
			code = m[1]
		}
		return code != ""
	}, "the user code printed")
	_, page := ls.get(ls.url + "/device")
	form := formOf(page)
	form.Set("user_code", code)
	form.Set("action", "deny")
	if status, body, _ := ls.post(ls.url+"/device", form); status != 200 || !strings.Contains(body, "Sign-in denied") {
		t.Fatalf("denying: %d %s", status, body)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("denied: %v", err)
	}
}
