// Package awsconfig makes the AWS CLI's configuration for what a warden user holds: an
// [sso-session NAME] section and one [profile ...] per account × permission set, and merges it into
// an existing ~/.aws/config by owning only a marked block of that file.
//
// The block begins and ends with marker comments naming warden and the sso-session:
//
//	# >>> warden sso-session warden: made by warden aws config; edits inside are replaced >>>
//	...
//	# <<< warden sso-session warden <<<
//
// Everything outside it (the user's own profiles and comments) is kept byte for byte; a profile the
// user defined with a name warden would use keeps it, and warden's is renamed (with a warning).
package awsconfig

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

const (
	// DefaultSession is the sso-session's name unless told otherwise.
	DefaultSession = "warden"
	// DefaultTemplate names a profile: the permission set, "-on-", the account's name lowercased
	// with every character other than [a-z0-9-] as "-".
	DefaultTemplate = "{{.PermissionSet}}-on-{{.Account}}"
	// DefaultOutput is the profiles' output format.
	DefaultOutput = "json"
	// Scopes is what the sso-session registers for.
	Scopes = "sso:account:access"

	// MaxFile bounds the config file read and merged.
	MaxFile = 4 << 20
	// MaxTemplate bounds a name template.
	MaxTemplate = 256
	// MaxName bounds a profile name.
	MaxName = 128
	// MaxEntries bounds the profiles of one block.
	MaxEntries = 20000
)

// Entry is one account × permission set a user holds, or may request.
type Entry struct {
	AccountID     string `json:"account_id"`
	AccountName   string `json:"account_name,omitempty"`
	PermissionSet string `json:"permission_set"`
	// Requestable: the user does not hold it now but may request it; Request is the command that
	// asks for it.
	Requestable bool   `json:"requestable,omitempty"`
	Request     string `json:"request,omitempty"`
}

// Options are the settings of the generated configuration.
type Options struct {
	Session   string // sso-session name (default "warden")
	StartURL  string // the access portal's start URL
	SSORegion string // Identity Center's region
	Region    string // the profiles' region (default: SSORegion)
	Output    string // the profiles' output (default "json")
	Template  string // profile name template (default DefaultTemplate)
	// Services, when set, names a [services NAME] section, written in the block with Endpoints
	// (service id -> endpoint URL), that the sso-session and every profile refer to.
	Services  string
	Endpoints map[string]string
}

// Session is the sso-session section.
type Session struct {
	Name               string `json:"name"`
	StartURL           string `json:"start_url"`
	Region             string `json:"region"`
	RegistrationScopes string `json:"registration_scopes"`
}

// Profile is one generated profile.
type Profile struct {
	Name string `json:"name"`
	Entry
	Region string `json:"region"`
	Output string `json:"output"`
}

// EndpointsSection is the name of the [services] section that Options.Endpoints fill, for a
// simulator (warden demo's, or `warden aws config --endpoint-url`).
const EndpointsSection = "warden-sim"

// DemoEndpoints are the [services] entries that send every client of an AWS SSO sign-in (SSO OIDC,
// the portal, STS) to one endpoint, by the keys the SDKs and AWS CLIs from 2.13 look up: the service
// id lowercased, spaces as "_" (sso_oidc, as in AWS_ENDPOINT_URL_SSO_OIDC).
func DemoEndpoints(url string) map[string]string {
	return map[string]string{"sso_oidc": url, "sso": url, "sts": url}
}

// Config is the sso-session and the profiles, named.
type Config struct {
	Session   Session           `json:"session"`
	Services  string            `json:"services,omitempty"`
	Endpoints map[string]string `json:"endpoints,omitempty"`
	Profiles  []Profile         `json:"profiles"`
	// Warnings say what was renamed and why.
	Warnings []string `json:"warnings,omitempty"`
}

var (
	sessionName = regexp.MustCompile(`^[A-Za-z0-9_.@+=,-]{1,64}$`)
	accountID   = regexp.MustCompile(`^[0-9]{12}$`)
	region      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	output      = regexp.MustCompile(`^(json|yaml|yaml-stream|text|table)$`)
)

func (o Options) withDefaults() Options {
	o.Session = cmp.Or(o.Session, DefaultSession)
	o.Region = cmp.Or(o.Region, o.SSORegion)
	o.Output = cmp.Or(o.Output, DefaultOutput)
	o.Template = cmp.Or(o.Template, DefaultTemplate)
	return o
}

