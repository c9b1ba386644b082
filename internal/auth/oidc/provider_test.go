package oidc_test

// The tests sign in against a real OpenID Connect provider that no one here wrote: the npm package
// oidc-provider (9.x), run with node from testdata/provider.mjs. The package is installed outside
// the repository, by .ci/run in CI:
//
//	npm install --prefix "$HOME/.cache/warden-test-npm" oidc-provider@9
//
// WARDEN_TEST_NPM names that prefix (default $HOME/.cache/warden-test-npm). Without node or the
// package the tests that need the provider are skipped, except under CI=true, where they fail.
//
// A reverse proxy in the test process stands in front of the provider and is its issuer URL: it
// passes everything through, except that a test may rewrite the token endpoint's answer (another
// client's token, a token signed with another key) as an attacker between warden and the provider
// could not, to see that the connector refuses it.

import (
	"bufio"
	"bytes"
	"context"
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
	"testing"
	"time"
)

// Clients registered at the provider.
const (
	clientID       = "warden"
	otherClientID  = "other-app"
	clientSecret   = "s3cr3t-warden-client"
	otherSecret    = "other-app-secret"
	redirectURL    = "https://warden.example.com/v1/auth/oidc/okta/callback"
	otherRedirect  = "https://other.example.com/callback"
	secretEnv      = "WARDEN_TEST_OIDC_SECRET"
	providerMajor  = "9."
	startupTimeout = 60 * time.Second
)

// provider is the running oidc-provider and the proxy in front of it.
type provider struct {
	issuer   string
	accounts string // the accounts file

	mu     sync.Mutex
	tamper func(resp map[string]any) // rewrites the next token response; nil: none
	stderr bytes.Buffer
}

var (
	shared     *provider
	sharedErr  error
	sharedOnce sync.Once
	stopShared func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if stopShared != nil {
		stopShared()
	}
	os.Exit(code)
}

// needProvider returns the shared provider, starting it at the first call; it skips the test when
// node or oidc-provider is missing (and fails it under CI=true).
func needProvider(t *testing.T) *provider {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = startProvider() })
	var missing *missingError
	switch {
	case errors.As(sharedErr, &missing):
		testenv.Need(t, fmt.Errorf("no OpenID Connect provider to test against: %w", sharedErr))
	case sharedErr != nil:
		t.Fatalf("starting the OpenID Connect provider: %v", sharedErr)
	}
	t.Cleanup(func() {
		shared.setTamper(nil)
		if t.Failed() {
			shared.mu.Lock()
			t.Logf("provider's output:\n%s", shared.stderr.String())
			shared.mu.Unlock()
		}
	})
	return shared
}

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
	if err := json.Unmarshal(b, &pkg); err != nil || !strings.HasPrefix(pkg.Version, providerMajor) {
		return "", fmt.Errorf("%s holds oidc-provider %q; the tests need 9.x", dir, pkg.Version)
	}
	return dir, nil
}

func startProvider() (*provider, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, &missingError{"node is not installed"}
	}
	module, err := modulePath()
	if err != nil {
		return nil, err
	}
	script, err := filepath.Abs(filepath.Join("testdata", "provider.mjs"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "warden-oidc-test-")
	if err != nil {
		return nil, err
	}
	p := &provider{accounts: filepath.Join(dir, "accounts.json")}
	if err := os.WriteFile(p.accounts, []byte("{}"), 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.issuer = "http://" + ln.Addr().String()

	clients, _ := json.Marshal([]map[string]string{
		{"id": clientID, "secret": clientSecret, "redirect": redirectURL},
		{"id": otherClientID, "secret": otherSecret, "redirect": otherRedirect},
	})
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "OIDC_PROVIDER_MODULE="+module, "ISSUER="+p.issuer,
		"ACCOUNTS_FILE="+p.accounts, "CLIENTS="+string(clients))
	cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cancel()
		<-exited
		ln.Close()
		os.RemoveAll(dir)
	}

	// Wait for "listening <port>" (or the process's end, or the timeout).
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
	select {
	case pt := <-port:
		backend = "http://127.0.0.1:" + pt
	case <-exited:
		stop()
		return nil, fmt.Errorf("node %s ended before serving: %s", script, p.stderrText())
	case <-time.After(startupTimeout):
		stop()
		return nil, fmt.Errorf("node %s did not serve within %s: %s", script, startupTimeout, p.stderrText())
	}
	target, _ := url.Parse(backend)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the provider builds its URLs from the issuer's host
		},
		ModifyResponse: p.rewriteToken,
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stopShared = func() {
		srv.Close()
		stop()
	}
	return p, nil
}

func (p *provider) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// setTamper makes the proxy rewrite the token endpoint's next answers with f (nil: stop).
func (p *provider) setTamper(f func(resp map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

func (p *provider) rewriteToken(resp *http.Response) error {
	p.mu.Lock()
	f := p.tamper
	p.mu.Unlock()
	if f == nil || resp.Request.URL.Path != "/token" || resp.StatusCode != http.StatusOK {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return err
	}
	f(body)
	b, _ = json.Marshal(body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
	return nil
}

// setAccounts replaces the provider's accounts: id -> claims.
func (p *provider) setAccounts(t *testing.T, accounts map[string]map[string]any) {
	t.Helper()
	b, err := json.Marshal(accounts)
	if err != nil {
		t.Fatal(err)
	}
	// Written whole and renamed, so the provider never reads half a file.
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

// authorize plays the person's browser: it opens authURL, signs in as login in the form the
// provider's development interactions render, and returns the query of the redirect to redirect
// (the callback warden would receive), without following it.
func (p *provider) authorize(t *testing.T, authURL, login, redirect string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirect) {
				callback = req.URL
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return errors.New("more than 10 redirects")
			}
			return nil
		}}
	resp, err := browser.Get(authURL)
	for step := 0; ; step++ {
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if callback != nil {
			return callback.Query()
		}
		m := formRE.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || step == 3 {
			t.Fatalf("the provider answered %s without a form to fill (step %d):\n%s", resp.Status, step, body)
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
	}
}
