package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The passkey script is served as JavaScript (nosniff would refuse it otherwise) and holds no
// eval or inline-script tricks the Content-Security-Policy would refuse.
func TestPasskeyScriptServed(t *testing.T) {
	p := New()
	rec := httptest.NewRecorder()
	p.Assets().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/assets/passkey.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /assets/passkey.js: %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	for _, bad := range []string{"eval(", "new Function", "innerHTML"} {
		if strings.Contains(body, bad) {
			t.Errorf("passkey.js uses %s", bad)
		}
	}
	for _, want := range []string{"navigator.credentials.create", "navigator.credentials.get", "X-CSRF-Token"} {
		if !strings.Contains(body, want) {
			t.Errorf("passkey.js lacks %s", want)
		}
	}
}

// The passkey blocks of the enrolment and second factor pages: hidden until the script shows them,
// posting to the passkey routes with the page's CSRF token; the second factor's only for a user
// with a passkey, in the mode of the page (sign-in or step-up).
func TestPasskeyBlocks(t *testing.T) {
	p := New()
	get := func(name string, data map[string]any) string {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		p.Render(rec, r.WithContext(WithCSRF(r.Context(), "tok")), 200, name, data)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if b := get("enroll_factor", map[string]any{"Action": "/enroll/abc", "Errors": map[string]string{}, "Passkey": false}); strings.Contains(b, "data-passkey") {
		t.Error("a passkey block with passkeys off")
	}
	b := get("enroll_factor", map[string]any{"Action": "/enroll/abc", "Errors": map[string]string{}, "Passkey": true})
	for _, want := range []string{`<script src="/assets/passkey.js" defer></script>`, `data-passkey="register"`, ` hidden>`,
		`name="enrolment" value="/enroll/abc"`, `name="csrf" value="tok"`, `data-finish="/enroll/passkey/finish"`} {
		if !strings.Contains(b, want) {
			t.Errorf("enroll_factor lacks %s", want)
		}
	}
	b = get("second_factor", map[string]any{"Passkey": true, "Code": false, "Next": "/x"})
	for _, want := range []string{`data-passkey="login"`, `name="mode" value="2fa"`, `name="next" value="/x"`, "<noscript>"} {
		if !strings.Contains(b, want) {
			t.Errorf("second_factor lacks %s", want)
		}
	}
	b = get("second_factor", map[string]any{"Passkey": true, "Code": true, "StepUp": true})
	if !strings.Contains(b, `name="mode" value="step-up"`) || strings.Contains(b, "<noscript>") {
		t.Errorf("step-up page: %s", b)
	}
	if b = get("second_factor", map[string]any{"Passkey": false, "Code": true}); strings.Contains(b, "data-passkey") {
		t.Error("a passkey block for a user without passkeys")
	}
}