// check refuses settings that would not make a config the AWS CLI reads as meant.
func (o Options) check() error {
	switch {
	case !sessionName.MatchString(o.Session):
		return fmt.Errorf("session name %q: use 1-64 of A-Z a-z 0-9 _ . @ + = , -", o.Session)
	case o.StartURL == "" || len(o.StartURL) > 1024 || strings.ContainsAny(o.StartURL, " \t\r\n#;"):
		return fmt.Errorf("start URL %q: want the access portal's URL (saml.start_url)", o.StartURL)
	case !region.MatchString(o.SSORegion):
		return fmt.Errorf("SSO region %q is not an AWS region", o.SSORegion)
	case !region.MatchString(o.Region):
		return fmt.Errorf("region %q is not an AWS region", o.Region)
	case !output.MatchString(o.Output):
		return fmt.Errorf("output %q: want json, yaml, yaml-stream, text or table", o.Output)
	case len(o.Template) > MaxTemplate:
		return fmt.Errorf("name template: longer than %d characters", MaxTemplate)
	}
	if o.Services != "" && !sessionName.MatchString(o.Services) {
		return fmt.Errorf("services name %q: use 1-64 of A-Z a-z 0-9 _ . @ + = , -", o.Services)
	}
	for svc, u := range o.Endpoints {
		if !regexp.MustCompile(`^[a-z0-9_-]{1,32}$`).MatchString(svc) || u == "" || len(u) > 1024 || strings.ContainsAny(u, " \t\r\n#;") {
			return fmt.Errorf("endpoint %q = %q is not a service id and URL", svc, u)
		}
	}
	return nil
}

// nameFields are what a name template may use.
type nameFields struct {
	PermissionSet string // the permission set's name
	Account       string // the account's name, lowercased, other than [a-z0-9-] as "-" (its id when it has no name)
	AccountName   string // the account's name as it is
	AccountID     string // the 12-digit id
}

// Namer names profiles by a template.
type Namer struct{ t *template.Template }

// NewNamer parses a name template ("" is DefaultTemplate).
func NewNamer(tmpl string) (*Namer, error) {
	tmpl = cmp.Or(tmpl, DefaultTemplate)
	if len(tmpl) > MaxTemplate {
		return nil, fmt.Errorf("name template: longer than %d characters", MaxTemplate)
	}
	t, err := template.New("name").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("name template: %w", err)
	}
	n := &Namer{t}
	if _, err := n.Name(Entry{AccountID: "123456789012", AccountName: "Example", PermissionSet: "ReadOnly"}); err != nil {
		return nil, err
	}
	return n, nil
}

// Slug is an account name as profile names carry it: lowercased, every character other than
// [a-z0-9-] as "-".
func Slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// clean keeps a profile name to what the AWS CLI's config reads back as written: [A-Za-z0-9._@+=,-],
// anything else as "-".
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@+=,-", r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Name is the profile name of e by the template, before collisions are resolved.
func (n *Namer) Name(e Entry) (string, error) {
	acct := Slug(e.AccountName)
	if strings.Trim(acct, "-") == "" {
		acct = e.AccountID
	}
	var b bytes.Buffer
	if err := n.t.Execute(&b, nameFields{PermissionSet: e.PermissionSet, Account: acct, AccountName: e.AccountName, AccountID: e.AccountID}); err != nil {
		return "", fmt.Errorf("name template: %w", err)
	}
	name := clean(strings.TrimSpace(b.String()))
	switch {
	case name == "":
		return "", errors.New("name template: gives an empty name")
	case len(name) > MaxName:
		return "", fmt.Errorf("name template: gives a name longer than %d characters", MaxName)
	}
	return name, nil
}

// ProfileName is e's profile name by the default template, as `warden request create --wait` and
// the API name it when nothing collides.
func ProfileName(e Entry) string {
	n, _ := NewNamer("")
	name, err := n.Name(e)
	if err != nil {
		return clean(e.PermissionSet + "-on-" + e.AccountID)
	}
	return name
}

