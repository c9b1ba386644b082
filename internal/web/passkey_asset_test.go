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
