package passkey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/web"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// scriptSite serves /assets/passkey.js (as the pages do, under their Content-Security-Policy) and
// two pages of the script's markup, whose JSON endpoints run the service: registration for alice,
// and a usernameless sign-in. The ceremonies are bound to a cookie the pages set.
func scriptSite(t *testing.T, ln net.Listener, svc *passkey.Service) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", web.New().Assets())
	page := func(mode, begin, finish, button string, label bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			web.SetSecurityHeaders(w.Header())
			http.SetCookie(w, &http.Cookie{Name: "bind", Value: "b-" + mode, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			field := ""
			if label {
				field = `<label for="label">Name it</label><input id="label" name="label" maxlength="64">`
			}
			fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>%s</title><script src="/assets/passkey.js" defer></script></head>
<body><main><h1>%s</h1><div id="pk" data-passkey="%s" data-begin="%s" data-finish="%s" hidden>
<form><input type="hidden" name="csrf" value="tok">%s<button id="go" type="submit">%s</button></form>
<p id="status" role="alert" data-passkey-status hidden></p></div></main></body></html>`, button, button, mode, begin, finish, field, button)
		}
	}
	mux.HandleFunc("GET /register", page("register", "/register/begin", "/register/finish", "Add a passkey", true))
	mux.HandleFunc("GET /signin", page("login", "/signin/begin", "/signin/finish", "Sign in with a passkey", false))
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		web.SetSecurityHeaders(w.Header())
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Done</title></head><body><main><p id="who">%s</p></main></body></html>`, r.URL.Query().Get("user"))
	})
	answer := func(w http.ResponseWriter, v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error": %q}`, err.Error())
			return
		}
		b, _ := json.Marshal(v)
		w.Write(b)
	}
	binding := func(r *http.Request) (string, error) {
		if r.Header.Get("X-CSRF-Token") != "tok" {
			return "", fmt.Errorf("no CSRF token")
		}
		c, err := r.Cookie("bind")
		if err != nil {
			return "", err
		}
		return c.Value, nil
	}
	// The finish is the page's form, posted: its csrf field instead of the header.
	formBinding := func(r *http.Request) (string, error) {
		r.Body = http.MaxBytesReader(nil, r.Body, 2*passkey.MaxResponse)
		if r.PostFormValue("csrf") != "tok" {
			return "", fmt.Errorf("no CSRF token")
		}
		c, err := r.Cookie("bind")
		if err != nil {
			return "", err
		}
		return c.Value, nil
	}
	mux.HandleFunc("POST /register/begin", func(w http.ResponseWriter, r *http.Request) {
		b, err := binding(r)
		if err != nil {
			answer(w, nil, err)
			return
		}
		var req struct{ Label string }
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		json.Unmarshal(body, &req)
		opts, err := svc.BeginRegistration(r.Context(), "alice", b, req.Label)
		answer(w, opts, err)
	})
	mux.HandleFunc("POST /register/finish", func(w http.ResponseWriter, r *http.Request) {
		b, err := formBinding(r)
		if err == nil {
			var o *resource.Object
			if o, err = svc.FinishRegistration(r.Context(), nil, "alice", b, []byte(r.PostFormValue("credential"))); err == nil {
				web.SetSecurityHeaders(w.Header())
				fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Registered</title></head><body><main><p id="result">Registered %s.</p></main></body></html>`,
					html.EscapeString(o.Spec.(*resource.PasskeySpec).Label))
				return
			}
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
	})
	mux.HandleFunc("POST /signin/begin", func(w http.ResponseWriter, r *http.Request) {
		b, err := binding(r)
		if err != nil {
			answer(w, nil, err)
			return
		}
		opts, err := svc.BeginDiscover(r.Context(), b)
		answer(w, opts, err)
	})
	mux.HandleFunc("POST /signin/finish", func(w http.ResponseWriter, r *http.Request) {
		b, err := formBinding(r)
		if err == nil {
			var use *passkey.Use
			if use, err = svc.FinishDiscover(r.Context(), b, []byte(r.PostFormValue("credential"))); err == nil {
				http.Redirect(w, r, "/done?user="+use.User, http.StatusSeeOther)
				return
			}
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// TestScriptWithChromium registers a passkey through passkey.js in headless Chromium with its
// virtual authenticator, then signs in with it without a user name.
func TestScriptWithChromium(t *testing.T) {
	b := browsertest.New(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Create(ctx, resource.New(resource.KindUser, "alice")); err != nil {
		t.Fatal(err)
	}
	// The test server listens on 127.0.0.1; the browser reaches it as localhost, a host name a
	// relying party may have (and a secure context without TLS).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	svc, err := passkey.New(st, base)
	if err != nil {
		t.Fatal(err)
	}
	scriptSite(t, ln, svc)
	auth, err := passkeytest.AddVirtualAuthenticator(b.Ctx)
	if err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}

	b.Navigate(base + "/register")
	b.WaitVisible("#pk") // shown by the script: the browser supports WebAuthn
	b.Fill("#label", "virtual key")
	b.Click("#go")
	b.WaitVisible("#result")
	if got := b.Text("#result"); got != "Registered virtual key." {
		t.Fatalf("registration: %q", got)
	}
	list, err := svc.List(ctx, "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("alice's passkeys: %d %v", len(list), err)
	}
	spec := list[0].Spec.(*resource.PasskeySpec)
	if !spec.UserVerified || spec.Label != "virtual key" {
		t.Errorf("stored: %+v", spec)
	}
	// A second registration on the same authenticator is refused by it (the exclude list).
	b.Navigate(base + "/register")
	b.WaitVisible("#pk")
	b.Click("#go")
	b.WaitFor(`document.getElementById("status").textContent !== ""`)
	if got := b.Text("#status"); !strings.Contains(got, "already holds") {
		t.Errorf("second registration on the same authenticator: %q", got)
	}

	b.Navigate(base + "/signin")
	b.WaitVisible("#pk")
	b.Click("#go")
	b.WaitVisible("#who")
	if got := b.Text("#who"); got != "alice" {
		t.Fatalf("signed in as %q", got)
	}
	list, _ = svc.List(ctx, "alice")
	if used := list[0].Spec.(*resource.PasskeySpec); used.LastUsed.IsZero() {
		t.Errorf("last used not recorded: %+v", used)
	}
	creds, err := passkeytest.VirtualCredentials(b.Ctx, auth)
	if err != nil || len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the virtual authenticator's credentials: %+v %v", creds, err)
	}
	if got := uint32(creds[0].SignCount); got != list[0].Spec.(*resource.PasskeySpec).SignCount {
		t.Errorf("counter: authenticator %d, stored %d", got, list[0].Spec.(*resource.PasskeySpec).SignCount)
	}
	entries, _ := st.List(ctx, resource.KindAuditEntry, store.ListOptions{})
	var acts []string
	for _, e := range entries {
		if a := e.Spec.(*resource.AuditEntrySpec).Action; strings.HasPrefix(a, "passkey.") {
			acts = append(acts, a)
		}
	}
	if strings.Join(acts, " ") != "passkey.register passkey.use" {
		t.Errorf("audit: %v", acts)
	}
}
