package config

import (
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/fuzzcheck"
)

// FuzzLoad reads config files: never a panic, at most 100 MB a file, and every error names the file
// or the setting at fault.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"listen: 127.0.0.1:8420\ndata_dir: /var/lib/warden\nstore: \"\"\nlog_level: info\n",
		"store: postgres://user:secret@db/warden\n",
		"identity_center:\n  region: us-east-1\n  instance_arn: arn:aws:sso:::instance/ssoins-1234567890abcdef\n  identity_store_id: d-1234567890\n  rate_limit: 20\n  sync_interval: 10m\n  safety_brake: 0.1\n  accounts: {include: ['^prod-'], exclude: ['(a+)+$']}\n  groups: {include: [], exclude: ['[']}\n",
		"requests:\n  pending_ttl: 24h\n  max_start_ahead: 168h\n",
		"notifications:\n  timeout: 5s\n  max_attempts: 4\n  max_age: 30m\n  webhooks:\n    - name: chat\n      url: https://hooks.slack.com/services/T0/B0/X\n      format: slack\n      events: [request.created, request.approved]\n    - name: siem\n      url: https://siem.example.com/warden\n      headers: {X-Team: security}\n      headers_env: {Authorization: SIEM_TOKEN}\n      secret_env: SIEM_SECRET\n",
		"tokens:\n  max_ttl: 24h\n", "tokens:\n  max_ttl: -1h\n", "tokens:\n  max_tll: 1h\n",
		"audit:\n  key_file: /etc/warden/audit.key\n",
		"requests:\n  pending_ttl: 9999999999999999999h\n",
		"notifications:\n  webhooks: &w [{name: a, url: 'https://x.example.com', events: &e [request.created, request.created]}]\n  timeout: *e\n",
		"identity_center:\n  accounts:\n    include: &l [" + strings.Repeat("'a*', ", 200) + "b]\n    exclude: *l\n  groups: {include: *l, exclude: *l}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzcheck.Limit(t, func() {
			c := Defaults()
			if err := c.load(data, "fuzz.yaml"); err != nil {
				if !strings.HasPrefix(err.Error(), "config file fuzz.yaml: ") {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			if err := c.Validate(); err != nil && !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no setting", err)
			}
		})
	})
}
