// Package web renders warden's server-side pages: the sign-in pages first, then the whole web UI.
//
// Every page is an html/template file in templates/ (embedded), one file per page, all drawn on one
// layout (templates/layout.html). A page file defines the blocks "title" (optional) and "content";
// partials shared by pages are defined in layout.html ("csrf", "field-error"). Assets (CSS, and the
// few scripts that need one, such as WebAuthn) live in assets/ and are served at /assets/.
//
// Inside a page, the template's dot is a View: .Data is what the handler gave Render, .Viewer the
// signed-in person (nil when there is none), .CSRF the token forms carry (hidden field "csrf"), .Name
// the product's name and .Status the HTTP status.
//
// Every rendered page carries the security headers (SetSecurityHeaders): a Content-Security-Policy
// that allows no inline script and no framing and lets forms post to warden only,
// X-Content-Type-Options nosniff, Referrer-Policy no-referrer (enrolment links hold a secret in their
// path) and Cache-Control no-store (pages show personal data and one-time secrets). No page needs
// JavaScript, except WebAuthn (passkeys), whose script is an asset.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Name is the product's name, shown in every page's header and title.
const Name = "warden"

// Pages renders the embedded templates and serves the embedded assets.
type Pages struct {
	name   string
	log    *slog.Logger
	pages  map[string]*template.Template
	assets http.Handler
}

// Option configures Pages.
type Option func(*Pages)

// WithLogger sets where rendering failures are logged (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Pages) { p.log = l } }

// WithName sets the name shown in the header and titles (default: Name).
func WithName(name string) Option { return func(p *Pages) { p.name = name } }

// New parses every template (it panics when one does not parse: they are embedded, so that is a
// programming error caught by any test).
func New(opts ...Option) *Pages {
	p := &Pages{name: Name, log: slog.Default()}
	for _, o := range opts {
		o(p)
	}
	pages, err := parsePages(templateFS)
	if err != nil {
		panic(err)
	}
	p.pages = pages
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	p.assets = newAssetHandler(sub)
	return p
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	// hasPrefix reports whether s begins with prefix.
	"hasPrefix": strings.HasPrefix,
	// dict builds a map from key, value pairs, to pass several values to a partial.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	// when formats a time for people, in UTC.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// time is a <time> element: UTC in the text (what a browser without script shows) and as the
	// title on hover; assets/ui.js rewrites the text in the browser's time zone.
	"time": timeElement,
	// countdown is a <time> element that assets/ui.js counts down to t every second ("1h 04m 09s
	// left"), with the end's UTC time on hover.
	"countdown": countdownElement,
	// duration formats a duration for people: "1h30m", "45m", "2d".
	"duration": FormatDuration,
	// plural is "1 thing" or "n things".
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	},
}

// timeElement renders t as <time datetime="RFC 3339" title="UTC" data-local>UTC</time>.
func timeElement(t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	u := t.UTC()
	text := u.Format("2006-01-02 15:04 UTC")
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" title="` + text + `" data-local>` + text + `</time>`)
}

// countdownElement renders the end t as a countdown <time>, which reads "until <UTC time>" without
// script.
func countdownElement(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	text := u.Format("2006-01-02 15:04 UTC")
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" title="` + text + `" data-countdown>until ` + text + `</time>`)
}

// FormatDuration is d for people: days, hours and minutes, the zero units left out ("1d2h",
// "1h30m", "45m"); under a minute, seconds.
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}

// parsePages parses layout.html once and every other file on a clone of it: each page is its own
// template set, so every page may define "title" and "content".
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if base.Lookup("content") == nil {
		return nil, fmt.Errorf("web: layout.html has no \"content\" block")
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		clone := template.Must(base.Clone())
		layoutContent := clone.Lookup("content").Tree
		t, err := clone.ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", f, err)
		}
		if c := t.Lookup("content"); c == nil || c.Tree == layoutContent {
			return nil, fmt.Errorf("web: %s defines no \"content\"", f)
		}
		pages[name] = t
	}
	return pages, nil
}

// Has says whether a page of that name exists.
func (p *Pages) Has(name string) bool { _, ok := p.pages[name]; return ok }

