package resource

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UserSpec is a person. metadata.name is the Identity Center userName.
type UserSpec struct {
	DisplayName string `json:"display_name,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	Email       string `json:"email,omitempty"`
	// Roles are the user's standing roles.
	Roles  []string            `json:"roles,omitempty"`
	Traits map[string][]string `json:"traits,omitempty"`
	// Admin makes the user a warden administrator: every resource and every operation.
	Admin bool `json:"admin,omitempty"`
	// Disabled keeps the user, their standing roles and their list memberships, but they hold
	// nothing while it is set: the sync gives them no group membership and no account assignment
	// in Identity Center (package policy), the request rules count nothing they hold, and warden's
	// SAML identity provider makes no assertion for them, so they cannot reach the AWS access
	// portal (docs/saml.md). Setting it does not itself end their sessions nor revoke their tokens;
	// a SCIM deactivation does both (package scim).
	Disabled bool `json:"disabled,omitempty"`
	// RemoveWhenDisabled: while the user is disabled, the sync deletes their Identity Center user
	// (if warden made it) instead of keeping it with nothing assigned. A SCIM connector with
	// deprovision: delete sets it on the users it disables (docs/scim.md).
	RemoveWhenDisabled bool `json:"remove_when_disabled,omitempty"`
	// Origin says where the user came from: warden (made here), identity_center (imported),
	// oidc:<connector> (created at their first sign-in through that upstream OIDC connector) or
	// scim:<connector> (provisioned by the company's identity provider over SCIM, which then owns
	// the user's profile: package manage refuses others' changes to it).
	Origin string `json:"origin,omitempty"`
	// Upstream is kept by warden: per upstream connector ("oidc:<connector>", "scim:<connector>")
	// that knows the user, the subject or ids it knows them by and, for OIDC, what it granted at
	// their last sign-in (package auth/oidc). A document that leaves it out keeps what is stored
	// (package manage).
	Upstream map[string]*UpstreamRecord `json:"upstream,omitempty"`
}

// OriginOIDCPrefix begins the origin of a user an upstream OIDC connector created, and the key of
// that connector's record on a user: "oidc:<connector>".
const OriginOIDCPrefix = "oidc:"

// OriginSCIMPrefix begins the origin of a user or access list an upstream SCIM connector
// provisioned, the key of that connector's record on it, and the actor of its changes:
// "scim:<connector>".
const OriginSCIMPrefix = "scim:"

// SCIMConnector returns the SCIM connector an origin names ("scim:entra" -> "entra", true).
func SCIMConnector(origin string) (string, bool) {
	c, ok := strings.CutPrefix(origin, OriginSCIMPrefix)
	return c, ok && ValidConnectorName(c)
}

// UpstreamRecord is what one upstream connector knows of a user: the subject the identity provider
// signs them in as, and the roles and trait values the connector added from the provider's claims
// (not those the user held already), so that a later sign-in removes exactly these when the claim
// that mapped them is gone, and never what an administrator granted by hand.
type UpstreamRecord struct {
	// Subject is the provider's stable identifier of the person (the ID token's sub); empty until
	// their next sign-in binds it.
	Subject string              `json:"subject,omitempty"`
	Roles   []string            `json:"roles,omitempty"`
	Traits  map[string][]string `json:"traits,omitempty"`
	// ID is, for a SCIM connector, the id warden gave the resource in that connector's SCIM
	// service (the SCIM "id"); ExternalID is the identity provider's own id for it ("externalId").
	ID         string `json:"id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// Index keys of what upstream connectors provisioned.
const (
	// IndexOrigin is a user's or access list's origin (only when it names a SCIM connector).
	IndexOrigin = "origin"
	// IndexUpstreamID is "<connector key>/<id>" of every upstream record with an id, and
	// IndexUpstreamExternalID the same with its external id.
	IndexUpstreamID         = "upstream_id"
	IndexUpstreamExternalID = "upstream_external_id"
)

// upstreamIndex indexes what SCIM connectors need to find a resource by: its origin, and the ids
// of its upstream records.
func upstreamIndex(origin string, ups map[string]*UpstreamRecord) []IndexEntry {
	var out []IndexEntry
	if strings.HasPrefix(origin, OriginSCIMPrefix) {
		out = append(out, IndexEntry{IndexOrigin, origin})
	}
	for k, r := range ups {
		if r == nil || !strings.HasPrefix(k, OriginSCIMPrefix) {
			continue
		}
		if r.ID != "" {
			out = append(out, IndexEntry{IndexUpstreamID, k + "/" + r.ID})
		}
		if r.ExternalID != "" {
			out = append(out, IndexEntry{IndexUpstreamExternalID, k + "/" + r.ExternalID})
		}
	}
	return out
}

// AccountAssignment names accounts and permission sets. Account is a 12-digit id, an account name or a
// glob over either; PermissionSet is a name, an ARN or a glob over names.
type AccountAssignment struct {
	Account       string `json:"account"`
	PermissionSet string `json:"permission_set"`
}

// RoleSpec grants account assignments and says what its holders may request and review.
type RoleSpec struct {
	Allow RoleConditions `json:"allow"`
	Deny  RoleConditions `json:"deny,omitzero"`
}

// RoleConditions is one side (allow or deny) of a role.
type RoleConditions struct {
	AccountAssignments []AccountAssignment `json:"account_assignments,omitempty"`
	Request            *RequestConditions  `json:"request,omitempty"`
	ReviewRequests     *ReviewConditions   `json:"review_requests,omitempty"`
}

// RequestConditions says what the holders of a role may request.
type RequestConditions struct {
	// Roles that may be requested: names or globs.
	Roles []string `json:"roles,omitempty"`
	// AccountAssignments that may be requested one at a time (resource requests).
	AccountAssignments []AccountAssignment `json:"account_assignments,omitempty"`
	// MaxDuration caps a request's access window, in Go's form (8h, 90m).
	MaxDuration string `json:"max_duration,omitempty"`
	// Reason is "required" or "optional" (the default).
	Reason     string      `json:"reason,omitempty"`
	Thresholds []Threshold `json:"thresholds,omitempty"`
}

// Threshold says how many approvals approve a request and how many denials deny it.
// A missing number means 1.
type Threshold struct {
	Name    string `json:"name,omitempty"`
	Approve *int   `json:"approve,omitempty"`
	Deny    *int   `json:"deny,omitempty"`
}

// ApproveCount is the number of approvals needed (1 when unset).
func (t Threshold) ApproveCount() int { return intOr(t.Approve, 1) }

// DenyCount is the number of denials needed (1 when unset).
func (t Threshold) DenyCount() int { return intOr(t.Deny, 1) }

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// ReviewConditions says whose requests the holders of a role may review: requests for these roles.
type ReviewConditions struct {
	Roles []string `json:"roles,omitempty"`
}

// MaxDurationValue is the parsed max_duration, zero when unset. Call it on validated specs only.
func (r *RequestConditions) MaxDurationValue() time.Duration {
	d, _ := time.ParseDuration(r.MaxDuration)
	return d
}

// AccessListSpec is a list of people (and other lists) granted roles, with owners who govern it.
type AccessListSpec struct {
	// Title is what people see, and the Identity Center group's DisplayName.
	Title  string   `json:"title"`
	Owners []string `json:"owners"`
	Grants Grants   `json:"grants,omitzero"`
	Audit  *Audit   `json:"audit,omitempty"`
	// MembershipRequires makes members who lack these roles or traits ineligible: kept, not synced.
	MembershipRequires *Requires `json:"membership_requires,omitempty"`
	// Origin says where the list came from: warden (made here), identity_center (imported) or
	// scim:<connector> (a group the company's identity provider pushed over SCIM: its title and
	// members are the provider's, its owners, grants and reviews warden's; package manage refuses
	// others' changes to what the provider owns).
	Origin string `json:"origin,omitempty"`
	// Upstream is kept by warden: the SCIM connector's record of the list ("scim:<connector>":
	// its SCIM id and the provider's external id). A document that leaves it out keeps what is
	// stored (package manage).
	Upstream map[string]*UpstreamRecord `json:"upstream,omitempty"`
}

// Grants is what every member of a list receives.
type Grants struct {
	Roles  []string            `json:"roles,omitempty"`
	Traits map[string][]string `json:"traits,omitempty"`
}

// Requires lists roles and traits a member must hold.
type Requires struct {
	Roles  []string            `json:"roles,omitempty"`
	Traits map[string][]string `json:"traits,omitempty"`
}

// Audit is an access list's periodic review schedule.
type Audit struct {
	Recurrence    Recurrence `json:"recurrence"`
	NextAuditDate *time.Time `json:"next_audit_date,omitempty"`
}

// Recurrence: every Frequency months (1, 3, 6 or 12), on DayOfMonth ("1", "15" or "last").
type Recurrence struct {
	Frequency  int        `json:"frequency"`
	DayOfMonth DayOfMonth `json:"day_of_month,omitempty"`
}

// DayOfMonth is "1", "15" or "last"; YAML may write the numbers unquoted.
type DayOfMonth string

// UnmarshalJSON accepts a number or a string; Validate judges the value.
func (d *DayOfMonth) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = DayOfMonth(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("day_of_month must be 1, 15 or last")
	}
	*d = DayOfMonth(n.String())
	return nil
}

