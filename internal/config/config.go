// Package config holds warden serve's settings. They come from, weakest first: built-in defaults, the
// YAML config file (--config or WARDEN_CONFIG), WARDEN_* environment variables, then command-line flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
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
