package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
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

// Every duration of the config file has a range, checked at load: a value outside it is an error
// naming the key, the value and the range (issue 11, item 3: negative or tiny durations passed and
// the server panicked later). Leaving a key out gives its default.
func TestDurationRanges(t *testing.T) {
	section := map[string]string{
		"requests":        "requests:\n  %s: %s\n",
		"tokens":          "tokens:\n  %s: %s\n",
		"identity_center": "identity_center:\n  region: us-east-1\n  %s: %s\n",
		"notifications":   "notifications:\n  webhooks: [{name: a, url: 'https://x.example.com'}]\n  %s: %s\n",
		"auth":            "auth:\n  %s: %s\n",
		"saml":            "saml:\n  %s: %s\n",
	}
	all := map[string]bool{}
	c := config.Defaults()
	c.IdentityCenter = &idc.Config{}
	c.Notifications = &notify.Config{}
	for _, d := range c.Durations() {
		all[d.Key] = true
		sec, key, _ := strings.Cut(d.Key, ".")
		body := func(v time.Duration) string {
			if sub, k, nested := strings.Cut(key, "."); nested { // auth.lockout.lock_for
				return fmt.Sprintf(section[sec], sub, fmt.Sprintf("{%s: %s}", k, v))
			}
			return fmt.Sprintf(section[sec], key, v)
		}
		for _, bad := range []time.Duration{-d.Default, -time.Nanosecond, time.Nanosecond, d.Min - time.Millisecond, d.Max + time.Second} {
			if bad == 0 {
				continue
			}
			_, err := load(t, body(bad))
			want := fmt.Sprintf("%s: %s is not between %s and %s", d.Key, config.FormatDuration(bad), config.FormatDuration(d.Min), config.FormatDuration(d.Max))
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: %v\n  got  %v\n  want %q", d.Key, bad, err, want)
			}
		}
		for _, good := range []time.Duration{d.Min, d.Max, d.Default} {
			if _, err := load(t, body(good)); err != nil {
				t.Errorf("%s: %v refused: %v", d.Key, good, err)
			}
		}
	}
	for _, key := range []string{"identity_center.sync_interval", "identity_center.lease_ttl", "identity_center.retry_failed_after",
		"identity_center.retry_max_backoff", "identity_center.call_timeout", "identity_center.start_timeout", "requests.pending_ttl",
		"requests.max_start_ahead", "tokens.max_ttl", "notifications.timeout", "notifications.max_age"} {
		if !all[key] {
			t.Errorf("%s has no range", key)
		}
	}
	// The issue's own examples.
	for body, want := range map[string]string{
		"identity_center:\n  region: us-east-1\n  sync_interval: -5s\n":      "identity_center.sync_interval: -5s is not between 1m and 24h",
		"identity_center:\n  region: us-east-1\n  lease_ttl: -15s\n":         "identity_center.lease_ttl: -15s is not between 1s and 10m",
		"identity_center:\n  region: us-east-1\n  lease_ttl: 1ns\n":          "identity_center.lease_ttl: 1ns is not between 1s and 10m",
		"identity_center:\n  region: us-east-1\n  retry_failed_after: -1s\n": "identity_center.retry_failed_after: -1s is not between 1s and 1h",
		"identity_center:\n  region: us-east-1\n  retry_max_backoff: -20s\n": "identity_center.retry_max_backoff: -20s is not between 10ms and 5m",
		"requests:\n  pending_ttl: -1h\n":                                    "requests.pending_ttl: -1h is not between 1m and 8784h",
		"notifications:\n  timeout: 0.5s\n  webhooks: []\n":                  "notifications.timeout: 500ms is not between 1s and 5m",
	} {
		if _, err := load(t, body); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

// An identity_center key with nothing under it is an error, as `identity_center: {}` is, instead
// of turning the sync off (issue 11, item 6). Leaving the key out turns it off.
func TestEmptyIdentityCenterSection(t *testing.T) {
	for _, body := range []string{"identity_center:\n", "log_level: info\nidentity_center:\nrequests:\n  pending_ttl: 1h\n", "identity_center: ~\n", "identity_center: {}\n"} {
		_, err := load(t, body)
		if err == nil || !strings.Contains(err.Error(), "identity_center") || !strings.Contains(err.Error(), "region") {
			t.Errorf("%q: %v, want an error naming identity_center and region", body, err)
		}
	}
	if c, err := load(t, "log_level: info\n"); err != nil || c.IdentityCenter != nil {
		t.Fatalf("without the section: %+v %v", c.IdentityCenter, err)
	}
}

// The sign-in settings are checked at load, each error naming its key.
func TestAuthSettings(t *testing.T) {
	c, err := load(t, "public_url: https://warden.example.com/\nauth:\n  second_factor: optional\n  trusted_proxies: [10.0.0.0/8, 192.0.2.1]\n")
	if err != nil || c.BaseURL() != "https://warden.example.com" || c.Auth.WithDefaults().StepUp != config.DefaultStepUp {
		t.Fatalf("%q %+v %v", c.BaseURL(), c.Auth, err)
	}
	if c.UIBaseURL() != "https://warden.example.com" {
		t.Fatalf("ui.base_url defaults to the public URL: %q", c.UIBaseURL())
	}
	if c, err := load(t, "public_url: https://warden.example.com\nui: {base_url: \"https://access.example.com/\"}\n"); err != nil || c.UIBaseURL() != "https://access.example.com" {
		t.Fatalf("ui.base_url: %v", err)
	}
	if c, _ := load(t, "listen: 127.0.0.1:9000\ntls: {cert_file: c.pem, key_file: k.pem}\n"); c.BaseURL() != "https://127.0.0.1:9000" {
		t.Fatalf("base URL with TLS: %q", c.BaseURL())
	}
	for _, c := range []struct{ body, want string }{
		{"public_url: ftp://x\n", "public_url:"},
		{"ui: {base_url: warden.example.com}\n", "ui.base_url:"},
		{"public_url: http://warden.example.com\n", "public_url: \"http://warden.example.com\" is plain http"},
		{"tls: {cert_file: c.pem}\n", "tls: cert_file and key_file go together"},
		{"auth: {second_factor: never}\n", `auth.second_factor: "never" is not required or optional`},
		{"auth: {trusted_proxies: [somewhere]}\n", `auth.trusted_proxies[0]: "somewhere"`},
		{"auth: {lockout: {account_failures: -1}}\n", "auth.lockout.account_failures: -1"},
		{"auth: {oidc: [{name: corp, issuer: 'https://idp.example.com', client_id: w, client_secret_env: S}, {name: corp, issuer: 'https://idp.example.com', client_id: w, client_secret_env: S}]}\n", "auth.oidc[1].name"},
		{"auth: {oidc: [{name: corp}]}\n", "auth.oidc[0]."},
	} {
		_, err := load(t, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.body, err, c.want)
		}
	}
}