// Member kinds.
const (
	MemberUser = "user"
	MemberList = "list"
)

// AccessListMemberSpec is one member of one access list. Members are records of their own so that a
// list can hold tens of thousands. Their metadata.name is "<list>/<user>" for a user and
// "<list>/list:<list>" for a nested list (a user and a list may share a name; ':' is in neither).
type AccessListMemberSpec struct {
	List   string `json:"list"`
	Member string `json:"member"`
	// MemberKind is user (the default) or list, for a nested access list.
	MemberKind string     `json:"member_kind,omitempty"`
	Expires    *time.Time `json:"expires,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	// AddedBy is set by warden to whoever added the member.
	AddedBy string `json:"added_by,omitempty"`
}

// Kind returns the member kind with its default applied.
func (m *AccessListMemberSpec) Kind() string {
	if m.MemberKind == "" {
		return MemberUser
	}
	return m.MemberKind
}

// MemberName is the metadata.name of the record for member (of kind user or list) in list.
func MemberName(list, member, kind string) string {
	if kind == MemberList {
		return list + "/" + MemberList + ":" + member
	}
	return list + "/" + member
}

// Access request states.
const (
	StatePending   = "PENDING"
	StateApproved  = "APPROVED"
	StateDenied    = "DENIED"
	StateExpired   = "EXPIRED"
	StateCancelled = "CANCELLED"
)

// Review decisions.
const (
	DecisionApprove = "APPROVE"
	DecisionDeny    = "DENY"
)

// AccessRequestSpec is a request for temporary access to roles or to one account × permission set.
type AccessRequestSpec struct {
	User      string              `json:"user"`
	Roles     []string            `json:"roles,omitempty"`
	Resources []RequestedResource `json:"resources,omitempty"`
	Reason    string              `json:"reason,omitempty"`
	State     string              `json:"state,omitempty"`
	// EndReason says why warden ended the request before its end (its requester no longer holds
	// what allowed it, say).
	EndReason string `json:"end_reason,omitempty"`
	// Duration asked for, in Go's form; the window is [Start, End).
	Duration string     `json:"duration,omitempty"`
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Reviews  []Review   `json:"reviews,omitempty"`
	// TokenIssuer is set by warden when the request was made with a token someone else minted for
	// User: who minted it (see APITokenSpec.OnBehalf).
	TokenIssuer string `json:"token_issuer,omitempty"`
}

// RequestedResource is an account × permission set a request asks for, as warden resolved it when
// the request was made: the account's 12-digit id and the permission set's ARN (its name while
// Identity Center has given it none), with both names for people to read. Requests stored before
// warden resolved them name the account and permission set as they were typed; warden resolves
// those the same way when it reads them.
type RequestedResource struct {
	Account           string `json:"account"`
	PermissionSet     string `json:"permission_set"`
	AccountName       string `json:"account_name,omitempty"`
	PermissionSetName string `json:"permission_set_name,omitempty"`
}

// Review is one reviewer's decision on a request.
type Review struct {
	Author   string    `json:"author"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	// TokenIssuer is set by warden when the review was made with a token someone else minted for
	// Author: who minted it. A review made with a token a named administrator minted is that
	// administrator's as much as Author's: it does not count twice with their own, nor review their
	// own request.
	TokenIssuer string `json:"token_issuer,omitempty"`
}