// Viewer is the signed-in person a page is shown to.
type Viewer struct {
	User string
	// CSRF is the token of the person's session, carried by every form (the sign-out form of the
	// header among them).
	CSRF string
	// Admin: the person is an administrator (the navigation shows Audit and Administration).
	Admin bool
	// Section is the navigation entry the page belongs to (one of the Section constants), marked
	// aria-current in the navigation.
	Section string
}

// The sections of the navigation, as Viewer.Section names them.
const (
	SectionAccess  = "access"  // My access (/)
	SectionRequest = "request" // Request access (/request) and the request pages
	SectionReviews = "reviews" // Review inbox (/reviews)
	SectionLists   = "lists"   // Access lists (/lists)
	SectionAudit   = "audit"   // Audit (/audit), administrators
	SectionAdmin   = "admin"   // Administration (/admin) and the guided integration, administrators
	SectionAccount = "account" // Your account (/account): session, passkeys
)

// View is the dot of every template.
type View struct {
	Name   string
	Status int
	Viewer *Viewer
	// CSRF is the token forms carry: the one WithCSRF set, else the viewer's.
	CSRF string
	Data any
}

type viewerKey struct{}
type csrfKey struct{}
type formActionKey struct{}

// WithViewer records the signed-in person in ctx, for the layout (the server's session
// middleware calls it).
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, &v)
}

// ViewerFrom is the signed-in person WithViewer recorded, or nil.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// WithCSRF sets the token the forms of the page carry, for pages shown before a session exists
// (a flow-bound token): it takes precedence over the viewer's.
func WithCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// WithFormAction lets the page rendered with ctx post a form, or follow a form's redirect, to
// sources other than warden itself (such as the CLI's loopback address): Chromium applies
// form-action to the redirects that follow a form's submission.
func WithFormAction(ctx context.Context, sources ...string) context.Context {
	prev, _ := ctx.Value(formActionKey{}).([]string)
	return context.WithValue(ctx, formActionKey{}, append(append([]string(nil), prev...), sources...))
}

// ContentSecurityPolicy is the policy of every page; extra form-action sources are appended.
func ContentSecurityPolicy(formAction ...string) string {
	fa := "'self'"
	for _, s := range formAction {
		if s == "" || strings.ContainsAny(s, ";,\r\n") {
			continue
		}
		fa += " " + s
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; form-action " + fa + "; frame-ancestors 'none'"
}

// SetSecurityHeaders sets the headers every page and every answer of the sign-in routes carry
// (redirects included).
func SetSecurityHeaders(h http.Header, formAction ...string) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy(formAction...))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// Render writes page name with data and status, the security headers set. An unknown page, or a
// page that fails to render, is logged and answered by a plain 500 (rendering happens into a buffer,
// so a failure never sends half a page).
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	ctx := r.Context()
	fa, _ := ctx.Value(formActionKey{}).([]string)
	SetSecurityHeaders(w.Header(), fa...)
	t, ok := p.pages[name]
	if !ok {
		p.log.Error("web: no such page", "page", name, "path", r.URL.Path)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := View{Name: p.name, Status: status, Viewer: ViewerFrom(ctx), Data: data}
	if v.Viewer != nil {
		v.CSRF = v.Viewer.CSRF
	}
	if tok, ok := ctx.Value(csrfKey{}).(string); ok && tok != "" {
		v.CSRF = tok
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		p.log.Error("web: render failed", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Title   string // short: "Not found"; default: the status text
	Message string // what happened and what to do, for people
	// Back is a local path offered as the way on (default "/").
	Back string
}

// Error renders the error page with status and message (the message is shown as text).
func (p *Pages) Error(w http.ResponseWriter, r *http.Request, status int, message string) {
	p.Render(w, r, status, "error", ErrorData{Title: http.StatusText(status), Message: message, Back: "/"})
}

// Assets serves the embedded assets (mount it at /assets/: it strips that prefix).
func (p *Pages) Assets() http.Handler { return p.assets }

// newAssetHandler serves fsys with an ETag per file (its content's hash) and revalidation, so a
// new release's CSS is never stale.
func newAssetHandler(fsys fs.FS) http.Handler {
	etags := map[string]string{}
	fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags["/"+name] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	files := http.StripPrefix("/assets", http.FileServer(http.FS(fsys)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/assets")
		etag, ok := etags[name]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r) // no directory listings, nothing but the files
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		files.ServeHTTP(w, r)
	})
}
