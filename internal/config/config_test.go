package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/config"
)

func load(t *testing.T, body string) (config.Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config.Defaults()
	if err := c.LoadFile(p); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestNotificationsSection(t *testing.T) {
	c, err := load(t, `
notifications:
  timeout: 5s
  max_attempts: 4
  max_age: 30m
  webhooks:
    - name: chat
      url: https://hooks.slack.com/services/T0/B0/X
      format: slack
      events: [request.created, request.approved]
    - name: siem
      url: https://siem.example.com/warden
      headers: {X-Team: security}
      headers_env: {Authorization: SIEM_TOKEN}
      secret_env: SIEM_SECRET
`)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if n == nil || n.Timeout != 5*time.Second || n.MaxAttempts != 4 || n.MaxAge != 30*time.Minute || len(n.Webhooks) != 2 {
		t.Fatalf("notifications: %+v", n)
	}
	if w := n.Webhooks[1]; w.SecretEnv != "SIEM_SECRET" || w.HeadersEnv["Authorization"] != "SIEM_TOKEN" || w.Headers["X-Team"] != "security" || w.Format != "" {
		t.Fatalf("webhook: %+v", w)
	}
	if c, err := load(t, "log_level: info\n"); err != nil || c.Notifications != nil {
		t.Fatalf("without the section: %+v %v", c.Notifications, err)
	}
}

func TestNotificationErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"notifications:\n  webhooks: [{name: a, url: 'not a url'}]\n", "notifications.webhooks[0].url:"},
		{"notifications:\n  webhooks: [{name: a, url: 'https://x.example.com', format: xml}]\n", `notifications.webhooks[0].format: "xml" is not json or slack`},
		{"notifications:\n  webhooks: [{name: a, url: 'https://x.example.com'}, {name: b, url: 'https://x.example.com', events: [request.created, request.exploded]}]\n",
			`notifications.webhooks[1].events[1]: "request.exploded" is not an event`},
		{"notifications:\n  max_age: -1h\n  webhooks: [{name: a, url: 'https://x.example.com'}]\n", "notifications.max_age:"},
		{"notifications:\n  webhooks: [{name: a, url: 'https://x.example.com', secret: x}]\n", "field secret not found"},
	} {
		_, err := load(t, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.body, err, c.want)
		}
	}
}

// tokens.max_ttl caps user tokens: 720h unless set, checked at load, naming the key.
func TestTokensMaxTTL(t *testing.T) {
	c, err := load(t, "log_level: info\n")
	if err != nil || c.Tokens.MaxTTL != 0 {
		t.Fatalf("default: %v %v", c.Tokens.MaxTTL, err)
	}
	if c, err := load(t, "tokens:\n  max_ttl: 24h\n"); err != nil || c.Tokens.MaxTTL != 24*time.Hour {
		t.Fatalf("24h: %v %v", c.Tokens.MaxTTL, err)
	}
	for _, body := range []string{"tokens:\n  max_ttl: -1h\n", "tokens:\n  max_ttl: 30s\n", "tokens:\n  max_ttl: 9000h\n"} {
		if _, err := load(t, body); err == nil || !strings.HasPrefix(err.Error(), "tokens.max_ttl: ") {
			t.Errorf("%q: %v, want an error naming tokens.max_ttl", body, err)
		}
	}
	if _, err := load(t, "tokens:\n  max_tll: 1h\n"); err == nil || !strings.Contains(err.Error(), "max_tll") {
		t.Errorf("a misspelt key: %v", err)
	}
}

// The audit key lives in the data directory unless audit.key_file says where.
func TestAuditKeyFile(t *testing.T) {
	c, err := load(t, "data_dir: /var/lib/warden\n")
	if err != nil || c.AuditKeyFile() != "/var/lib/warden/audit.key" {
		t.Fatalf("default: %q %v", c.AuditKeyFile(), err)
	}
	c, err = load(t, "data_dir: /var/lib/warden\naudit:\n  key_file: /etc/warden/audit.key\n")
	if err != nil || c.AuditKeyFile() != "/etc/warden/audit.key" {
		t.Fatalf("audit.key_file: %q %v", c.AuditKeyFile(), err)
	}
}