// PermissionSetSpec describes an Identity Center permission set. metadata.name is its name.
type PermissionSetSpec struct {
	// ARN is known once the permission set exists in Identity Center.
	ARN string `json:"arn,omitempty"`
	// SessionDuration is ISO-8601, PT1H to PT12H.
	SessionDuration string   `json:"session_duration,omitempty"`
	RelayState      string   `json:"relay_state,omitempty"`
	InlinePolicy    string   `json:"inline_policy,omitempty"`
	ManagedPolicies []string `json:"managed_policies,omitempty"`
	// Managed says warden owns this permission set's definition (otherwise it is only catalogued).
	Managed bool `json:"managed,omitempty"`
}

// AccountSpec is an AWS account, cached from Organizations. metadata.name is the 12-digit account id.
type AccountSpec struct {
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Status string `json:"status,omitempty"`
}

// BootstrapAdmin is whom the admin token made at first start acts for. It cannot be a user's name (a
// user name has no ':'), so no user can be mistaken for it.
const BootstrapAdmin = "warden:admin"

// APITokenSpec is an API token. metadata.name is the token's public id; only a hash of its secret is kept.
type APITokenSpec struct {
	User string `json:"user"`
	// SecretHash is the SHA-256 of the secret. It is never served and never written to the audit log.
	SecretHash string    `json:"secret_hash,omitempty"`
	Admin      bool      `json:"admin,omitempty"`
	Expires    time.Time `json:"expires,omitzero"`
	// Issuer is who created the token: a user's name, or warden:admin for a token made with the
	// bootstrap admin token. Empty for a bootstrap token (warden made it) and for tokens made before
	// warden recorded issuers.
	Issuer string `json:"issuer,omitempty"`
	// OnBehalf: Issuer minted the token for User, someone else. Whoever holds it may be Issuer, so
	// what it does is recorded with Issuer too.
	OnBehalf bool `json:"on_behalf,omitempty"`
	// Login says the token was received by `warden login`, and through which flow: "loopback" (a
	// browser on the same computer, PKCE) or "device" (a code entered in a browser elsewhere).
	// Empty for tokens an administrator issued.
	Login string `json:"login,omitempty"`
	// SecondFactorAt is when the person the token was issued to last used a second factor, for a
	// token issued from a browser session (warden login): the step-up rule reads it. Zero: none.
	SecondFactorAt time.Time `json:"second_factor_at,omitzero"`
}

