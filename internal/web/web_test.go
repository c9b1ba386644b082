package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func render(t *testing.T, p *Pages, r *http.Request, status int, name string, data any) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Render(rec, r, status, name, data)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRenderCarriesSecurityHeaders(t *testing.T) {
	p := New()
	res := render(t, p, httptest.NewRequest("GET", "/x", nil), http.StatusNotFound, "error", ErrorData{Title: "Not found", Message: "nothing here"})
	if res.StatusCode != 404 {
		t.Fatalf("status %d", res.StatusCode)
	}
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		"Content-Type": "text/html; charset=utf-8", "X-Frame-Options": "DENY",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	b := body(t, res)
	if !strings.Contains(b, "nothing here") || !strings.Contains(b, "<title>Not found · warden</title>") {
		t.Errorf("page:\n%s", b)
	}
	if hasInlineScript(b) || strings.Contains(b, "style=") {
		t.Errorf("inline script or style in page:\n%s", b)
	}
}

// hasInlineScript says whether page has a <script> tag that loads no asset of warden's (its code
// would be inline).
func hasInlineScript(page string) bool {
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(page, -1) {
		if !regexp.MustCompile(`\ssrc="/assets/[a-z0-9-]+\.js"`).MatchString(tag) {
			return true
		}
	}
	return false
}

func TestRenderEscapes(t *testing.T) {
	p := New()
	res := render(t, p, httptest.NewRequest("GET", "/", nil), 400, "error", ErrorData{Title: "Bad", Message: `<script>alert(1)</script>`, Back: "javascript:alert(1)"})
	b := body(t, res)
	if strings.Contains(b, "<script>alert") {
		t.Fatalf("message not escaped:\n%s", b)
	}
	if strings.Contains(b, `href="javascript:`) {
		t.Fatalf("javascript: URL not filtered:\n%s", b)
	}
}

func TestLayoutShowsViewerAndSignOut(t *testing.T) {
	p := New()
	r := httptest.NewRequest("GET", "/", nil)
	b := body(t, render(t, p, r, 200, "error", ErrorData{Title: "x"}))
	if strings.Contains(b, "Sign out") {
		t.Fatalf("sign-out shown to nobody:\n%s", b)
	}
	r = r.WithContext(WithViewer(r.Context(), Viewer{User: "alice", CSRF: "tok123"}))
	b = body(t, render(t, p, r, 200, "error", ErrorData{Title: "x"}))
	for _, want := range []string{"Signed in as <strong>alice</strong>", `action="/logout"`, `name="csrf" value="tok123"`} {
		if !strings.Contains(b, want) {
			t.Errorf("page lacks %q:\n%s", want, b)
		}
	}
}

func TestWithCSRFAndFormAction(t *testing.T) {
	fsys := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{block "content" .}}{{end}}{{define "csrf"}}<input name="csrf" value="{{.CSRF}}">{{end}}`)},
		"templates/form.html":   {Data: []byte(`{{define "content"}}<form>{{template "csrf" .}}</form>{{end}}`)},
	}
	pages, err := parsePages(fsys)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pages{name: Name, log: slog.Default(), pages: pages}
	r := httptest.NewRequest("GET", "/", nil)
	ctx := WithViewer(r.Context(), Viewer{User: "a", CSRF: "session-token"})
	ctx = WithCSRF(ctx, "flow-token")
	ctx = WithFormAction(ctx, "http://127.0.0.1:4000", "bad; script-src *")
	res := render(t, p, r.WithContext(ctx), 200, "form", nil)
	if b := body(t, res); !strings.Contains(b, `value="flow-token"`) {
		t.Fatalf("flow token not used: %s", b)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://127.0.0.1:4000;") || strings.Contains(csp, "script-src *") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestUnknownPageAndBrokenTemplate(t *testing.T) {
	p := New()
	res := render(t, p, httptest.NewRequest("GET", "/", nil), 200, "no-such-page", nil)
	if res.StatusCode != 500 {
		t.Fatalf("status %d", res.StatusCode)
	}
	_, err := parsePages(fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{block "content" .}}{{end}}`)},
		"templates/x.html":      {Data: []byte(`{{define "content"}}{{.Data.Missing}}{{end}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = parsePages(fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{block "content" .}}{{end}}`)},
		"templates/x.html":      {Data: []byte(`no content here`)},
	})
	if err == nil {
		t.Fatal("a page without content parsed")
	}
	// A failing page sends no half page.
	pages, _ := parsePages(fstest.MapFS{
		"templates/layout.html": {Data: []byte(`start{{block "content" .}}{{end}}`)},
		"templates/x.html":      {Data: []byte(`{{define "content"}}{{.Data.Missing}}{{end}}`)},
	})
	var logs bytes.Buffer
	p = &Pages{name: Name, log: slog.New(slog.NewTextHandler(&logs, nil)), pages: pages}
	rec := httptest.NewRecorder()
	p.Render(rec, httptest.NewRequest("GET", "/", nil), 200, "x", 42)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "start") || !strings.Contains(logs.String(), "render failed") {
		t.Fatalf("code %d body %q logs %q", rec.Code, rec.Body.String(), logs.String())
	}
}

func TestAssets(t *testing.T) {
	p := New()
	srv := httptest.NewServer(http.StripPrefix("", p.Assets()))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/assets/warden.css")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, res)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(b, ":focus-visible") {
		t.Fatalf("status %d type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("ETag") == "" {
		t.Fatalf("headers %v", res.Header)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/assets/warden.css", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", res.StatusCode)
	}
	for _, path := range []string{"/assets/", "/assets/nope.css", "/assets/../web.go"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}

// Every input of every page has a label: checked on the templates' text, for the pages whose
// inputs are visible (hidden inputs need none).
func TestEveryInputHasALabel(t *testing.T) {
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/" + f.Name())
		s := string(b)
		for _, chunk := range strings.Split(s, "<input")[1:] {
			tag := chunk[:strings.Index(chunk, ">")]
			if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, `type="submit"`) || strings.Contains(tag, " hidden ") {
				continue
			}
			i := strings.Index(tag, `id="`)
			if i < 0 {
				t.Errorf("%s: an input without id: <input%s>", f.Name(), tag)
				continue
			}
			id := tag[i+4:]
			id = id[:strings.Index(id, `"`)]
			if !strings.Contains(s, `for="`+id+`"`) {
				t.Errorf("%s: input %q has no label", f.Name(), id)
			}
		}
	}
}
