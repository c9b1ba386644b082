// Package config holds warden serve's settings. They come from, weakest first: built-in defaults, the
// YAML config file (--config or WARDEN_CONFIG), WARDEN_* environment variables, then command-line flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/wardenhq/warden/internal/auth/oidc"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/scim"
)

// DefaultListen is where warden serves unless told otherwise: loopback only, so that a first start
// exposes nothing.
const DefaultListen = "127.0.0.1:8420"

// Config is the server's settings.
type Config struct {
	// Listen is the HTTP address (host:port).
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and admin.token.
	DataDir string `yaml:"data_dir"`
	// Store is empty for SQLite under DataDir, or a postgres:// DSN.
	Store string `yaml:"store"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// IdentityCenter turns sync on; without it warden keeps its own state only.
	IdentityCenter *idc.Config `yaml:"identity_center"`
	// Requests holds the access request settings.
	Requests Requests `yaml:"requests"`
	// Notifications sends access request and list review events to webhooks.
	Notifications *notify.Config `yaml:"notifications"`
	// Tokens holds the API token settings.
	Tokens Tokens `yaml:"tokens"`
	// Audit holds the audit log settings.
	Audit Audit `yaml:"audit"`
	// PublicURL is the address people reach warden at (https://warden.example.com): links in
	// invitations, OIDC redirect URLs, the passkey relying party. Default: http(s)://<listen>.
	PublicURL string `yaml:"public_url"`
	// TLS serves HTTPS with this certificate and key (PEM files).
	TLS TLS `yaml:"tls"`
	// Auth holds the sign-in settings.
	Auth Auth `yaml:"auth"`
	// SAML holds the SAML identity provider's settings (docs/saml.md).
	SAML SAML `yaml:"saml"`
	// UI holds the web UI's settings.
	UI UI `yaml:"ui"`
	// SCIM holds the SCIM service provider's connectors (docs/scim.md).
	SCIM SCIM `yaml:"scim"`
}

// SCIM is the SCIM service provider: one connector per upstream identity provider that
// provisions users and groups into warden at /scim/v2/.
type SCIM struct {
	Connectors []scim.Config `yaml:"connectors"`
}

// UI are the web UI's settings.
type UI struct {
	// BaseURL is the address of the web UI that links (notifications' deep links to a request's
	// page or a list's) start with. Default: the public URL (BaseURL).
	BaseURL string `yaml:"base_url"`
}

// UIBaseURL is ui.base_url, or BaseURL when it is not set: where notifications' links point.
func (c *Config) UIBaseURL() string {
	if c.UI.BaseURL != "" {
		return strings.TrimSuffix(c.UI.BaseURL, "/")
	}
	return c.BaseURL()
}

// SAML are the settings of warden's SAML identity provider.
type SAML struct {
	// SessionDuration is the SessionNotOnOrAfter of every assertion: how long, at most, the
	// service provider's session (the AWS access portal's) lasts after a sign-on (default 8h).
	SessionDuration time.Duration `yaml:"session_duration"`
	// StartURL is the AWS access portal start URL (https://d-xxxxxxxxxx.awsapps.com/start), where
	// the aws-identity-center app's "Log in" lands people. The service provider's own start_url
	// wins when set.
	StartURL string `yaml:"start_url"`
}

// TLS names the certificate and private key warden serves HTTPS with; both or neither.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled says whether warden serves HTTPS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Auth are the sign-in settings (docs/configuration.md).
type Auth struct {
	// SecondFactor is required (the default: every local account enrols TOTP or a passkey) or
	// optional.
	SecondFactor string `yaml:"second_factor"`
	// SessionIdle ends a browser session unused this long (default 1h); SessionAbsolute ends it
	// this long after sign-in whatever happens (default 12h).
	SessionIdle     time.Duration `yaml:"session_idle"`
	SessionAbsolute time.Duration `yaml:"session_absolute"`
	// StepUp is how recently a second factor must have been used to approve an access request or
	// make an administrative change (default 10m).
	StepUp time.Duration `yaml:"step_up"`
	// StepUpExemptTokens lets API tokens minted for automation (warden token create) approve and
	// administer without a second factor. Default false: such tokens may read and request, not
	// approve nor administer. The bootstrap admin token is always exempt.
	StepUpExemptTokens bool `yaml:"step_up_exempt_tokens"`
	// CLITokenTTL is how long the token `warden login` receives lasts (default 12h).
	CLITokenTTL time.Duration `yaml:"cli_token_ttl"`
	// InviteTTL is how long an enrolment link is valid (default 24h).
	InviteTTL time.Duration `yaml:"invite_ttl"`
	// Lockout limits failed sign-ins.
	Lockout Lockout `yaml:"lockout"`
	// TrustedProxies are the addresses (IPs or CIDRs) of reverse proxies whose X-Forwarded-For is
	// believed for the source address of a sign-in. Default: none, the connection's address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// KeyFile holds the key (64 hex digits) that encrypts TOTP secrets at rest. Default:
	// <data_dir>/auth.key, made (mode 0600) at the first start. Replicas must share it.
	KeyFile string `yaml:"key_file"`
	// OIDC lists the upstream OpenID Connect providers people may sign in with.
	OIDC []oidc.Config `yaml:"oidc"`
}

// Lockout are the limits on failed sign-ins, per account and per source address. Each failure
// past the first few makes the next attempt wait longer (doubling from BaseDelay); at
// AccountFailures failures on one account, or SourceFailures from one address, further attempts
// are refused for LockFor, or until an administrator lifts the lock (warden user unlock).
type Lockout struct {
	AccountFailures int           `yaml:"account_failures"`
	SourceFailures  int           `yaml:"source_failures"`
	BaseDelay       time.Duration `yaml:"base_delay"`
	LockFor         time.Duration `yaml:"lock_for"`
}

// Defaults of the sign-in settings.
const (
	DefaultSessionIdle     = time.Hour
	DefaultSessionAbsolute = 12 * time.Hour
	DefaultStepUp          = 10 * time.Minute
	DefaultCLITokenTTL     = 12 * time.Hour
	DefaultInviteTTL       = 24 * time.Hour
	DefaultAccountFailures = 10
	DefaultSourceFailures  = 100
	DefaultBaseDelay       = time.Second
	DefaultLockFor         = 15 * time.Minute
	// DefaultSAMLSessionDuration is samlidp.DefaultSessionDuration.
	DefaultSAMLSessionDuration = 8 * time.Hour
)

// WithDefaults returns a with every unset setting at its default.
func (a Auth) WithDefaults() Auth {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if a.SecondFactor == "" {
		a.SecondFactor = "required"
	}
	set(&a.SessionIdle, DefaultSessionIdle)
	set(&a.SessionAbsolute, DefaultSessionAbsolute)
	set(&a.StepUp, DefaultStepUp)
	set(&a.CLITokenTTL, DefaultCLITokenTTL)
	set(&a.InviteTTL, DefaultInviteTTL)
	set(&a.Lockout.BaseDelay, DefaultBaseDelay)
	set(&a.Lockout.LockFor, DefaultLockFor)
	if a.Lockout.AccountFailures == 0 {
		a.Lockout.AccountFailures = DefaultAccountFailures
	}
	if a.Lockout.SourceFailures == 0 {
		a.Lockout.SourceFailures = DefaultSourceFailures
	}
	return a
}

// AuthKeyFile is where the key that encrypts TOTP secrets is kept.
func (c *Config) AuthKeyFile() string {
	if c.Auth.KeyFile != "" {
		return c.Auth.KeyFile
	}
	return filepath.Join(c.DataDir, "auth.key")
}

// BaseURL is PublicURL, or the address warden listens on when it is not set.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	scheme := "http://"
	if c.TLS.Enabled() {
		scheme = "https://"
	}
	return scheme + c.Listen
}

// Audit are the audit log settings.
type Audit struct {
	// KeyFile holds the audit key, 64 hex digits (32 bytes), with which every audit entry is keyed
	// (HMAC-SHA256). Default: <data_dir>/audit.key, made (mode 0600) at the first start if missing.
	// Replicas sharing a PostgreSQL database must all be given the same file.
	KeyFile string `yaml:"key_file"`
}

// AuditKeyFile is where the audit key is kept.
func (c *Config) AuditKeyFile() string {
	if c.Audit.KeyFile != "" {
		return c.Audit.KeyFile
	}
	return filepath.Join(c.DataDir, "audit.key")
}

// Tokens are the API token settings.
type Tokens struct {
	// MaxTTL caps the lifetime of the user tokens administrators issue (default 720h, 30 days;
	// at most 8784h, 366 days). The bootstrap admin token is not a user token: it lasts until
	// replaced or revoked.
	MaxTTL time.Duration `yaml:"max_ttl"`
}

// Requests are the access request settings.
type Requests struct {
	// PendingTTL is how long a request waits for its reviews before it expires (default 24h).
	PendingTTL time.Duration `yaml:"pending_ttl"`
	// MaxStartAhead is how far ahead a request may ask to start (default 7 days: 168h).
	MaxStartAhead time.Duration `yaml:"max_start_ahead"`
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{Listen: DefaultListen, DataDir: DefaultDataDir(), LogLevel: "info"}
}

// DefaultDataDir is the user's state directory for warden: $XDG_STATE_HOME/warden, else
// ~/.local/state/warden (falling back to ./warden-data when there is no home).
func DefaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "warden")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "warden")
	}
	return "warden-data"
}

// Env names the environment variable for each setting.
var Env = map[string]string{
	"listen":    "WARDEN_LISTEN",
	"data_dir":  "WARDEN_DATA_DIR",
	"store":     "WARDEN_STORE",
	"log_level": "WARDEN_LOG_LEVEL",
}

// LoadFile reads a YAML config file over c. Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	return c.load(b, path)
}

// load reads the YAML config b, from the file path, over c.
func (c *Config) load(b []byte, path string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := emptySections(b); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// sectionsNeeding are the sections whose presence turns something on and that need a setting, and
// which. (An empty notifications section is notifications with no webhook, as `notifications: {}`.)
var sectionsNeeding = map[string]string{
	"identity_center": "region (leave the section out to turn the sync off)",
}

// emptySections refuses a section that turns something on but is given empty (`identity_center:`
// with nothing under it), which YAML reads as if it were absent.
func emptySections(b []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		return nil // decoded above already: nothing more to say
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		need, ok := sectionsNeeding[key.Value]
		if ok && val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			return fmt.Errorf("%s: the section is empty (line %d); it needs at least %s", key.Value, key.Line, need)
		}
	}
	return nil
}

// LoadEnv applies WARDEN_* variables over c, using getenv to read them.
func (c *Config) LoadEnv(getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(Env[key]); v != "" {
			*dst = v
		}
	}
	set(&c.Listen, "listen")
	set(&c.DataDir, "data_dir")
	set(&c.Store, "store")
	set(&c.LogLevel, "log_level")
}

// Validate checks the settings, naming the one at fault.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: required (host:port)")
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("store: %q is not a postgres:// URL (leave it empty for SQLite in the data directory)", redactDSN(c.Store))
	}
	if c.Store == "" && c.DataDir == "" {
		return errors.New("data_dir: required when the store is SQLite")
	}
	if err := c.checkDurations(); err != nil {
		return err
	}
	if c.IdentityCenter != nil {
		if err := c.IdentityCenter.Validate(); err != nil {
			return err
		}
	}
	if c.Notifications != nil {
		if err := c.Notifications.Validate(); err != nil {
			return err
		}
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := scim.ValidateAll("scim.connectors", c.SCIM.Connectors); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	return nil
}

func redactDSN(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "…" + s[i:]
		}
	}
	return s
}

// validateAuth checks the public URL, TLS and sign-in settings, naming the one at fault.
func (c *Config) validateAuth() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("public_url: %q is not an http(s) URL such as https://warden.example.com", c.PublicURL)
		}
		if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			return fmt.Errorf("public_url: %q is plain http on a non-loopback host; browsers would send session cookies unencrypted: use https", c.PublicURL)
		}
	}
	if c.UI.BaseURL != "" {
		u, err := url.Parse(c.UI.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("ui.base_url: %q is not an http(s) URL such as https://warden.example.com", c.UI.BaseURL)
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("tls: cert_file and key_file go together: give both, or neither to serve plain HTTP")
	}
	a := c.Auth
	if c.SAML.StartURL != "" {
		if err := resource.CheckSAMLURL(c.SAML.StartURL); err != nil {
			return fmt.Errorf("saml.start_url: %w", err)
		}
	}
	switch a.SecondFactor {
	case "", "required", "optional":
	default:
		return fmt.Errorf("auth.second_factor: %q is not required or optional", a.SecondFactor)
	}
	for name, n := range map[string]int{"auth.lockout.account_failures": a.Lockout.AccountFailures, "auth.lockout.source_failures": a.Lockout.SourceFailures} {
		if n < 0 || n > 100000 {
			return fmt.Errorf("%s: %d is not between 1 and 100000 (leave it out for the default)", name, n)
		}
	}
	if len(a.TrustedProxies) > 64 {
		return fmt.Errorf("auth.trusted_proxies: %d entries; at most 64", len(a.TrustedProxies))
	}
	for i, p := range a.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("auth.trusted_proxies[%d]: %q is not an IP address or CIDR prefix", i, p)
		}
	}
	if len(a.OIDC) > 16 {
		return fmt.Errorf("auth.oidc: %d connectors; at most 16", len(a.OIDC))
	}
	seen := map[string]bool{}
	for i := range a.OIDC {
		field := fmt.Sprintf("auth.oidc[%d]", i)
		if err := a.OIDC[i].Validate(field); err != nil {
			return err
		}
		if seen[a.OIDC[i].Name] {
			return fmt.Errorf("%s.name: %q names another connector too; names must be unique", field, a.OIDC[i].Name)
		}
		seen[a.OIDC[i].Name] = true
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
