package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/auth/clilogin"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/config"
)

// ---- stored credentials ----

// credentialsFile is where `warden login` keeps its tokens: os.UserConfigDir()/warden/credentials.json
// (mode 0600, its directory 0700), one entry per server URL, so that several servers sit side by
// side. Default is the server of the latest login: commands without --addr or WARDEN_ADDR talk to it.
type credentialsFile struct {
	Default string                  `json:"default,omitempty"`
	Servers map[string]*storedLogin `json:"servers"`
}

// storedLogin is one server's token, as `warden login` received it.
type storedLogin struct {
	Token   string    `json:"token"`
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires,omitzero"`
	Login   string    `json:"login,omitempty"`
	Saved   time.Time `json:"saved"`
}

// credentialsPath is the credentials file's path (WARDEN_CREDENTIALS overrides it).
func credentialsPath() (string, error) {
	if p := os.Getenv("WARDEN_CREDENTIALS"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the user's config directory for warden's credentials: %w", err)
	}
	return filepath.Join(dir, "warden", "credentials.json"), nil
}

// serverKey is how a server URL is written as a key: as the client writes it (scheme added,
// trailing slash dropped).
func serverKey(addr string) string { return client.New(addr, "").Addr }

func loadCredentials() (*credentialsFile, string, error) {
	path, err := credentialsPath()
	if err != nil {
		return nil, "", err
	}
	c := &credentialsFile{Servers: map[string]*storedLogin{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("reading warden's credentials: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, path, fmt.Errorf("%s: %w (delete it and run warden login again)", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]*storedLogin{}
	}
	return c, path, nil
}

// save writes the file whole through a temporary file (0600) renamed over it, its directory 0700.
func (c *credentialsFile) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	os.Chmod(filepath.Dir(path), 0o700)
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*.json")
	if err != nil {
		return fmt.Errorf("writing warden's credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing warden's credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing warden's credentials: %w", err)
	}
	return nil
}

// storedToken is the token stored for addr, or "" (with why not, when one is stored but expired).
func storedToken(addr string) (token string, expired error) {
	c, _, err := loadCredentials()
	if err != nil {
		return "", err
	}
	l := c.Servers[serverKey(addr)]
	if l == nil || l.Token == "" {
		return "", nil
	}
	if !l.Expires.IsZero() && !time.Now().Before(l.Expires) {
		return "", fmt.Errorf("the token warden login received for %s expired at %s: run warden login --server %s", serverKey(addr), l.Expires.Local().Format(time.RFC3339), serverKey(addr))
	}
	return l.Token, nil
}

// defaultServer is the server of the latest login, or "".
func defaultServer() string {
	c, _, err := loadCredentials()
	if err != nil {
		return ""
	}
	return c.Default
}

// ---- warden login ----

type loginOptions struct {
	server    string
	device    bool
	noBrowser bool
	timeout   time.Duration
	// open opens a URL in the browser (tests drive the browser side themselves).
	open func(url string) error
}

func newLoginCmd() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login [--server URL] [--device] [--no-browser]",
		Short: "Sign the CLI in through the browser and keep its token for this server",
		Long: `Sign the CLI in through warden's sign-in page and keep the token it receives in the user's
config directory (credentials.json, mode 0600), one per server.

By default warden login listens on 127.0.0.1 at a random port, opens the browser at warden's page
"Sign in warden CLI on this computer?" and, once confirmed, receives a token through that loopback
address (PKCE: nothing on the way can use the code). With --device (a machine without a browser),
it prints a code to enter at <server>/device from any browser. The token lasts auth.cli_token_ttl
(default 12h). It waits at most --timeout (default 5m); Ctrl-C stops it.

The server is --server, else WARDEN_ADDR, else the default address. Every command then uses, in
order: --token, WARDEN_TOKEN, the token stored for its server. Commands given no --addr or
WARDEN_ADDR talk to the server of the latest login.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLogin(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringVar(&o.server, "server", "", "warden server URL (env WARDEN_ADDR; default http://"+config.DefaultListen+")")
	cmd.Flags().BoolVar(&o.device, "device", false, "print a code to enter in a browser elsewhere (RFC 8628), for a machine without a browser")
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not open the browser: print the URL only")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the sign-in")
	return cmd
}

func runLogin(ctx context.Context, stdout, stderr io.Writer, o loginOptions) error {
	addr := serverKey(firstNonEmpty(o.server, os.Getenv("WARDEN_ADDR"), config.DefaultListen))
	if o.timeout <= 0 {
		o.timeout = 5 * time.Minute
	}
	if o.open == nil {
		o.open = openBrowser
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c := client.New(addr, "")
	var tok *client.LoginToken
	var err error
	if o.device {
		tok, err = loginDevice(ctx, c, stderr)
	} else {
		tok, err = loginLoopback(ctx, c, stderr, o)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no sign-in within %s: run warden login again", o.timeout)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("warden login stopped")
	}
	if err != nil {
		return err
	}
	creds, path, err := loadCredentials()
	if err != nil {
		return err
	}
	creds.Servers[addr] = &storedLogin{Token: tok.Token, ID: tok.ID, User: tok.User, Expires: tok.Expires, Login: tok.Login, Saved: time.Now().UTC()}
	creds.Default = addr
	if err := creds.save(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Signed in to %s as %s (token %s, expires %s).\nSaved in %s.\n", addr, tok.User, tok.ID, tok.Expires.Local().Format("2006-01-02 15:04 MST"), path)
	return nil
}

// loginLoopback runs the loopback flow: a listener on 127.0.0.1, the browser sent to
// /login/cli with a PKCE challenge, the code it brings back traded for a token.
func loginLoopback(ctx context.Context, c *client.Client, stderr io.Writer, o loginOptions) (*client.LoginToken, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1 for the browser's answer: %w (use warden login --device)", err)
	}
	defer ln.Close()
	redirect := "http://" + ln.Addr().String() + "/callback"
	verifier, state := clilogin.NewVerifier(), clilogin.NewState()
	q := url.Values{"redirect_uri": {redirect}, "code_challenge": {clilogin.Challenge(verifier)}, "code_challenge_method": {"S256"}, "state": {state}}
	target := c.Addr + "/login/cli?" + q.Encode()

	type answer struct {
		code string
		err  error
	}
	answers := make(chan answer, 1)
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "This is not the answer warden login waits for (state mismatch).", http.StatusBadRequest)
			return
		}
		a := answer{code: q.Get("code")}
		msg := "warden CLI: signed in. You can close this window and return to the terminal."
		if e := q.Get("error"); e != "" || a.code == "" {
			a = answer{err: fmt.Errorf("the sign-in was not confirmed in the browser (%s)", firstNonEmpty(e, "no code"))}
			msg = "warden CLI: the sign-in was cancelled. You can close this window."
		}
		once.Do(func() { answers <- a })
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, msg+"\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(stderr, "Sign in to warden in the browser. If it does not open, visit:\n\n  %s\n\nWaiting for the browser (Ctrl-C to stop)...\n", target)
	if !o.noBrowser {
		if err := o.open(target); err != nil {
			fmt.Fprintf(stderr, "(could not open a browser: %v)\n", err)
		}
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case a := <-answers:
		if a.err != nil {
			return nil, a.err
		}
		tok, err := c.ExchangeLoginCode(ctx, a.code, verifier, redirect)
		if err != nil {
			return nil, fmt.Errorf("receiving the token: %w", err)
		}
		return tok, nil
	}
}

// loginDevice runs the device flow: a code to enter in a browser anywhere, polled for until
// approved, denied or expired.
func loginDevice(ctx context.Context, c *client.Client, stderr io.Writer) (*client.LoginToken, error) {
	da, err := c.StartDeviceLogin(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting a device login: %w", err)
	}
	fmt.Fprintf(stderr, "To sign in, open %s in a browser and enter the code\n\n  %s\n\nor open %s\nThe code expires in %s. Waiting (Ctrl-C to stop)...\n",
		da.VerificationURI, da.UserCode, da.VerificationURIComplete, time.Duration(da.ExpiresIn)*time.Second)
	interval := time.Duration(max(da.Interval, 1)) * time.Second
	for {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		tok, err := c.PollDeviceLogin(ctx, da.DeviceCode)
		if err == nil {
			return tok, nil
		}
		var oe *client.OAuthError
		if !errors.As(err, &oe) {
			return nil, err
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "expired_token":
			return nil, errors.New("the code expired before it was approved: run warden login --device again")
		case "access_denied":
			return nil, errors.New("the sign-in was denied in the browser")
		default:
			return nil, err
		}
	}
}

// openBrowser opens url in the user's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// ---- warden logout ----

func newLogoutCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "logout [--server URL]",
		Short: "Revoke the token warden login stored for a server and forget it",
		Long: `Revoke, on the server, the token warden login stored for it, and delete it from the
credentials file. The server is --server, else WARDEN_ADDR, else the server of the latest login.
A token the server no longer knows (expired, revoked) is forgotten all the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogout(cmd.Context(), cmd.OutOrStdout(), server)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "warden server URL (env WARDEN_ADDR; default: the server of the latest login)")
	return cmd
}