// ---- index entries ----

func refs(k Kind, names ...string) []IndexEntry {
	out := make([]IndexEntry, 0, len(names))
	for _, n := range names {
		if n != "" && !IsGlob(n) {
			out = append(out, IndexEntry{IndexRef, RefValue(k, n)})
		}
	}
	return out
}

func (s *UserSpec) index(*Metadata) []IndexEntry {
	return append(refs(KindRole, s.Roles...), upstreamIndex(s.Origin, s.Upstream)...)
}

func (s *RoleSpec) index(*Metadata) []IndexEntry {
	var out []IndexEntry
	for _, c := range []RoleConditions{s.Allow, s.Deny} {
		if c.Request != nil {
			out = append(out, refs(KindRole, c.Request.Roles...)...)
		}
		if c.ReviewRequests != nil {
			out = append(out, refs(KindRole, c.ReviewRequests.Roles...)...)
		}
	}
	return out
}

// TitleKey is how an access list's title is indexed: lower-cased, so that titles that differ only
// in case (which become the same Identity Center group) are found together.
func TitleKey(title string) string { return strings.ToLower(title) }

func (s *AccessListSpec) index(*Metadata) []IndexEntry {
	out := refs(KindUser, s.Owners...)
	if s.Title != "" {
		out = append(out, IndexEntry{IndexTitle, TitleKey(s.Title)})
	}
	out = append(out, refs(KindRole, s.Grants.Roles...)...)
	if s.MembershipRequires != nil {
		out = append(out, refs(KindRole, s.MembershipRequires.Roles...)...)
	}
	return append(out, upstreamIndex(s.Origin, s.Upstream)...)
}

