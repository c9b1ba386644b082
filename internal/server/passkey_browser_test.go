package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// In headless Chromium with its virtual authenticator (DevTools WebAuthn domain): alice enrols
// with a passkey on the enrolment page (the recovery codes shown), signs in with her password and
// the passkey, then, in a new session, with the passkey alone (usernameless).
func TestPasskeyPagesInChromium(t *testing.T) {
	b := browsertest.New(t)
	e := newSigninEnv(t, "required")
	origin := e.passkeysOn()
	auth, err := passkeytest.AddVirtualAuthenticator(b.Ctx)
	if err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
	link := strings.Replace(e.invite("alice"), e.url, origin, 1)

	b.Navigate(link)
	b.Fill("#password", alicePassword)
	b.Fill("#confirm", alicePassword)
	b.Submit("#password")
	b.WaitVisible("#passkey-register") // shown by passkey.js: Chromium supports WebAuthn
	b.CheckAccessibility()
	shot(b, "passkeys-enrol")
	b.Fill("#passkey-label", "virtual")
	b.Click("#passkey-register")
	b.WaitVisible("#done-title")
	if got := b.Count("li"); got < 10 {
		t.Fatalf("%d items on the page, want the ten recovery codes", got)
	}
	list, err := e.srv.Passkeys().List(e.ctx, "alice")
	if err != nil || len(list) != 1 || list[0].Spec.(*resource.PasskeySpec).Label != "virtual" || !list[0].Spec.(*resource.PasskeySpec).UserVerified {
		t.Fatalf("alice's passkeys: %v %v", list, err)
	}

	// Password, then the passkey.
	b.Navigate(origin + "/login")
	b.Fill("#user", "alice")
	b.Fill("#password", alicePassword)
	b.Submit("#password")
	b.WaitVisible("#passkey-use")
	b.CheckAccessibility()
	shot(b, "passkeys-second-factor")
	b.Click("#passkey-use")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(origin + "/account")
	b.WaitVisible("#home-title")
	if got := b.Text("#home-title"); got != "Hello, alice" {
		t.Fatalf("home: %q", got)
	}
	if got := b.Text(".facts"); !strings.Contains(got, "password, passkey") {
		t.Errorf("the session's methods: %q", got)
	}
	// The home page lists the passkey and offers another; this authenticator already holds one, so
	// it refuses (the exclude list), and says so.
	b.WaitVisible("#passkey-add")
	b.CheckAccessibility()
	if got := b.Text(".passkeys"); !strings.Contains(got, "virtual") {
		t.Errorf("home page's passkeys: %q", got)
	}
	b.Click("#passkey-add")
	b.WaitFor(`document.querySelector("[data-passkey-status]").textContent !== ""`)
	if got := b.Text("[data-passkey-status]"); !strings.Contains(got, "already holds") {
		t.Errorf("adding on the same authenticator: %q", got)
	}
	shot(b, "passkeys-home")

	// Signed out, the passkey alone.
	b.Submit(`form[action="/logout"] button`)
	b.WaitVisible("#passkey-signin")
	b.CheckAccessibility()
	shot(b, "passkeys-login")
	b.Click("#passkey-signin")
	b.WaitVisible("#signed-in-as") // signed in: on My access
	b.Navigate(origin + "/account")
	b.WaitVisible("#home-title")
	if got := b.Text(".facts"); !strings.Contains(got, "passkey") || strings.Contains(got, "password") {
		t.Errorf("the usernameless session's methods: %q", got)
	}
	creds, err := passkeytest.VirtualCredentials(b.Ctx, auth)
	if err != nil || len(creds) != 1 {
		t.Fatalf("the authenticator's credentials: %v %v", creds, err)
	}
	list, _ = e.srv.Passkeys().List(e.ctx, "alice")
	if got, want := list[0].Spec.(*resource.PasskeySpec).SignCount, uint32(creds[0].SignCount); got != want {
		t.Errorf("stored counter %d, the authenticator's %d", got, want)
	}
}

// shot saves a screenshot of the page as name.png in $WARDEN_TEST_SHOTS, when it is set (for eyes).
func shot(b *browsertest.Browser, name string) {
	dir := os.Getenv("WARDEN_TEST_SHOTS")
	if dir == "" {
		return
	}
	if path, err := b.Screenshot(name); err == nil {
		if png, err := os.ReadFile(path); err == nil {
			os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		}
	}
}
