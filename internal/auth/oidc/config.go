package oidc

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/resource"
)

// Config is one upstream OIDC connector, an item of the config file's auth.oidc list.
type Config struct {
	// Name names the connector: users it creates have origin oidc:<name>. 1-32 lower-case letters,
	// digits, '_' or '-'.
	Name string `yaml:"name"`
	// Issuer is the provider's issuer URL, discovered at <issuer>/.well-known/openid-configuration:
	// https (http only on a loopback address).
	Issuer string `yaml:"issuer"`
	// ClientID is the client warden is registered as at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecretEnv names the environment variable that holds the client secret (the secret itself
	// is never in the config file, nor in a log).
	ClientSecretEnv string `yaml:"client_secret_env"`
	// Scopes asked for; openid is always asked. Default: openid, email, profile.
	Scopes []string `yaml:"scopes"`
	// UserNameClaim is the ID token claim that is the warden user name. Default: email.
	UserNameClaim string `yaml:"user_name_claim"`
	// AllowedDomains, when given, admits only people whose verified email is at one of these
	// domains (compared without case; a subdomain is another domain). Required with CreateUsers.
	AllowedDomains []string `yaml:"allowed_domains"`
	// CreateUsers creates, at their first sign-in, the users that do not exist yet (origin
	// oidc:<name>). Without it, a user must exist before they can sign in.
	CreateUsers bool `yaml:"create_users"`
	// LinkExisting lets the connector sign in users of another origin (made in warden, imported from
	// Identity Center, or another connector's). Without it, it signs in only users of its own
	// origin, oidc:<name>: an identity provider that lets people choose their email cannot take over
	// an account made elsewhere.
	LinkExisting bool `yaml:"link_existing"`
	// Traits maps warden traits to claims: trait -> claim. A claim's string, or each string of a
	// list, is a value of the trait.
	Traits map[string]string `yaml:"traits"`
	// Roles grant standing roles, Lists access list memberships, to those whose claims match.
	Roles []ClaimRule `yaml:"roles"`
	Lists []ClaimRule `yaml:"lists"`
}

// ClaimRule grants a role (in Config.Roles) or an access list membership (in Config.Lists) to those
// whose claim Claim is Value, or is a list holding Value: {claim: groups, value: aws-admins, role:
// admin-role}. Values are compared exactly.
type ClaimRule struct {
	Claim string `yaml:"claim"`
	Value string `yaml:"value"`
	Role  string `yaml:"role,omitempty"`
	List  string `yaml:"list,omitempty"`
}

// Limits on a connector's configuration.
const (
	maxScopes    = 32
	maxDomains   = 256
	maxTraitMaps = 64
	maxRules     = 512
	maxClaimName = 256
	maxRuleValue = 1024
	maxURL       = 2048
	maxClientID  = 1024
)

// DefaultUserNameClaim is the claim that is the user name unless user_name_claim says otherwise.
const DefaultUserNameClaim = "email"