func (s *AccessListMemberSpec) index(*Metadata) []IndexEntry {
	memberKind := KindUser
	if s.Kind() == MemberList {
		memberKind = KindAccessList
	}
	return []IndexEntry{
		{IndexList, s.List}, {IndexMember, s.Member}, {IndexMemberKind, s.Kind()},
		{IndexRef, RefValue(KindAccessList, s.List)}, {IndexRef, RefValue(memberKind, s.Member)},
	}
}

func (s *AccessRequestSpec) index(*Metadata) []IndexEntry {
	state := s.State
	if state == "" {
		state = StatePending
	}
	return []IndexEntry{{IndexUser, s.User}, {IndexState, state}}
}

func (s *PermissionSetSpec) index(*Metadata) []IndexEntry { return nil }
func (s *AccountSpec) index(*Metadata) []IndexEntry       { return nil }
func (s *APITokenSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{IndexUser, s.User}, {"admin", strconv.FormatBool(s.Admin)}}
}

// CLI grant flows (CLIGrantSpec.Flow).
const (
	CLIFlowLoopback = "loopback"
	CLIFlowDevice   = "device"
	// CLIFlowAttempts counts a user's wrong device user codes (metadata.name: attempts-<hash of the user>).
	CLIFlowAttempts = "attempts"
)

// Device grant states (CLIGrantSpec.State).
const (
	CLIGrantPending  = "pending"
	CLIGrantApproved = "approved"
	CLIGrantDenied   = "denied"
)

