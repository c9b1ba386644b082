package resource

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sosodev/duration"
)

// FieldError is a problem with one field: Field is the path from the top of the document.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errors is every problem found in one resource, in document order. Its Error is the first problem,
// followed by how many more there are.
type Errors []*FieldError

func (e Errors) Error() string {
	switch len(e) {
	case 0:
		return "no errors"
	case 1:
		return e[0].Error()
	default:
		return fmt.Sprintf("%s (and %d more problems)", e[0].Error(), len(e)-1)
	}
}

// First returns the first field error inside err, if it holds any.
func First(err error) *FieldError {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	var es Errors
	if errors.As(err, &es) && len(es) > 0 {
		return es[0]
	}
	return nil
}

type validator struct{ errs Errors }

func (v *validator) add(field, format string, args ...any) {
	v.errs = addProblem(v.errs, field, format, args...)
}

// maxProblems is how many problems of one resource are kept: a resource of twenty thousand bad values
// (or keys given twice) is not answered with twenty thousand messages.
const maxProblems = 100

// addProblem appends a problem to errs, up to maxProblems and then one saying that more were found.
func addProblem(errs Errors, field, format string, args ...any) Errors {
	switch {
	case len(errs) < maxProblems:
		return append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	case len(errs) == maxProblems:
		return append(errs, &FieldError{Field: field, Message: fmt.Sprintf("more problems (only the first %d are listed)", maxProblems)})
	}
	return errs
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

// Validate checks o on its own: envelope, name and spec. It does not look at other resources.
func Validate(o *Object) error {
	v := &validator{}
	_, ok := kinds[o.Kind]
	switch {
	case o.Kind == "":
		v.add("kind", "required (one of %s)", kindList())
		return v.err()
	case !ok:
		v.add("kind", "unknown kind %q (known kinds: %s)", o.Kind, kindList())
		return v.err()
	}
	if o.Version != Version {
		v.add("version", "%q is not a supported version (use %s)", o.Version, Version)
	}
	if o.Spec == nil {
		o.Spec = NewSpec(o.Kind)
	}
	validateMetadata(v, &o.Metadata)
	o.Spec.validate(v, &o.Metadata)
	return v.err()
}

func validateMetadata(v *validator, m *Metadata) {
	if n := utf8.RuneCountInString(m.Description); n > 1024 {
		v.add("metadata.description", "is %d characters long; at most 1024", n)
	}
	for k, val := range m.Labels {
		if !labelKeyRE.MatchString(k) {
			v.add("metadata.labels."+k, "label key %q must be 1-63 letters, digits, '.', '_', '-' or '/'", k)
		}
		if len(val) > 256 {
			v.add("metadata.labels."+k, "label value is %d bytes long; at most 256", len(val))
		}
	}
}

var (
	labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$`)
	// nameRE is the rule for role, access list and access request names: safe in URLs, files and YAML.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+=,.@-]{0,127}$`)
	// userNameRE follows Identity Center's userName: up to 128 characters, no spaces.
	userNameRE = regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]{1,128}$`)
	// permissionSetNameRE is Identity Center's rule for permission set names.
	permissionSetNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	// permissionSetARNRE follows the sso-admin API model's pattern for PermissionSetArn.
	permissionSetARNRE = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)
	accountIDRE        = regexp.MustCompile(`^[0-9]{12}$`)
	nameGlobRE         = regexp.MustCompile(`^[A-Za-z0-9_+=,.@*?-]{1,128}$`)
	permissionSetGlob  = regexp.MustCompile(`^[\w+=,.@*?-]{1,64}$`)
	allDigitsRE        = regexp.MustCompile(`^[0-9]+$`)
	managedPolicyARNRE = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/[\w+=,.@/-]{1,512}$`)
	traitKeyRE         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$`)
)

const nameRule = "1-128 letters, digits or _+=,.@- starting with a letter or digit"

func checkName(v *validator, field, name string) {
	switch {
	case name == "":
		v.add(field, "required")
	case !nameRE.MatchString(name):
		v.add(field, "%q is not a valid name: use %s", name, nameRule)
	}
}

func checkUserName(v *validator, field, name string) {
	switch {
	case name == "":
		v.add(field, "required")
	case !ValidUserName(name):
		v.add(field, "%q is not a valid user name: use 1-128 letters, digits or _+=,.@- (no spaces, not only dots)", name)
	}
}

// checkNameList checks a list of names (globs allowed when globs is true) for syntax and duplicates.
func checkNameList(v *validator, field string, names []string, globs bool, check func(*validator, string, string)) {
	seen := map[string]int{}
	for i, n := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		if prev, dup := seen[n]; dup {
			v.add(f, "%q is listed twice (also at [%d])", n, prev)
			continue
		}
		seen[n] = i
		if globs && IsGlob(n) {
			if len(n) > 128 {
				v.add(f, "glob %q must be 1-128 characters", n)
			} else if !nameGlobRE.MatchString(n) {
				v.add(f, "glob %q may hold only * and ? besides the characters of a name (%s)", n, nameRule)
			}
			continue
		}
		check(v, f, n)
	}
}

func checkText(v *validator, field, s string, max int) {
	if n := utf8.RuneCountInString(s); n > max {
		v.add(field, "is %d characters long; at most %d", n, max)
	}
}

func checkTraits(v *validator, field string, traits map[string][]string) {
	for k, vals := range traits {
		f := field + "." + k
		if !traitKeyRE.MatchString(k) {
			v.add(f, "trait name %q must be 1-128 letters, digits or _.:/- starting with a letter or digit", k)
		}
		for i, val := range vals {
			if val == "" {
				v.add(fmt.Sprintf("%s[%d]", f, i), "empty trait value")
			}
		}
	}
}

var origins = []string{"", "warden", "identity_center"}

func checkOneOf(v *validator, field, value string, allowed []string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	v.add(field, "%q is not one of %s", value, strings.Join(shown, ", "))
}

func checkEmail(v *validator, field, email string) {
	if email == "" {
		return
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		v.add(field, "%q is not an email address like alice@example.com", email)
	}
}

// checkAccountRef: a 12-digit id, an account name, or a glob.
func checkAccountRef(v *validator, field, account string, globs bool) {
	switch {
	case account == "":
		v.add(field, "required: a 12-digit account id, an account name or a glob")
	case IsGlob(account) && !globs:
		v.add(field, "%q is a glob; name one account here (its 12-digit id or its name)", account)
	case allDigitsRE.MatchString(account) && !accountIDRE.MatchString(account),
		!accountNameOK(account):
		v.add(field, "%q is not a 12-digit account id, an account name or a glob", account)
	}
}

// accountNameOK follows Organizations: 1-50 printable ASCII characters (and, here, no spaces at
// either end, which nobody means and nobody can see).
func accountNameOK(s string) bool {
	if len(s) == 0 || len(s) > 50 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// checkPermissionSetRef: a permission set name, its ARN, or a glob over names.
func checkPermissionSetRef(v *validator, field, ps string, globs bool) {
	switch {
	case ps == "":
		v.add(field, "required: a permission set name, ARN or glob")
	case strings.HasPrefix(ps, "arn:"):
		if !permissionSetARNRE.MatchString(ps) {
			v.add(field, "%q is a malformed permission set ARN (want arn:aws:sso:::permissionSet/ssoins-<16 characters>/ps-<16 characters>)", ps)
		}
	case IsGlob(ps):
		if !globs {
			v.add(field, "%q is a glob; name one permission set here", ps)
		} else if len(ps) > 64 {
			v.add(field, "glob %q is longer than 64 characters", ps)
		} else if !permissionSetGlob.MatchString(ps) {
			v.add(field, "glob %q may hold only * and ? besides the characters of a permission set name (_+=,.@-)", ps)
		}
	case !permissionSetNameRE.MatchString(ps):
		v.add(field, "%q is not a permission set name (1-32 letters, digits or _+=,.@-), ARN or glob", ps)
	}
}

func checkAssignments(v *validator, field string, as []AccountAssignment, globs bool) {
	seen := map[AccountAssignment]int{}
	for i, a := range as {
		f := fmt.Sprintf("%s[%d]", field, i)
		if prev, dup := seen[a]; dup {
			v.add(f, "account %q with permission set %q is listed twice (also at [%d])", a.Account, a.PermissionSet, prev)
			continue
		}
		seen[a] = i
		checkAccountRef(v, f+".account", a.Account, globs)
		checkPermissionSetRef(v, f+".permission_set", a.PermissionSet, globs)
	}
}

// checkGoDuration parses a duration in Go's form ("8h", "90m") and requires it to be positive.
func checkGoDuration(v *validator, field, s string, max time.Duration) {
	if s == "" {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && strings.HasPrefix(strings.ToUpper(s), "P"):
		v.add(field, "%q is an ISO-8601 duration; write this one in Go's form, like 8h or 90m", s)
	case err != nil:
		v.add(field, "%q is not a duration like 8h, 90m or 1h30m", s)
	case d <= 0:
		v.add(field, "%q must be positive", s)
	case max > 0 && d > max:
		v.add(field, "%q is longer than the maximum %s", s, max)
	}
}

// isoDurationRE is ISO 8601's duration: designators in order, each at most once, numbers with digits
// before any fraction.
var isoDurationRE = regexp.MustCompile(`^-?P(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$`)

// ErrISODurationRange is ParseISODuration's error for a duration too long to be a time.Duration.
var ErrISODurationRange = errors.New("longer than 100 years")

// maxISODuration bounds what ParseISODuration converts: far beyond any duration warden takes, and
// far from time.Duration's limit of about 292 years, so that no sum of components can wrap round.
const maxISODuration = 100 * 365 * 24 * time.Hour

// ParseISODuration parses an ISO-8601 duration such as PT8H, strictly. Its components are
// range-checked before they are converted: the conversion itself wraps round silently
// (P99999999999999999999Y99999999999999999999MT8H would be 8h), so anything longer than 100 years
// is ErrISODurationRange.
func ParseISODuration(s string) (time.Duration, error) {
	if len(s) > 100 {
		// As AWS's session durations. The parser's time grows with the square of a number's length:
		// a 100 KB number took 3.5 s and 5 GB of garbage.
		return 0, errors.New("not an ISO 8601 duration: longer than 100 characters")
	}
	if !isoDurationRE.MatchString(s) || strings.HasSuffix(s, "P") || strings.HasSuffix(s, "T") {
		// The parser takes PT8H8H, PPT8H or PT8HT1H too (as 8h, 8h and 1h), and P or PT as 0.
		return 0, errors.New("not an ISO 8601 duration")
	}
	d, err := duration.Parse(s)
	if err != nil {
		return 0, err
	}
	const day, hour = 24 * 3600.0, 3600.0
	secs := d.Years*365*day + d.Months*365/12*day + d.Weeks*7*day + d.Days*day + d.Hours*hour + d.Minutes*60 + d.Seconds
	if math.IsNaN(secs) || secs > maxISODuration.Seconds() { // components are never negative
		return 0, ErrISODurationRange
	}
	return d.ToTimeDuration(), nil
}

func checkRequired(v *validator, field, s string) bool {
	if strings.TrimSpace(s) == "" {
		v.add(field, "required")
		return false
	}
	return true
}

// ---- per kind ----

func (s *UserSpec) validate(v *validator, m *Metadata) {
	checkUserName(v, "metadata.name", m.Name)
	checkText(v, "spec.display_name", s.DisplayName, 1024)
	checkText(v, "spec.given_name", s.GivenName, 1024)
	checkText(v, "spec.family_name", s.FamilyName, 1024)
	checkEmail(v, "spec.email", s.Email)
	checkNameList(v, "spec.roles", s.Roles, false, checkName)
	checkTraits(v, "spec.traits", s.Traits)
	checkUserOrigin(v, s.Origin)
	checkUpstream(v, s.Upstream)
}

// checkUserOrigin: warden, identity_center, oidc:<connector> or scim:<connector>.
func checkUserOrigin(v *validator, origin string) {
	for _, p := range []string{OriginOIDCPrefix, OriginSCIMPrefix} {
		if c, ok := strings.CutPrefix(origin, p); ok {
			if !ValidConnectorName(c) {
				v.add("spec.origin", "%q does not name an upstream connector: %s<connector name>, the name 1-32 lower-case letters, digits, _ or -", origin, p)
			}
			return
		}
	}
	if !slices.Contains(origins, origin) {
		v.add("spec.origin", "%q is not one of warden, identity_center, oidc:<connector name> or scim:<connector name>", origin)
	}
}

// checkUpstream checks the upstream connectors' records on a user or list.
func checkUpstream(v *validator, ups map[string]*UpstreamRecord) {
	if len(ups) > maxUpstream {
		v.add("spec.upstream", "%d connectors; at most %d", len(ups), maxUpstream)
	}
	for k, r := range ups {
		f := "spec.upstream." + k
		oc, isOIDC := strings.CutPrefix(k, OriginOIDCPrefix)
		sc, isSCIM := strings.CutPrefix(k, OriginSCIMPrefix)
		if !(isOIDC && ValidConnectorName(oc)) && !(isSCIM && ValidConnectorName(sc)) {
			v.add(f, "%q is not an upstream connector: oidc:<connector name> or scim:<connector name>", k)
		}
		if r == nil {
			continue
		}
		if len(r.Subject) > 255 {
			v.add(f+".subject", "is %d bytes long; at most 255", len(r.Subject))
		}
		checkNameList(v, f+".roles", r.Roles, false, checkName)
		checkTraits(v, f+".traits", r.Traits)
		checkUpstreamID(v, f+".id", r.ID)
		checkUpstreamID(v, f+".external_id", r.ExternalID)
		if (r.ID != "" || r.ExternalID != "") && !isSCIM {
			v.add(f, "ids are kept only for SCIM connectors (scim:<connector name>)")
		}
	}
}

// checkUpstreamID: an identity provider's or warden's SCIM id, printable, at most 255 bytes.
func checkUpstreamID(v *validator, field, id string) {
	if len(id) > 255 {
		v.add(field, "is %d bytes long; at most 255", len(id))
		return
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			v.add(field, "%q holds a control character or invalid UTF-8", id)
			return
		}
	}
}

// maxUpstream bounds the connectors that keep a record on one user.
const maxUpstream = 16

// connectorNameRE is the rule for an upstream connector's name: it is part of an origin, of a
// record's key and of sign-in URLs.
var connectorNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ValidConnectorName reports whether name may name an upstream connector: 1-32 lower-case letters,
// digits, '_' or '-', starting with a letter or digit.
func ValidConnectorName(name string) bool { return connectorNameRE.MatchString(name) }

// ValidUserName reports whether name is a valid user name (Identity Center's userName rule).
func ValidUserName(name string) bool {
	return userNameRE.MatchString(name) && strings.Trim(name, ".") != ""
}

// ValidName reports whether name is a valid role, access list or access request name.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ValidTraitName reports whether name is a valid trait name.
func ValidTraitName(name string) bool { return traitKeyRE.MatchString(name) }

func (s *RoleSpec) validate(v *validator, m *Metadata) {
	checkName(v, "metadata.name", m.Name)
	s.Allow.validate(v, "spec.allow", true)
	s.Deny.validate(v, "spec.deny", false)
}

func (c *RoleConditions) validate(v *validator, field string, allow bool) {
	checkAssignments(v, field+".account_assignments", c.AccountAssignments, true)
	if r := c.Request; r != nil {
		f := field + ".request"
		checkNameList(v, f+".roles", r.Roles, true, checkName)
		checkAssignments(v, f+".account_assignments", r.AccountAssignments, true)
		if allow {
			checkGoDuration(v, f+".max_duration", r.MaxDuration, 366*24*time.Hour)
			checkOneOf(v, f+".reason", r.Reason, []string{"", "required", "optional"})
			for i, t := range r.Thresholds {
				tf := fmt.Sprintf("%s.thresholds[%d]", f, i)
				if t.Approve != nil && *t.Approve < 1 {
					v.add(tf+".approve", "%d: a threshold must be at least 1", *t.Approve)
				}
				if t.Deny != nil && *t.Deny < 1 {
					v.add(tf+".deny", "%d: a threshold must be at least 1", *t.Deny)
				}
			}
		} else {
			if r.MaxDuration != "" {
				v.add(f+".max_duration", "only allowed under allow")
			}
			if r.Reason != "" {
				v.add(f+".reason", "only allowed under allow")
			}
			if len(r.Thresholds) > 0 {
				v.add(f+".thresholds", "only allowed under allow")
			}
		}
	}
	if r := c.ReviewRequests; r != nil {
		checkNameList(v, field+".review_requests.roles", r.Roles, true, checkName)
	}
}

func (s *AccessListSpec) validate(v *validator, m *Metadata) {
	checkName(v, "metadata.name", m.Name)
	if checkRequired(v, "spec.title", s.Title) {
		checkText(v, "spec.title", s.Title, 1024)
	}
	if len(s.Owners) == 0 {
		v.add("spec.owners", "required: at least one owner (a user name)")
	}
	checkNameList(v, "spec.owners", s.Owners, false, checkUserName)
	checkNameList(v, "spec.grants.roles", s.Grants.Roles, false, checkName)
	checkTraits(v, "spec.grants.traits", s.Grants.Traits)
	if a := s.Audit; a != nil {
		switch a.Recurrence.Frequency {
		case 1, 3, 6, 12:
		default:
			v.add("spec.audit.recurrence.frequency", "%d is not one of 1, 3, 6 or 12 (months)", a.Recurrence.Frequency)
		}
		checkOneOf(v, "spec.audit.recurrence.day_of_month", string(a.Recurrence.DayOfMonth), []string{"", "1", "15", "last"})
	}
	if r := s.MembershipRequires; r != nil {
		checkNameList(v, "spec.membership_requires.roles", r.Roles, false, checkName)
		checkTraits(v, "spec.membership_requires.traits", r.Traits)
	}
	if c, ok := strings.CutPrefix(s.Origin, OriginSCIMPrefix); ok {
		if !ValidConnectorName(c) {
			v.add("spec.origin", "%q does not name an upstream connector: scim:<connector name>, the name 1-32 lower-case letters, digits, _ or -", s.Origin)
		}
	} else if !slices.Contains(origins, s.Origin) {
		v.add("spec.origin", "%q is not one of warden, identity_center or scim:<connector name>", s.Origin)
	}
	checkUpstream(v, s.Upstream)
	for k := range s.Upstream {
		if !strings.HasPrefix(k, OriginSCIMPrefix) {
			v.add("spec.upstream."+k, "an access list keeps records of SCIM connectors only (scim:<connector name>)")
		}
	}
}

func (s *AccessListMemberSpec) validate(v *validator, m *Metadata) {
	checkName(v, "spec.list", s.List)
	checkOneOf(v, "spec.member_kind", s.MemberKind, []string{"", MemberUser, MemberList})
	if s.Kind() == MemberList {
		checkName(v, "spec.member", s.Member)
		if s.Member == s.List && s.List != "" {
			v.add("spec.member", "access list %q cannot be a member of itself", s.List)
		}
	} else {
		checkUserName(v, "spec.member", s.Member)
	}
	if s.List != "" && s.Member != "" {
		want := MemberName(s.List, s.Member, s.Kind())
		if m.Name != "" && m.Name != want {
			v.add("metadata.name", "%q must be %q or left out", m.Name, want)
		}
	} else if m.Name != "" && !strings.Contains(m.Name, "/") {
		v.add("metadata.name", "%q must be <list>/<member>", m.Name)
	}
	checkText(v, "spec.reason", s.Reason, 1024)
}

func (s *AccessRequestSpec) validate(v *validator, m *Metadata) {
	if m.Name != "" {
		checkName(v, "metadata.name", m.Name)
	}
	checkUserName(v, "spec.user", s.User)
	if len(s.Roles) == 0 && len(s.Resources) == 0 {
		v.add("spec.roles", "required: request roles or resources (an account and permission set)")
	}
	if len(s.Roles) > 0 && len(s.Resources) > 0 {
		v.add("spec.resources", "request either roles or resources, not both")
	}
	checkNameList(v, "spec.roles", s.Roles, false, checkName)
	for i, r := range s.Resources {
		f := fmt.Sprintf("spec.resources[%d]", i)
		checkAccountRef(v, f+".account", r.Account, false)
		checkPermissionSetRef(v, f+".permission_set", r.PermissionSet, false)
		checkText(v, f+".account_name", r.AccountName, 256)
		checkText(v, f+".permission_set_name", r.PermissionSetName, 32)
	}
	checkText(v, "spec.reason", s.Reason, 4096)
	checkText(v, "spec.end_reason", s.EndReason, 4096)
	checkOneOf(v, "spec.state", s.State, []string{"", StatePending, StateApproved, StateDenied, StateExpired, StateCancelled})
	checkGoDuration(v, "spec.duration", s.Duration, 366*24*time.Hour)
	checkIssuer(v, "spec.token_issuer", s.TokenIssuer)
	if s.Start != nil && s.End != nil && !s.End.After(*s.Start) {
		v.add("spec.end", "%s is not after spec.start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	authors := map[string]int{}
	for i, r := range s.Reviews {
		f := fmt.Sprintf("spec.reviews[%d]", i)
		if r.Author != BootstrapAdmin { // the bootstrap administrator reviews as itself
			checkUserName(v, f+".author", r.Author)
		}
		checkIssuer(v, f+".token_issuer", r.TokenIssuer)
		if prev, dup := authors[r.Author]; dup && r.Author != "" {
			v.add(f+".author", "%q already reviewed this request (at [%d]); a reviewer reviews once", r.Author, prev)
		}
		authors[r.Author] = i
		if r.Author != "" && r.Author == s.User {
			v.add(f+".author", "%q cannot review their own request", r.Author)
		}
		checkOneOf(v, f+".decision", r.Decision, []string{DecisionApprove, DecisionDeny})
		checkText(v, f+".reason", r.Reason, 4096)
	}
}

func (s *PermissionSetSpec) validate(v *validator, m *Metadata) {
	switch {
	case m.Name == "":
		v.add("metadata.name", "required")
	case !permissionSetNameRE.MatchString(m.Name):
		v.add("metadata.name", "%q is not a permission set name: 1-32 letters, digits or _+=,.@-", m.Name)
	}
	if s.ARN != "" && !permissionSetARNRE.MatchString(s.ARN) {
		v.add("spec.arn", "%q is a malformed permission set ARN (want arn:aws:sso:::permissionSet/ssoins-<16 characters>/ps-<16 characters>)", s.ARN)
	}
	if utf8.RuneCountInString(m.Description) > 700 {
		v.add("metadata.description", "a permission set description is at most 700 characters")
	}
	if s.SessionDuration != "" {
		d, err := ParseISODuration(s.SessionDuration)
		switch {
		case errors.Is(err, ErrISODurationRange):
			v.add("spec.session_duration", "%q is outside PT1H..PT12H", s.SessionDuration)
		case err != nil:
			hint := ""
			if _, gerr := time.ParseDuration(s.SessionDuration); gerr == nil {
				hint = "; AWS wants ISO-8601 here, like PT8H"
			}
			v.add("spec.session_duration", "%q is not an ISO-8601 duration like PT8H%s", s.SessionDuration, hint)
		case d < time.Hour || d > 12*time.Hour:
			v.add("spec.session_duration", "%q is outside PT1H..PT12H", s.SessionDuration)
		}
	}
	checkText(v, "spec.relay_state", s.RelayState, 240)
	if s.InlinePolicy != "" {
		var doc map[string]any
		if len(s.InlinePolicy) > 32768 {
			v.add("spec.inline_policy", "is %d bytes; an inline policy is at most 32768", len(s.InlinePolicy))
		} else if err := json.Unmarshal([]byte(s.InlinePolicy), &doc); err != nil {
			v.add("spec.inline_policy", "is not a JSON policy document: %v", err)
		}
	}
	if len(s.ManagedPolicies) > 20 {
		v.add("spec.managed_policies", "%d policies; a permission set holds at most 20", len(s.ManagedPolicies))
	}
	checkNameList(v, "spec.managed_policies", s.ManagedPolicies, false, func(v *validator, f, arn string) {
		if !managedPolicyARNRE.MatchString(arn) {
			v.add(f, "%q is not an AWS managed policy ARN like arn:aws:iam::aws:policy/ReadOnlyAccess", arn)
		}
	})
}

func (s *AccountSpec) validate(v *validator, m *Metadata) {
	if !accountIDRE.MatchString(m.Name) {
		v.add("metadata.name", "%q is not a 12-digit account id", m.Name)
	}
	switch {
	case s.Name == "":
		v.add("spec.name", "required: the account's name")
	case !accountNameOK(s.Name):
		v.add("spec.name", "%q is not an account name: 1-50 printable ASCII characters", s.Name)
	case allDigitsRE.MatchString(s.Name):
		v.add("spec.name", "%q: an account name of digits only cannot be told from an account id", s.Name)
	}
	checkEmail(v, "spec.email", s.Email)
	checkOneOf(v, "spec.status", s.Status, []string{"", "ACTIVE", "SUSPENDED", "PENDING_CLOSURE"})
}

func (s *APITokenSpec) validate(v *validator, m *Metadata) {
	checkName(v, "metadata.name", m.Name)
	if s.User != BootstrapAdmin || !s.Admin {
		checkUserName(v, "spec.user", s.User)
	}
	if s.SecretHash == "" {
		v.add("spec.secret_hash", "required")
	}
	checkIssuer(v, "spec.issuer", s.Issuer)
	if s.OnBehalf && (s.Issuer == "" || s.Issuer == s.User) {
		v.add("spec.on_behalf", "set only on a token its issuer minted for someone else")
	}
	checkOneOf(v, "spec.login", s.Login, []string{"", CLIFlowLoopback, CLIFlowDevice})
}

func (s *CLIGrantSpec) validate(v *validator, m *Metadata) {
	checkName(v, "metadata.name", m.Name)
	checkOneOf(v, "spec.flow", s.Flow, []string{CLIFlowLoopback, CLIFlowDevice, CLIFlowAttempts})
	if s.User != "" {
		checkUserName(v, "spec.user", s.User)
	}
	checkOneOf(v, "spec.state", s.State, []string{"", CLIGrantPending, CLIGrantApproved, CLIGrantDenied})
}

// checkIssuer checks the name of who minted a token: a user's name or warden:admin (or nothing).
func checkIssuer(v *validator, field, name string) {
	if name != "" && name != BootstrapAdmin {
		checkUserName(v, field, name)
	}
}

// ---- globs ----

// IsGlob reports whether s uses glob syntax: * for any run of characters, ? for one.
func IsGlob(s string) bool { return strings.ContainsAny(s, "*?") }

// MatchGlob reports whether name matches the glob pattern (or equals it, when it has no wildcards).
func MatchGlob(pattern, name string) bool {
	// Iterative matching with backtracking on the last star: linear in practice, no regexp compile.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*': // before the literal case: a '*' in name is no match for a star
			star, mark = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func (s *SyncRecordSpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	checkOneOf(v, "spec.type", s.Type, []string{RecordUser, RecordGroup, RecordAssignment, RecordUninstalled})
}