// Build names the profiles of entries (held and requestable; an entry both held and requestable is
// held). Names already taken (reserved: the user's own profiles) and names two entries would share
// are made unique predictably: the entries in order of account id and permission set, the first
// keeps the name, the others get "-<account id>", then "-<account id>-2", "-3"... The same input
// gives the same names on every run.
func Build(o Options, entries []Entry, reserved map[string]bool) (*Config, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if len(entries) > MaxEntries {
		return nil, fmt.Errorf("%d profiles: more than %d", len(entries), MaxEntries)
	}
	namer, err := NewNamer(o.Template)
	if err != nil {
		return nil, err
	}
	byKey := map[string]Entry{}
	for _, e := range entries {
		if !accountID.MatchString(e.AccountID) {
			return nil, fmt.Errorf("account id %q: want 12 digits", e.AccountID)
		}
		if e.PermissionSet == "" || len(e.PermissionSet) > 64 || strings.ContainsAny(e.PermissionSet, " \t\r\n[]#;=") {
			return nil, fmt.Errorf("permission set name %q is not one", e.PermissionSet)
		}
		if strings.ContainsAny(e.Request, "\r\n") || len(e.Request) > 1024 {
			return nil, fmt.Errorf("request command for %s on %s: one line of at most 1024 characters", e.PermissionSet, e.AccountID)
		}
		e.AccountName = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, e.AccountName)
		k := e.AccountID + "\x00" + e.PermissionSet
		if prev, ok := byKey[k]; ok && !prev.Requestable {
			continue // held wins over requestable
		}
		byKey[k] = e
	}
	sorted := make([]Entry, 0, len(byKey))
	for _, e := range byKey {
		sorted = append(sorted, e)
	}
	slices.SortFunc(sorted, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.PermissionSet, b.PermissionSet))
	})
	cfg := &Config{
		Session:  Session{Name: o.Session, StartURL: o.StartURL, Region: o.SSORegion, RegistrationScopes: Scopes},
		Services: o.Services, Endpoints: o.Endpoints,
		Profiles: make([]Profile, 0, len(sorted)),
	}
	wanted := make([]string, len(sorted))
	for i, e := range sorted {
		if wanted[i], err = namer.Name(e); err != nil {
			return nil, err
		}
	}
	// A name wanted by an entry is kept for the first entry wanting it; a later one gets a suffix
	// that no entry wants as its plain name and nobody reserved.
	plain := map[string]bool{}
	for _, n := range wanted {
		plain[n] = true
	}
	taken, seen := map[string]bool{}, map[string]bool{}
	for i, e := range sorted {
		name := wanted[i]
		first := !seen[name]
		seen[name] = true
		if reserved[name] || taken[name] {
			base := name + "-" + e.AccountID
			cand := base
			for n := 2; reserved[cand] || taken[cand] || plain[cand]; n++ {
				cand = base + "-" + strconv.Itoa(n)
			}
			if reserved[name] && first {
				cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("profile %q is yours (outside warden's block), so warden's profile for %s on %s is named %q", name, e.PermissionSet, accountLabel(e), cand))
			}
			name = cand
		}
		taken[name] = true
		cfg.Profiles = append(cfg.Profiles, Profile{Name: name, Entry: e, Region: o.Region, Output: o.Output})
	}
	return cfg, nil
}

func accountLabel(e Entry) string {
	if e.AccountName != "" {
		return e.AccountName + " (" + e.AccountID + ")"
	}
	return e.AccountID
}

// BeginMarker and EndMarker are the comment lines around warden's block for an sso-session.
func BeginMarker(session string) string {
	return "# >>> warden sso-session " + session + ": made by warden aws config; edits inside are replaced >>>"
}

// EndMarker ends the block.
func EndMarker(session string) string { return "# <<< warden sso-session " + session + " <<<" }

// Block is the marked block, lines ended by nl ("\n" or "\r\n").
func (c *Config) Block(nl string) []byte {
	var b bytes.Buffer
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString(nl)
	}
	line("%s", BeginMarker(c.Session.Name))
	line("[sso-session %s]", c.Session.Name)
	line("sso_start_url = %s", c.Session.StartURL)
	line("sso_region = %s", c.Session.Region)
	line("sso_registration_scopes = %s", c.Session.RegistrationScopes)
	if c.Services != "" {
		line("services = %s", c.Services)
		line("")
		line("[services %s]", c.Services)
		svcs := make([]string, 0, len(c.Endpoints))
		for s := range c.Endpoints {
			svcs = append(svcs, s)
		}
		slices.Sort(svcs)
		for _, s := range svcs {
			line("%s =", s)
			line("  endpoint_url = %s", c.Endpoints[s])
		}
	}
	for _, p := range c.Profiles {
		line("")
		if p.Requestable {
			req := p.Request
			if req == "" {
				req = "warden request create --resource account=" + p.AccountID + ",permission_set=" + p.PermissionSet
			}
			line("# requestable: %s", req)
		}
		line("[profile %s]", p.Name)
		line("sso_session = %s", c.Session.Name)
		line("sso_account_id = %s", p.AccountID)
		line("sso_role_name = %s", p.PermissionSet)
		line("region = %s", p.Region)
		line("output = %s", p.Output)
		if c.Services != "" {
			line("services = %s", c.Services)
		}
	}
	line("%s", EndMarker(c.Session.Name))
	return b.Bytes()
}

// INI is the block alone, as a file of its own.
func (c *Config) INI() []byte { return c.Block("\n") }