// CLIGrantSpec is a pending `warden login`. metadata.name is the SHA-256 (hex) of the loopback
// authorization code or of the device code: the store never holds the secret itself.
type CLIGrantSpec struct {
	Flow    string    `json:"flow"`
	Expires time.Time `json:"expires"`
	// User: who confirmed (loopback) or approved (device) the login; the token acts as them.
	User string `json:"user,omitempty"`
	// Session is the browser session that confirmed, and SecondFactorAt its latest second factor.
	Session        string    `json:"session,omitempty"`
	SecondFactorAt time.Time `json:"second_factor_at,omitzero"`
	// Loopback: the PKCE S256 code challenge and the redirect URI the code was sent to.
	Challenge   string `json:"challenge,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Device: the SHA-256 (hex) of the user code, the state, the polling interval in seconds and
	// the last poll.
	UserCodeHash string    `json:"user_code_hash,omitempty"`
	State        string    `json:"state,omitempty"`
	Interval     int       `json:"interval,omitempty"`
	LastPoll     time.Time `json:"last_poll,omitzero"`
	// Attempts: wrong user codes entered since WindowStart.
	Failures    int       `json:"failures,omitempty"`
	WindowStart time.Time `json:"window_start,omitzero"`
}

func (s *CLIGrantSpec) index(*Metadata) []IndexEntry {
	out := []IndexEntry{{"flow", s.Flow}}
	if s.UserCodeHash != "" {
		out = append(out, IndexEntry{"user_code", s.UserCodeHash})
	}
	return out
}

// Sync record types.
const (
	RecordUser       = "user"
	RecordGroup      = "group"
	RecordAssignment = "assignment"
	// RecordUninstalled marks an uninstalled integration: the sync changes nothing until an import.
	RecordUninstalled = "uninstalled"
)

// SyncRecordSpec is one thing warden owns in Identity Center. Its metadata.name is its key:
// "user:<userName>", "group:<list>", or "assignment:<USER|GROUP>:<principal>:<account>:<permission set ARN>".
type SyncRecordSpec struct {
	Type string `json:"type"`
	// IDCID is the Identity Center id (user or group id); for an assignment, its principal's id.
	IDCID   string `json:"idc_id,omitempty"`
	Adopted bool   `json:"adopted,omitempty"`
	// Released: a user or group warden adopted, whose warden resource is gone: warden no longer
	// manages it and left it in Identity Center; the record stays so that `warden sync apply
	// --delete-in-aws` can still delete it.
	Released bool `json:"released,omitempty"`
	// Name is the user name, the group's display name, or the assignment's principal name.
	Name             string `json:"name,omitempty"`
	PrincipalType    string `json:"principal_type,omitempty"`
	AccountID        string `json:"account_id,omitempty"`
	PermissionSetARN string `json:"permission_set_arn,omitempty"`
	// Until is when the grant behind an assignment ends (zero: standing).
	Until time.Time `json:"until,omitzero"`
	// Op is the operation in flight: "create" or "delete" (journaled before it is sent), with the
	// RequestID AWS gave it once sent.
	Op        string    `json:"op,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
}

func (s *SyncRecordSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{"type", s.Type}}
}

// AuditEntrySpec is one entry of the audit log: who did what to which resource, when, with the
// resource before and after. Entries are chained: Hash covers the entry and the previous Hash.
type AuditEntrySpec struct {
	Seq    int64           `json:"seq"`
	Time   time.Time       `json:"time"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Kind   Kind            `json:"kind,omitempty"`
	Name   string          `json:"name,omitempty"`
	Detail string          `json:"detail,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Prev   string          `json:"prev"`
	Hash   string          `json:"hash"`
	// Token is the id of the API token the change was made with (empty for warden's own changes).
	Token string `json:"token,omitempty"`
	// TokenIssuer is set when that token was minted for Actor by someone else: who minted it
	// (an administrator, or warden:admin). "bob, with a token admin alice minted, did this."
	TokenIssuer string `json:"token_issuer,omitempty"`
	// Alg is how Hash is made: "" for SHA-256 (entries written before the log was keyed), or
	// hmac-sha256 (keyed with the audit key, which is kept outside the store).
	Alg string `json:"alg,omitempty"`
}

func (s *AuditEntrySpec) index(*Metadata) []IndexEntry {
	out := []IndexEntry{{"actor", s.Actor}, {"kind", string(s.Kind)}}
	if s.Name != "" {
		out = append(out, IndexEntry{"name", s.Name})
	}
	if s.Kind != "" && s.Name != "" {
		out = append(out, IndexEntry{IndexSubject, RefValue(s.Kind, s.Name)})
	}
	if s.Token != "" {
		out = append(out, IndexEntry{"token", s.Token})
	}
	return out
}

func (s *AuditEntrySpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
	if s.Action == "" {
		v.add("spec.action", "required")
	}
}

// NotifyStateSpec is the webhook notifier's progress, kept in the store so that a restart, or
// another replica taking over, neither repeats nor forgets notifications (package notify).
type NotifyStateSpec struct {
	// Seq is the last audit entry turned into notifications.
	Seq int64 `json:"seq"`
	// Floor: time-driven notifications (a window starting or ending) due at or before it are settled.
	Floor time.Time `json:"floor,omitzero"`
	// Sent holds the time-driven notifications made that are due after Floor: key -> when due.
	Sent map[string]time.Time `json:"sent,omitempty"`
	// Lists holds, per access list, the review date whose lateness was notified.
	Lists map[string]time.Time `json:"lists,omitempty"`
	// Outbox holds the deliveries not yet made, in order (their shape is package notify's).
	Outbox []json.RawMessage `json:"outbox,omitempty"`
}

func (s *NotifyStateSpec) index(*Metadata) []IndexEntry { return nil }

func (s *NotifyStateSpec) validate(v *validator, m *Metadata) {
	if m.Name == "" {
		v.add("metadata.name", "required")
	}
}
