package browsertest_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wardenhq/warden/internal/web/browsertest"
)

// site is a small site with a strict Content Security Policy, as warden's pages have.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	strict := func(w http.ResponseWriter) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Form</title></head><body><main>
<form id="f" method="post" action="/hello">
<label for="name">Name</label><input id="name" name="name" value="placeholder">
<button id="go" type="submit">Go</button>
</form><a id="link" href="/later">later</a></main></body></html>`)
	})
	mux.HandleFunc("POST /hello", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		w.WriteHeader(http.StatusUnauthorized) // a 4xx page is not a page error
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Hello</title></head><body><main><p id="out">Hello %s</p></main></body></html>`,
			html.EscapeString(r.PostFormValue("name")))
	})
	mux.HandleFunc("GET /later", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Later</title><script src="/later.js"></script></head><body><main><p id="late" hidden>shown by script</p></main></body></html>`)
	})
	mux.HandleFunc("GET /later.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.addEventListener("DOMContentLoaded", () => { setTimeout(() => { document.getElementById("late").hidden = false; }, 50); });`)
	})
	mux.HandleFunc("GET /throws", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Throws</title><script src="/throws.js"></script></head><body><p>x</p></body></html>`)
	})
	mux.HandleFunc("GET /throws.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `throw new Error("boom from the page");`)
	})
	mux.HandleFunc("GET /csp", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		// An inline script: the policy refuses it, and Chromium reports the violation.
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>CSP</title></head><body><p>x</p><script>document.title = "ran";</script></body></html>`)
	})
	mux.HandleFunc("GET /inaccessible", func(w http.ResponseWriter, r *http.Request) {
		strict(w)
		// No lang, no title, a field with no label, an image with no text: serious and critical.
		fmt.Fprint(w, `<!doctype html><html><head></head><body><main><form><input name="x"></form><img src="/nothing.png"></main></body></html>`)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestFormFlow(t *testing.T) {
	ts := site(t)
	b := browsertest.New(t)
	b.Navigate(ts.URL + "/")
	if got := b.Title(); got != "Form" {
		t.Fatalf("title = %q", got)
	}
	if got := b.Value("#name"); got != "placeholder" {
		t.Fatalf("value before Fill = %q", got)
	}
	b.Fill("#name", "Ada <Lovelace>")
	b.Submit("#f")
	b.WaitVisible("#out")
	if got := b.Text("#out"); got != "Hello Ada <Lovelace>" {
		t.Fatalf("text = %q", got)
	}
	if got := b.URL(); got != ts.URL+"/hello" {
		t.Fatalf("URL = %q", got)
	}
	// A page answered 401 logs "Failed to load resource" on the network: not a page error.
	if errs := b.TakeConsoleErrors(); len(errs) != 0 {
		t.Fatalf("console errors: %q", errs)
	}

	b.Navigate(ts.URL + "/")
	b.ClickAndWait("#link")
	b.WaitVisible("#late")
	if got := b.Text("#late"); got != "shown by script" {
		t.Fatalf("late text = %q", got)
	}
	if n := b.Count("p"); n != 1 {
		t.Fatalf("Count(p) = %d", n)
	}
	if got := strings.TrimSpace(string(b.Eval(`Promise.resolve(6*7)`))); got != "42" {
		t.Fatalf("Eval = %q", got)
	}
}

func TestConsoleErrorsCollected(t *testing.T) {
	ts := site(t)
	b := browsertest.New(t)

	errs := b.ExpectConsoleErrors(func() { b.Navigate(ts.URL + "/throws") })
	if len(errs) != 1 || !strings.Contains(errs[0], "boom from the page") || !strings.Contains(errs[0], "exception") {
		t.Fatalf("after /throws: %q", errs)
	}

	errs = b.ExpectConsoleErrors(func() { b.Navigate(ts.URL + "/csp") })
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "Content Security Policy") {
		t.Fatalf("after /csp: %q", errs)
	}
	if got := b.Title(); got == "ran" {
		t.Fatal("the inline script ran despite the policy")
	}
	if len(b.Console()) < 2 {
		t.Fatalf("Console() = %v", b.Console())
	}
}

// recorder stands in for the test a browser belongs to, to see what the harness reports.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	logs     []string
	failed   bool
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// A page error not taken by the test fails it when it ends, and the failure leaves a screenshot.
func TestUnexpectedErrorFailsWithScreenshot(t *testing.T) {
	ts := site(t)
	browsertest.Require(t)
	rec := &recorder{TB: t}
	b := browsertest.New(rec)
	b.Navigate(ts.URL + "/throws") // Navigate checks the console: the error is reported here
	rec.finish()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "boom from the page") {
		t.Fatalf("errors reported: %q", rec.errors)
	}
	var shot string
	for _, l := range rec.logs {
		if _, path, ok := strings.Cut(l, "at the failure: "); ok {
			shot = path
		}
	}
	if shot == "" {
		t.Fatalf("no screenshot logged: %q", rec.logs)
	}
	data, err := os.ReadFile(shot)
	if err != nil || len(data) < 8 || string(data[1:4]) != "PNG" {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(data), err)
	}
}

// A test that passes leaves no screenshot.
func TestNoScreenshotWhenPassing(t *testing.T) {
	ts := site(t)
	browsertest.Require(t)
	rec := &recorder{TB: t}
	b := browsertest.New(rec)
	b.Navigate(ts.URL + "/")
	rec.finish()
	if len(rec.errors) != 0 {
		t.Fatalf("errors: %q", rec.errors)
	}
	for _, l := range rec.logs {
		if strings.Contains(l, "screenshot") {
			t.Fatalf("screenshot of a passing test: %q", l)
		}
	}
}

func TestFind(t *testing.T) {
	t.Setenv(browsertest.EnvChromium, "/nonexistent/chromium")
	if _, err := browsertest.Find(); err == nil {
		t.Fatal("Find with a missing WARDEN_TEST_CHROMIUM: no error")
	}
	t.Setenv(browsertest.EnvChromium, "")
	t.Setenv("PATH", t.TempDir())
	if _, err := browsertest.Find(); err == nil || !strings.Contains(err.Error(), "no Chromium") {
		t.Fatalf("Find with an empty PATH: %v", err)
	}
}

func TestAccessibility(t *testing.T) {
	ts := site(t)
	b := browsertest.New(t)
	b.Navigate(ts.URL + "/")
	b.CheckAccessibility()

	rec := &recorder{TB: t}
	b2 := browsertest.New(rec)
	b2.Navigate(ts.URL + "/inaccessible")
	b2.CheckAccessibility()
	rec.finish()
	all := strings.Join(rec.errors, "\n")
	for _, rule := range []string{"label", "image-alt", "html-has-lang"} {
		if !strings.Contains(all, "axe "+rule+" ") {
			t.Errorf("no %s violation reported; reported:\n%s", rule, all)
		}
	}
}
