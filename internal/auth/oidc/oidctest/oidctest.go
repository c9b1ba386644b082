// Package oidctest runs a real OpenID Connect provider for tests that sign in through warden's OIDC
// connectors end to end (the server's routes, the browser tests): the npm package oidc-provider
// (9.x), which no one here wrote, run with node from provider.mjs (embedded). The package is
// installed outside the repository, by .ci/run in CI:
//
//	npm install --prefix "$HOME/.cache/warden-test-npm" oidc-provider@9
//
// WARDEN_TEST_NPM names that prefix (default $HOME/.cache/warden-test-npm). Without node or the
// package, Start skips the test, except under CI=true, where it fails it.
//
// A reverse proxy in the test process is the issuer URL, in front of the provider: Down makes it
// answer 503 to everything, as a provider that cannot be reached.
package oidctest

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/wardenhq/warden/internal/testenv"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

//go:embed provider.mjs
var script []byte

// Client is a client registered at the provider.
type Client struct {
	ID, Secret, Redirect string
}

// Provider is a running oidc-provider, reached through Issuer.
type Provider struct {
	// Issuer is the provider's issuer URL (http on 127.0.0.1).
	Issuer string

	accounts string
	down     atomic.Bool
	mu       sync.Mutex
	stderr   strings.Builder
}

const startupTimeout = 60 * time.Second

type missingError struct{ what string }

func (e *missingError) Error() string { return e.what }

// modulePath finds oidc-provider 9.x under WARDEN_TEST_NPM (or its default).
func modulePath() (string, error) {
	prefix := os.Getenv("WARDEN_TEST_NPM")
	if prefix == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", &missingError{"no WARDEN_TEST_NPM and no home directory"}
		}
		prefix = filepath.Join(home, ".cache", "warden-test-npm")
	}
	dir := filepath.Join(prefix, "node_modules", "oidc-provider")
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", &missingError{fmt.Sprintf("oidc-provider is not installed under %s (npm install --prefix %q oidc-provider@9)", prefix, prefix)}
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || !strings.HasPrefix(pkg.Version, "9.") {
		return "", fmt.Errorf("%s holds oidc-provider %q; the tests need 9.x", dir, pkg.Version)
	}
	return dir, nil
}

// Start starts a provider with clients registered, stopped when t ends. It skips t when node or
// oidc-provider is missing (fails it under CI=true).
func Start(t testing.TB, clients ...Client) *Provider {
	t.Helper()
	p, err := start(clients)
	var missing *missingError
	switch {
	case errors.As(err, &missing):
		testenv.Need(t, fmt.Errorf("no OpenID Connect provider to test against: %w", err))
	case err != nil:
		t.Fatalf("starting the OpenID Connect provider: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the OpenID Connect provider's output:\n%s", p.output())
		}
	})
	t.Cleanup(p.stop)
	return p
}

// Listen reserves a loopback address for a server whose URL must be known before the provider
// starts (the redirect URL registered): the caller serves on the listener it returns.
func Listen(t testing.TB) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, "http://" + ln.Addr().String()
}

func (p *Provider) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct{ p *Provider }

func (l lockedWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.stderr.Len() < 1<<20 {
		l.p.stderr.Write(b)
	}
	return len(b), nil
}

var stopFuncs sync.Map // *Provider -> func()

func (p *Provider) stop() {
	if f, ok := stopFuncs.LoadAndDelete(p); ok {
		f.(func())()
	}
}

func start(clients []Client) (*Provider, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, &missingError{"node is not installed"}
	}
	module, err := modulePath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "warden-oidctest-")
	if err != nil {
		return nil, err
	}
	scriptPath := filepath.Join(dir, "provider.mjs")
	if err := os.WriteFile(scriptPath, script, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Provider{accounts: filepath.Join(dir, "accounts.json")}
	if err := os.WriteFile(p.accounts, []byte("{}"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.Issuer = "http://" + ln.Addr().String()

	list := make([]map[string]string, 0, len(clients))
	for _, c := range clients {
		list = append(list, map[string]string{"id": c.ID, "secret": c.Secret, "redirect": c.Redirect})
	}
	cl, _ := json.Marshal(list)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, scriptPath)
	cmd.Env = append(os.Environ(), "OIDC_PROVIDER_MODULE="+module, "ISSUER="+p.Issuer,
		"ACCOUNTS_FILE="+p.accounts, "CLIENTS="+string(cl))
	cmd.Stderr = lockedWriter{p}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		ln.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		ln.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stopNode := func() {
		cancel()
		<-exited
		ln.Close()
		os.RemoveAll(dir)
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "listening" {
				port <- f[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	var backend string
	timer := time.NewTimer(startupTimeout)
	defer timer.Stop()
	select {
	case pt := <-port:
		backend = "http://127.0.0.1:" + pt
	case <-exited:
		stopNode()
		return nil, fmt.Errorf("node provider.mjs ended before serving: %s", p.output())
	case <-timer.C:
		stopNode()
		return nil, fmt.Errorf("node provider.mjs did not serve within %s: %s", startupTimeout, p.output())
	}
	target, _ := url.Parse(backend)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the provider builds its URLs from the issuer's host
		},
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	stopFuncs.Store(p, func() {
		srv.Close()
		stopNode()
	})
	return p, nil
}

// Down makes the provider unreachable (every request answered 503) while down is true.
func (p *Provider) Down(down bool) { p.down.Store(down) }

// SetAccounts replaces the provider's accounts: id -> claims (the key "_amr", a list of strings,
// is the authentication methods the provider says it used for the account: the ID token's amr).
func (p *Provider) SetAccounts(t testing.TB, accounts map[string]map[string]any) {
	t.Helper()
	b, err := json.Marshal(accounts)
	if err != nil {
		t.Fatal(err)
	}
	tmp := p.accounts + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p.accounts); err != nil {
		t.Fatal(err)
	}
}

var (
	formRE  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input[^>]*>`)
	attrRE  = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// Login plays the person at the provider with browser (its cookie jar holds warden's cookies
// too): from resp, the provider's sign-in page that a redirect from warden led to, it fills in the
// form of the development interactions as login and submits it, following redirects until one
// leaves the provider. It returns the first answer from outside the provider (warden's callback,
// followed as browser follows redirects).
func (p *Provider) Login(t testing.TB, browser *http.Client, resp *http.Response, login string) *http.Response {
	t.Helper()
	for step := 0; ; step++ {
		if !strings.HasPrefix(resp.Request.URL.String(), p.Issuer) || (resp.StatusCode >= 300 && resp.StatusCode < 400) {
			// Left the provider, or a redirect browser did not follow (a test stopping at the
			// callback).
			return resp
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		m := formRE.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || step == 3 {
			t.Fatalf("the provider answered %s at %s without a form to fill (step %d):\n%s", resp.Status, resp.Request.URL, step, body)
		}
		form := url.Values{}
		for _, in := range inputRE.FindAll(m[2], -1) {
			attrs := map[string]string{}
			for _, a := range attrRE.FindAllSubmatch(in, -1) {
				attrs[string(a[1])] = html.UnescapeString(string(a[2]))
			}
			switch attrs["name"] {
			case "login":
				form.Set("login", login)
			case "password":
				form.Set("password", "any")
			case "":
			default:
				form.Set(attrs["name"], attrs["value"])
			}
		}
		action, err := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		resp, err = browser.PostForm(action.String(), form)
		if err != nil {
			t.Fatalf("submitting the provider's sign-in form: %v", err)
		}
	}
}

// Browser is an http.Client with a cookie jar that follows redirects (at most 20), as a browser.
func Browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}