// DefaultScopes are asked for unless scopes says otherwise.
var DefaultScopes = []string{"openid", "email", "profile"}

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	// scopeRE is RFC 6749's scope-token.
	scopeRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`)
	// domainLabelRE is one label of a DNS name.
	domainLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// Validate checks the connector's settings; field is where they are in the config file
// ("auth.oidc[0]"; empty for the settings' names alone), and every problem names its setting from
// there. It reads no environment and
// makes no request: New does.
func (c *Config) Validate(field string) error {
	var errs []error
	add := func(setting, format string, args ...any) {
		if field != "" {
			setting = field + "." + setting
		}
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.Name == "":
		add("name", "required: a name for the connector, like okta")
	case !resource.ValidConnectorName(c.Name):
		add("name", "%q is not a connector name: 1-32 lower-case letters, digits, _ or -, starting with a letter or digit", c.Name)
	}
	if err := checkIssuer(c.Issuer); err != nil {
		add("issuer", "%v", err)
	}
	switch {
	case c.ClientID == "":
		add("client_id", "required: the client id warden is registered with at the provider")
	case len(c.ClientID) > maxClientID || !printable(c.ClientID):
		add("client_id", "must be at most %d printable characters", maxClientID)
	}
	switch {
	case c.ClientSecretEnv == "":
		add("client_secret_env", "required: the name of the environment variable holding the client secret (never the secret itself)")
	case !envNameRE.MatchString(c.ClientSecretEnv):
		// Not repeated in the message: it may be the secret itself, written here by mistake.
		add("client_secret_env", "is not an environment variable name (letters, digits and _, not starting with a digit); give the variable's name, never the secret")
	}
	if len(c.Scopes) > maxScopes {
		add("scopes", "%d scopes; at most %d", len(c.Scopes), maxScopes)
	} else {
		for i, s := range c.Scopes {
			if !scopeRE.MatchString(s) {
				add(fmt.Sprintf("scopes[%d]", i), "%q is not a scope (1-128 printable characters without spaces, quotes or backslashes)", truncate(s, 40))
			} else if j := slices.Index(c.Scopes, s); j < i {
				add(fmt.Sprintf("scopes[%d]", i), "%q is listed twice (also at [%d])", s, j)
			}
		}
	}
	if c.UserNameClaim != "" && !claimNameOK(c.UserNameClaim) {
		add("user_name_claim", "must be a claim name of 1-%d printable characters", maxClaimName)
	}
	if len(c.AllowedDomains) > maxDomains {
		add("allowed_domains", "%d domains; at most %d", len(c.AllowedDomains), maxDomains)
	} else {
		for i, d := range c.AllowedDomains {
			f := fmt.Sprintf("allowed_domains[%d]", i)
			if err := checkDomain(d); err != nil {
				add(f, "%v", err)
			} else if j := slices.IndexFunc(c.AllowedDomains, func(o string) bool { return strings.EqualFold(o, d) }); j < i {
				add(f, "%q is listed twice (also at [%d])", d, j)
			}
		}
	}
	if c.CreateUsers && len(c.AllowedDomains) == 0 {
		add("allowed_domains", "required when create_users is true: every account the provider knows would otherwise become a warden user (and an Identity Center user); list the company's email domains")
	}
	if len(c.Traits) > maxTraitMaps {
		add("traits", "%d traits; at most %d", len(c.Traits), maxTraitMaps)
	} else {
		for _, trait := range slices.Sorted(maps.Keys(c.Traits)) {
			f := "traits." + trait
			if !resource.ValidTraitName(trait) {
				add(f, "%q is not a trait name: 1-128 letters, digits or _.:/- starting with a letter or digit", truncate(trait, 40))
			}
			if !claimNameOK(c.Traits[trait]) {
				add(f, "must name a claim: 1-%d printable characters", maxClaimName)
			}
		}
	}
	if len(c.Roles)+len(c.Lists) > maxRules {
		add("roles", "%d rules in roles and lists; at most %d", len(c.Roles)+len(c.Lists), maxRules)
	} else {
		checkRules(add, "roles", c.Roles, true)
		checkRules(add, "lists", c.Lists, false)
	}
	return errors.Join(errs...)
}

func checkRules(add func(string, string, ...any), setting string, rules []ClaimRule, roles bool) {
	seen := map[ClaimRule]int{}
	for i, r := range rules {
		f := fmt.Sprintf("%s[%d]", setting, i)
		if j, dup := seen[r]; dup {
			add(f, "the same rule as %s[%d]", setting, j)
			continue
		}
		seen[r] = i
		if !claimNameOK(r.Claim) {
			add(f+".claim", "required: the claim to match, 1-%d printable characters", maxClaimName)
		}
		if r.Value == "" || len(r.Value) > maxRuleValue {
			add(f+".value", "required: the claim's value that grants, at most %d bytes", maxRuleValue)
		}
		key, grant, kind, otherKey, other, otherSetting := "role", r.Role, "role", "list", r.List, "lists"
		if !roles {
			key, grant, kind, otherKey, other, otherSetting = "list", r.List, "access list", "role", r.Role, "roles"
		}
		switch {
		case grant == "":
			add(f+"."+key, "required: the %s this rule grants", kind)
		case !resource.ValidName(grant):
			add(f+"."+key, "%q is not a valid %s name", truncate(grant, 40), kind)
		}
		if other != "" {
			add(f+"."+otherKey, "not allowed under %s (a rule granting a %s goes under %s)", setting, otherKey, otherSetting)
		}
	}
}

// checkIssuer requires an absolute https URL (http only on a loopback host: a test provider, or
// one behind a local proxy), without query or fragment, as OpenID Connect Discovery does.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("required: the provider's issuer URL, like https://company.okta.com")
	}
	if len(issuer) > maxURL {
		return fmt.Errorf("is %d bytes long; at most %d", len(issuer), maxURL)
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL like https://company.okta.com", truncate(issuer, 80))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: an issuer has no query, fragment or user information", truncate(issuer, 80))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return fmt.Errorf("%q: the issuer must be https (http only on a loopback address)", truncate(issuer, 80))
		}
	default:
		return fmt.Errorf("%q: the issuer must be an https URL", truncate(issuer, 80))
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkDomain(d string) error {
	if strings.HasPrefix(d, "@") || strings.Contains(d, "@") {
		return fmt.Errorf("%q: write the domain alone, like example.com", truncate(d, 80))
	}
	if d == "" || len(d) > 253 {
		return fmt.Errorf("%q is not a domain like example.com", truncate(d, 80))
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a domain like example.com (no dot)", d)
	}
	for _, l := range labels {
		if !domainLabelRE.MatchString(l) {
			return fmt.Errorf("%q is not a domain like example.com", truncate(d, 80))
		}
	}
	return nil
}

func claimNameOK(s string) bool {
	return s != "" && len(s) <= maxClaimName && printable(s)
}

// printable: valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// scopes is what is asked for: the configured scopes (or the defaults), with openid first.
func (c *Config) scopes() []string {
	s := c.Scopes
	if len(s) == 0 {
		s = DefaultScopes
	}
	out := []string{"openid"}
	for _, x := range s {
		if x != "openid" {
			out = append(out, x)
		}
	}
	return out
}

func (c *Config) userNameClaim() string {
	if c.UserNameClaim == "" {
		return DefaultUserNameClaim
	}
	return c.UserNameClaim
}

// emailIsChecked: the email is what admits the person (it is their user name, or its domain is
// checked), so it must be one the provider verified.
func (c *Config) emailIsChecked() bool {
	return c.userNameClaim() == "email" || len(c.AllowedDomains) > 0
}

// Origin is the origin of the users the connector creates, and the key of its records: oidc:<name>.
func (c *Config) Origin() string { return resource.OriginOIDCPrefix + c.Name }