func runLogout(ctx context.Context, stdout io.Writer, server string) error {
	creds, path, err := loadCredentials()
	if err != nil {
		return err
	}
	addr := serverKey(firstNonEmpty(server, os.Getenv("WARDEN_ADDR"), creds.Default, config.DefaultListen))
	l := creds.Servers[addr]
	if l == nil {
		return fmt.Errorf("no stored login for %s (%s)", addr, path)
	}
	c := client.New(addr, l.Token)
	c.HTTP.Timeout = 30 * time.Second
	revokeErr := c.Do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(l.ID), nil, nil)
	var ce *client.Error
	if errors.As(revokeErr, &ce) && ce.Status == http.StatusUnauthorized {
		revokeErr = nil // expired or revoked already: nothing left to revoke
	}
	delete(creds.Servers, addr)
	if creds.Default == addr {
		creds.Default = ""
	}
	if err := creds.save(path); err != nil {
		return err
	}
	if revokeErr != nil {
		return fmt.Errorf("forgot the token for %s, but revoking it on the server failed (it stays valid until %s; revoke it with warden token revoke %s): %w",
			addr, l.Expires.Local().Format(time.RFC3339), l.ID, revokeErr)
	}
	fmt.Fprintf(stdout, "Signed out of %s: token %s revoked and forgotten.\n", addr, l.ID)
	return nil
}
