package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event names.
const (
	RequestCreated   = "request.created"   // a new PENDING request
	RequestReviewed  = "request.reviewed"  // a review that did not decide
	RequestApproved  = "request.approved"  // the review that approved it
	RequestDenied    = "request.denied"    // the review that denied it
	RequestStarted   = "request.started"   // an approved request's window began
	RequestExpired   = "request.expired"   // its window ended, or it waited for reviews past the TTL
	RequestCancelled = "request.cancelled" // ended early by its requester (or an administrator's cancel)
	RequestRevoked   = "request.revoked"   // ended early by an administrator's revoke
	ListReviewDue    = "list.review_overdue"
	// SCIMTokenExpiring: Identity Center's SCIM token that warden writes with expires within 30 days.
	SCIMTokenExpiring = "integration.scim_token_expiring"
)

// Events lists every event, in the order of a request's life.
var Events = []string{RequestCreated, RequestReviewed, RequestApproved, RequestDenied, RequestStarted,
	RequestExpired, RequestCancelled, RequestRevoked, ListReviewDue, SCIMTokenExpiring}

// Formats.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// Defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 10
	DefaultMaxAge      = time.Hour
)

// Config is the notifications section of the config file.
type Config struct {
	Webhooks []Webhook `yaml:"webhooks"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts bounds the attempts at one delivery (default 10).
	MaxAttempts int `yaml:"max_attempts"`
	// MaxAge: a delivery not made this long after its event is given up (default 1h).
	MaxAge time.Duration `yaml:"max_age"`
}

// Webhook is one receiver.
type Webhook struct {
	// Name identifies the webhook in logs and in delivery ids; unique.
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Format is json (the default) or slack.
	Format string `yaml:"format"`
	// Events it receives; empty: all.
	Events []string `yaml:"events"`
	// Headers are added to every request, e.g. Authorization.
	Headers map[string]string `yaml:"headers"`
	// HeadersEnv adds headers whose values are read from environment variables (header: VARIABLE).
	HeadersEnv map[string]string `yaml:"headers_env"`
	// SecretEnv names an environment variable holding the HMAC-SHA256 signing secret.
	SecretEnv string `yaml:"secret_env"`
}

// Validate checks the section, naming the field at fault ("notifications.webhooks[1].url: ...").
func (c *Config) Validate() error {
	const p = "notifications"
	if c.Timeout < 0 {
		return fmt.Errorf("%s.timeout: %v must be positive", p, c.Timeout)
	}
	if c.MaxAge < 0 {
		return fmt.Errorf("%s.max_age: %v must be positive", p, c.MaxAge)
	}
	if c.MaxAttempts < 0 {
		return fmt.Errorf("%s.max_attempts: %d must be positive", p, c.MaxAttempts)
	}
	names := map[string]bool{}
	for i, w := range c.Webhooks {
		f := fmt.Sprintf("%s.webhooks[%d]", p, i)
		switch {
		case strings.TrimSpace(w.Name) == "":
			return fmt.Errorf("%s.name: required", f)
		case names[w.Name]:
			return fmt.Errorf("%s.name: %q is the name of another webhook", f, w.Name)
		}
		names[w.Name] = true
		if w.URL == "" {
			return fmt.Errorf("%s.url: required", f)
		}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url: %q is not an http:// or https:// URL", f, redact(w.URL))
		}
		switch w.Format {
		case "", FormatJSON, FormatSlack:
		default:
			return fmt.Errorf("%s.format: %q is not json or slack", f, w.Format)
		}
		for j, e := range w.Events {
			if !slices.Contains(Events, e) {
				return fmt.Errorf("%s.events[%d]: %q is not an event (events: %s)", f, j, e, strings.Join(Events, ", "))
			}
		}
		for h := range w.Headers {
			if err := checkHeader(h); err != nil {
				return fmt.Errorf("%s.headers: %w", f, err)
			}
		}
		for h, env := range w.HeadersEnv {
			if err := checkHeader(h); err != nil {
				return fmt.Errorf("%s.headers_env: %w", f, err)
			}
			if env == "" {
				return fmt.Errorf("%s.headers_env.%s: name an environment variable", f, h)
			}
		}
	}
	return nil
}

func checkHeader(h string) error {
	if h == "" || strings.ContainsAny(h, " \t\r\n:") {
		return fmt.Errorf("%q is not a header name", h)
	}
	return nil
}

// redact hides a URL's path and query, which often hold a secret (Slack's do).
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if len(s) > 12 {
			return s[:12] + "…"
		}
		return s
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// minSensitive: shorter strings are not taken out of logged errors (they would garble them and
// hide nothing worth hiding).
const minSensitive = 4

// sensitiveParts lists what of a webhook must not reach a log, longest first.
func sensitiveParts(rawURL string, headers map[string]string, secret []byte) []string {
	parts := []string{rawURL, string(secret)}
	if u, err := url.Parse(rawURL); err == nil {
		parts = append(parts, u.String(), u.EscapedPath(), u.Path, u.RawQuery, u.Fragment, u.User.String())
		if p, ok := u.User.Password(); ok {
			parts = append(parts, p)
		}
		if q, err := url.QueryUnescape(u.RawQuery); err == nil {
			parts = append(parts, q)
		}
	}
	for _, v := range headers {
		parts = append(parts, v)
	}
	var out []string
	for _, p := range parts {
		if len(p) >= minSensitive && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// hook is a webhook ready to use: defaults applied, secrets read.
type hook struct {
	Webhook
	secret  []byte
	headers map[string]string
	events  map[string]bool
	// endpoint is what logs show of the URL: its scheme and host.
	endpoint string
	// sensitive are the strings taken out of errors before they are logged, longest first: the URL
	// and its parts past the host, the header values, the signing secret.
	sensitive []string
}

func (h *hook) wants(event string) bool { return len(h.events) == 0 || h.events[event] }

// resolve applies defaults and reads the secrets from the environment.
func (c *Config) resolve(getenv func(string) string) ([]*hook, error) {
	var out []*hook
	for i, w := range c.Webhooks {
		f := fmt.Sprintf("notifications.webhooks[%d]", i)
		h := &hook{Webhook: w, headers: map[string]string{}, events: map[string]bool{}}
		if h.Format == "" {
			h.Format = FormatJSON
		}
		for k, v := range w.Headers {
			h.headers[k] = v
		}
		for k, env := range w.HeadersEnv {
			v := getenv(env)
			if v == "" {
				return nil, fmt.Errorf("%s.headers_env.%s: the environment variable %s is not set", f, k, env)
			}
			h.headers[k] = v
		}
		if w.SecretEnv != "" {
			v := getenv(w.SecretEnv)
			if v == "" {
				return nil, fmt.Errorf("%s.secret_env: the environment variable %s is not set", f, w.SecretEnv)
			}
			h.secret = []byte(v)
		}
		for _, e := range w.Events {
			h.events[e] = true
		}
		h.endpoint = redact(w.URL)
		h.sensitive = sensitiveParts(w.URL, h.headers, h.secret)
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, errors.New("notifications.webhooks: none configured")
	}
	return out, nil
}
