package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// The loopback flow through a real browser: headless Chromium, signed in to warden, opens the page
// warden login names, confirms, and is redirected to the CLI's loopback listener (the page's CSP
// must let the form's redirect go there), which receives the code; the CLI receives the token.
func TestLoginLoopbackInChromium(t *testing.T) {
	browsertest.Require(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("WARDEN_CREDENTIALS", "")
	ls := newLoginServer(t, "alice")
	b := browsertest.New(t)
	ls.signInChromium(b, "alice")

	var stderr bytes.Buffer
	open := func(target string) error {
		b.Navigate(target)
		if got := b.Text("h1"); got != "Sign in warden CLI on this computer?" {
			t.Errorf("the page's heading: %q\n%s", got, b.HTML())
		}
		if !strings.Contains(b.Text("main"), "alice") {
			t.Errorf("the page does not name alice:\n%s", b.HTML())
		}
		b.CheckAccessibility()
		b.ClickAndWait("#confirm")
		b.WaitFor(`document.body && document.body.innerText.includes("signed in")`)
		if !strings.HasPrefix(b.URL(), "http://127.0.0.1:") || !strings.Contains(b.URL(), "/callback?") {
			t.Errorf("the browser ended at %s, want the CLI's loopback", b.URL())
		}
		b.CheckConsole()
		return nil
	}
	// open runs on the test's goroutine: runLogin calls it before it waits for the answer.
	if err := runLogin(ls.ctx, &bytes.Buffer{}, &stderr, loginOptions{server: ls.url, open: open, timeout: time.Minute}); err != nil {
		t.Fatalf("warden login: %v\n%s", err, stderr.String())
	}
	if l := readCredentials(t).Servers[ls.url]; l == nil || l.User != "alice" || l.Login != "loopback" {
		t.Fatalf("stored %+v", l)
	}
}

// signInChromium gives Chromium a session of user (password and TOTP), as a sign-in would.
func (l *loginServer) signInChromium(b *browsertest.Browser, user string) {
	l.t.Helper()
	rec := httptest.NewRecorder()
	if _, err := l.srv.Sessions().Issue(l.ctx, rec, httptest.NewRequest(http.MethodGet, l.url+"/", nil), user,
		auth.MethodUse{Method: auth.MethodPassword}, auth.MethodUse{Method: auth.MethodTOTP}); err != nil {
		l.t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		httpOnly := true
		if _, err := chromedp.Call(b.Ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: l.url, Path: "/", HTTPOnly: &httpOnly}); err != nil {
			l.t.Fatal(err)
		}
	}
}

// The device flow's page in Chromium: warden login --device prints a code; the signed-in browser
// opens the link it printed, the code filled in, types a wrong one first (refused, the field
// marked invalid), then approves the right one; the CLI receives the token.
func TestLoginDeviceInChromium(t *testing.T) {
	browsertest.Require(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("WARDEN_CREDENTIALS", "")
	ls := newLoginServer(t, "bob")
	b := browsertest.New(t)
	ls.signInChromium(b, "bob")
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

	b.Navigate(ls.url + "/device?user_code=" + code)
	if got := b.Value("#user_code"); got != code {
		t.Fatalf("the code field holds %q, want %q", got, code)
	}
	b.CheckAccessibility()
	b.Fill("#user_code", "BBBB-BBBB")
	b.ClickAndWait("#approve")
	if msg := b.Text("#user_code-error"); !strings.Contains(msg, "no device login waits for this code") {
		t.Fatalf("a wrong code: %q", msg)
	}
	if v, _ := b.Attr("#user_code", "aria-invalid"); v != "true" {
		t.Errorf("the field is not marked invalid")
	}
	b.CheckAccessibility()
	b.Fill("#user_code", strings.ToLower(code))
	b.ClickAndWait("#approve")
	if h := b.Text("h1"); h != "warden CLI signed in" {
		t.Fatalf("after approving: %q\n%s", h, b.HTML())
	}
	b.CheckConsole()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("warden login --device: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("warden login --device did not finish")
	}
	if l := readCredentials(t).Servers[ls.url]; l == nil || l.User != "bob" || l.Login != "device" {
		t.Fatalf("stored %+v", l)
	}
}