// scim.connectors: each connector's settings, its defaults, and every mistake named by its key.
func TestSCIMConnectors(t *testing.T) {
	c, err := load(t, `
scim:
  connectors:
    - name: entra
      default_owners: [alice@example.com]
    - name: okta
      groups: traits
      deprovision: delete
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SCIM.Connectors) != 2 {
		t.Fatalf("connectors: %+v", c.SCIM.Connectors)
	}
	entra, okta := c.SCIM.Connectors[0].WithDefaults(), c.SCIM.Connectors[1].WithDefaults()
	if entra.Groups != "lists" || entra.Deprovision != "disable" || entra.Origin() != "scim:entra" {
		t.Fatalf("entra's defaults: %+v", entra)
	}
	if okta.Groups != "traits" || okta.GroupsTrait != "groups" || okta.Deprovision != "delete" {
		t.Fatalf("okta: %+v", okta)
	}
	for _, tc := range []struct{ body, want string }{
		{"scim:\n  connectors:\n    - name: Entra ID\n      default_owners: [a]\n", `scim.connectors[0].name: "Entra ID" is not a connector name`},
		{"scim:\n  connectors:\n    - name: entra\n", "scim.connectors[0].default_owners: required with groups: lists"},
		{"scim:\n  connectors:\n    - name: entra\n      groups: roles\n", `scim.connectors[0].groups: "roles" is not lists or traits`},
		{"scim:\n  connectors:\n    - name: entra\n      groups: traits\n      groups_trait: \"-x\"\n", `scim.connectors[0].groups_trait: "-x" is not a trait name`},
		{"scim:\n  connectors:\n    - name: entra\n      default_owners: [a]\n      deprovision: purge\n", `scim.connectors[0].deprovision: "purge" is not disable or delete`},
		{"scim:\n  connectors:\n    - name: e\n      default_owners: [a]\n    - name: e\n      default_owners: [a]\n", `scim.connectors[1].name: "e" names another connector too`},
		{"scim:\n  connectors:\n    - name: e\n      default_owner: [a]\n", "field default_owner not found"},
	} {
		if _, err := load(t, tc.body); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}
