package main

import (
	"bytes"
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

	// A session for alice, its cookie given to Chromium.
	rec := httptest.NewRecorder()
	if _, err := ls.srv.Sessions().Issue(ls.ctx, rec, httptest.NewRequest(http.MethodGet, ls.url+"/", nil), "alice",
		auth.MethodUse{Method: auth.MethodPassword}, auth.MethodUse{Method: auth.MethodTOTP}); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		httpOnly := true
		if _, err := chromedp.Call(b.Ctx, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: ls.url, Path: "/", HTTPOnly: &httpOnly}); err != nil {
			t.Fatal(err)
		}
	}

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
