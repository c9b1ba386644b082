package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
)

// DurationSetting is one duration of the config file: its key, the range it must lie in, and its
// default. Zero (the key left out) means the default; anything else must lie in [Min, Max].
type DurationSetting struct {
	Key      string
	Min, Max time.Duration
	Default  time.Duration
	value    *time.Duration
}

const (
	day  = 24 * time.Hour
	year = 366 * day
)

// Durations lists every duration setting of c with its range (docs/configuration.md has them in a
// table, which a test holds to this list). A section that is absent contributes nothing.
func (c *Config) Durations() []DurationSetting {
	out := []DurationSetting{
		{Key: "requests.pending_ttl", Min: time.Minute, Max: year, Default: access.DefaultPendingTTL, value: &c.Requests.PendingTTL},
		{Key: "requests.max_start_ahead", Min: time.Minute, Max: year, Default: access.DefaultMaxStartAhead, value: &c.Requests.MaxStartAhead},
		{Key: "tokens.max_ttl", Min: time.Minute, Max: auth.MaxTTLLimit, Default: auth.DefaultMaxTTL, value: &c.Tokens.MaxTTL},
		{Key: "auth.session_idle", Min: time.Minute, Max: 30 * day, Default: DefaultSessionIdle, value: &c.Auth.SessionIdle},
		{Key: "auth.session_absolute", Min: time.Minute, Max: 90 * day, Default: DefaultSessionAbsolute, value: &c.Auth.SessionAbsolute},
		{Key: "auth.step_up", Min: time.Minute, Max: day, Default: DefaultStepUp, value: &c.Auth.StepUp},
		{Key: "auth.cli_token_ttl", Min: time.Minute, Max: 30 * day, Default: DefaultCLITokenTTL, value: &c.Auth.CLITokenTTL},
		{Key: "auth.invite_ttl", Min: time.Minute, Max: 30 * day, Default: DefaultInviteTTL, value: &c.Auth.InviteTTL},
		{Key: "auth.lockout.base_delay", Min: 10 * time.Millisecond, Max: time.Minute, Default: DefaultBaseDelay, value: &c.Auth.Lockout.BaseDelay},
		{Key: "saml.session_duration", Min: 15 * time.Minute, Max: 90 * day, Default: DefaultSAMLSessionDuration, value: &c.SAML.SessionDuration},
		{Key: "auth.lockout.lock_for", Min: time.Second, Max: 30 * day, Default: DefaultLockFor, value: &c.Auth.Lockout.LockFor},
	}
	if ic := c.IdentityCenter; ic != nil {
		d := idc.Config{}.WithDefaults()
		out = append(out,
			DurationSetting{Key: "identity_center.sync_interval", Min: time.Minute, Max: day, Default: d.SyncInterval, value: &ic.SyncInterval},
			DurationSetting{Key: "identity_center.lease_ttl", Min: time.Second, Max: 10 * time.Minute, Default: d.LeaseTTL, value: &ic.LeaseTTL},
			DurationSetting{Key: "identity_center.retry_failed_after", Min: time.Second, Max: time.Hour, Default: d.RetryFailedAfter, value: &ic.RetryFailedAfter},
			DurationSetting{Key: "identity_center.retry_max_backoff", Min: 10 * time.Millisecond, Max: 5 * time.Minute, Default: d.RetryMaxBackoff, value: &ic.RetryMaxBackoff},
			DurationSetting{Key: "identity_center.call_timeout", Min: 5 * time.Second, Max: 10 * time.Minute, Default: d.CallTimeout, value: &ic.CallTimeout},
			DurationSetting{Key: "identity_center.start_timeout", Min: time.Second, Max: 5 * time.Minute, Default: d.StartTimeout, value: &ic.StartTimeout},
		)
	}
	if n := c.Notifications; n != nil {
		out = append(out,
			DurationSetting{Key: "notifications.timeout", Min: time.Second, Max: 5 * time.Minute, Default: notify.DefaultTimeout, value: &n.Timeout},
			DurationSetting{Key: "notifications.max_age", Min: time.Minute, Max: 30 * day, Default: notify.DefaultMaxAge, value: &n.MaxAge},
		)
	}
	return out
}

// checkDurations checks every duration against its range, naming the key:
// "identity_center.sync_interval: -5s is not between 1m and 24h".
func (c *Config) checkDurations() error {
	for _, d := range c.Durations() {
		v := *d.value
		if v == 0 {
			continue // the default
		}
		if v < d.Min || v > d.Max {
			return fmt.Errorf("%s: %s is not between %s and %s (leave it out for the default, %s)",
				d.Key, FormatDuration(v), FormatDuration(d.Min), FormatDuration(d.Max), FormatDuration(d.Default))
		}
	}
	return nil
}

// FormatDuration writes d as Go's duration syntax without zero units: 24h, 1m, 1h30m, -5s, 100ms.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
