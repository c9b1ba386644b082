// Package resource defines warden's resource kinds, the kind/version/metadata/spec envelope they share,
// their strict YAML and JSON codec, and their validation.
//
// Every error about a resource names the field it concerns as a path from the top of the document
// ("spec.allow.account_assignments[1].account") and says what is wrong with the value found there.
// Validation here is syntactic and self-contained; checks that need other resources (a role that must
// exist, an access list nested in itself through others) are expressed through the Lookup interface in
// refs.go so that the store's transaction can answer them.
package resource

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Kind names a resource kind as it appears in YAML and in API paths (/v1/<kind>).
type Kind string

// The resource kinds.
const (
	KindUser             Kind = "user"
	KindRole             Kind = "role"
	KindAccessList       Kind = "access_list"
	KindAccessListMember Kind = "access_list_member"
	KindAccessRequest    Kind = "access_request"
	KindPermissionSet    Kind = "permission_set"
	KindAccount          Kind = "account"

	// KindAPIToken is internal: tokens are stored like resources but never served by the resource API.
	KindAPIToken Kind = "api_token"
	// KindSyncRecord is internal: something in Identity Center that warden created or adopted, with
	// the state of the operation in flight on it (the sync engine's journal).
	KindSyncRecord Kind = "sync_record"
	// KindAuditEntry is internal: one entry of the hash-chained audit log (package audit).
	KindAuditEntry Kind = "audit_entry"
	// KindNotifyState is internal: the webhook notifier's progress and undelivered notifications
	// (package notify).
	KindNotifyState Kind = "notify_state"
	// KindCLIGrant is internal: a pending `warden login` (a loopback authorization code or a device
	// code), named by a hash of its secret, short-lived and single use (package auth/clilogin).
	KindCLIGrant Kind = "cli_grant"
	// KindSession is internal: a browser session (package auth); only a hash of its secret is kept.
	KindSession Kind = "session"
	// KindPasskey is internal: one WebAuthn credential (passkey) of a user (package auth/passkey).
	KindPasskey Kind = "passkey"
	// KindPasskeyCeremony is internal: a WebAuthn ceremony begun and not yet finished, its
	// challenge kept server side for five minutes, used once (package auth/passkey).
	KindPasskeyCeremony Kind = "passkey_ceremony"
	// KindOIDCFlow is internal: a sign-in through an upstream OIDC connector in progress, bound to
	// the browser that began it, used once, expiring after ten minutes (package server).
	KindOIDCFlow Kind = "oidc_flow"
	// KindSCIMToken is internal: the bearer token of one SCIM connector, only its secret's hash
	// kept (package scim).
	KindSCIMToken Kind = "scim_token"
	// KindSCIMGroup is internal: a group a SCIM connector that maps groups to a user trait pushed
	// (package scim).
	KindSCIMGroup Kind = "scim_group"
)

// Version is the only resource version so far.
const Version = "v1"

// Metadata is common to every resource.
type Metadata struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Revision is the store's global revision at which this resource was last written. It is set by the
	// store; an update must carry the revision it read (compare-and-swap).
	Revision  int64     `json:"revision,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Spec is the kind-specific part of a resource.
type Spec interface {
	validate(v *validator, meta *Metadata)
	index(meta *Metadata) []IndexEntry
}

// Object is one resource: the envelope and its typed spec. Status is written by warden itself (sync
// results, errors); it is kept as raw JSON so that each subsystem owns its own shape.
type Object struct {
	Kind     Kind            `json:"kind"`
	Version  string          `json:"version"`
	Metadata Metadata        `json:"metadata"`
	Spec     Spec            `json:"spec"`
	Status   json.RawMessage `json:"status,omitempty"`
}

type kindInfo struct {
	newSpec func() Spec
	public  bool // served by the resource API
}

var kinds = map[Kind]kindInfo{
	KindUser:             {func() Spec { return new(UserSpec) }, true},
	KindRole:             {func() Spec { return new(RoleSpec) }, true},
	KindAccessList:       {func() Spec { return new(AccessListSpec) }, true},
	KindAccessListMember: {func() Spec { return new(AccessListMemberSpec) }, true},
	KindAccessRequest:    {func() Spec { return new(AccessRequestSpec) }, true},
	KindPermissionSet:    {func() Spec { return new(PermissionSetSpec) }, true},
	KindAccount:          {func() Spec { return new(AccountSpec) }, true},
	KindAPIToken:         {func() Spec { return new(APITokenSpec) }, false},
	KindSyncRecord:       {func() Spec { return new(SyncRecordSpec) }, false},
	KindAuditEntry:       {func() Spec { return new(AuditEntrySpec) }, false},
	KindNotifyState:      {func() Spec { return new(NotifyStateSpec) }, false},
	KindCLIGrant:         {func() Spec { return new(CLIGrantSpec) }, false},
	KindSession:          {func() Spec { return new(SessionSpec) }, false},
	KindCredential:       {func() Spec { return new(CredentialSpec) }, false},
	KindAuthFlow:         {func() Spec { return new(AuthFlowSpec) }, false},
	KindPasskey:          {func() Spec { return new(PasskeySpec) }, false},
	KindPasskeyCeremony:  {func() Spec { return new(PasskeyCeremonySpec) }, false},
	KindOIDCFlow:         {func() Spec { return new(OIDCFlowSpec) }, false},
	KindSCIMToken:        {func() Spec { return new(SCIMTokenSpec) }, false},
	KindSCIMGroup:        {func() Spec { return new(SCIMGroupSpec) }, false},
}

// PublicKinds lists the kinds served by the resource API, in a stable order.
func PublicKinds() []Kind {
	var out []Kind
	for k, info := range kinds {
		if info.public {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseKind accepts a kind's name, its plural ("users") and, for convenience on the command line, the
// short names "list" and "member".
func ParseKind(s string) (Kind, error) {
	aliases := map[string]Kind{
		"users": KindUser, "roles": KindRole, "access_lists": KindAccessList, "list": KindAccessList,
		"lists": KindAccessList, "access_list_members": KindAccessListMember, "member": KindAccessListMember,
		"members": KindAccessListMember, "access_requests": KindAccessRequest, "request": KindAccessRequest,
		"requests": KindAccessRequest, "permission_sets": KindPermissionSet, "accounts": KindAccount,
	}
	if k, ok := aliases[s]; ok {
		return k, nil
	}
	k := Kind(s)
	if info, ok := kinds[k]; ok && info.public {
		return k, nil
	}
	return "", fmt.Errorf("unknown kind %q (known kinds: %s)", s, kindList())
}

// Known reports whether k is a kind warden knows, public or internal.
func Known(k Kind) bool { _, ok := kinds[k]; return ok }

// IsPublic reports whether k is served by the resource API.
func IsPublic(k Kind) bool { return kinds[k].public }

func kindList() string {
	s := ""
	for i, k := range PublicKinds() {
		if i > 0 {
			s += ", "
		}
		s += string(k)
	}
	return s
}

// NewSpec returns an empty spec of the given kind, or nil if the kind is unknown.
func NewSpec(k Kind) Spec {
	info, ok := kinds[k]
	if !ok {
		return nil
	}
	return info.newSpec()
}

// New returns an object of kind k named name with an empty spec.
func New(k Kind, name string) *Object {
	return &Object{Kind: k, Version: Version, Metadata: Metadata{Name: name}, Spec: NewSpec(k)}
}

// String gives the object as people name it in messages: role "dev".
func (o *Object) String() string { return fmt.Sprintf("%s %q", o.Kind, o.Metadata.Name) }

// UnmarshalJSON decodes an object as stored or served by warden. It is lenient about unknown fields;
// input from people goes through Decode, which is strict and names fields in its errors.
func (o *Object) UnmarshalJSON(b []byte) error {
	var env struct {
		Kind     Kind            `json:"kind"`
		Version  string          `json:"version"`
		Metadata Metadata        `json:"metadata"`
		Spec     json.RawMessage `json:"spec"`
		Status   json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	spec := NewSpec(env.Kind)
	if spec == nil {
		return fmt.Errorf("unknown kind %q", env.Kind)
	}
	if len(env.Spec) > 0 && string(env.Spec) != "null" {
		if err := json.Unmarshal(env.Spec, spec); err != nil {
			return fmt.Errorf("%s %q: spec: %w", env.Kind, env.Metadata.Name, err)
		}
	}
	*o = Object{Kind: env.Kind, Version: env.Version, Metadata: env.Metadata, Spec: spec, Status: env.Status}
	return nil
}

// Clone returns a deep copy of o.
func (o *Object) Clone() *Object {
	b, err := json.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("resource: marshal %s: %v", o, err))
	}
	var c Object
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("resource: unmarshal %s: %v", o, err))
	}
	return &c
}

// IndexEntry is a (key, value) pair under which the store indexes an object, so that it can be listed
// by that value (members by list, requests by user) and found as a referrer ("ref" = "role:dev").
type IndexEntry struct {
	Key   string
	Value string
}

// Index keys.
const (
	IndexList       = "list"        // access_list_member: its list
	IndexMember     = "member"      // access_list_member: the member's name
	IndexMemberKind = "member_kind" // access_list_member: user or list
	IndexUser       = "user"        // access_request: the requester; api_token, session: its user
	IndexState      = "state"       // access_request: its state
	IndexRef        = "ref"         // "<kind>:<name>" of every resource this one depends on
	IndexTitle      = "title"       // access_list: its title, lower-cased (TitleKey)
	// IndexSubject is an audit entry's subject, "<kind>:<name>" (a list's reviews and changes).
	// Entries written before it existed lack it.
	IndexSubject = "subject"
)

// Index returns the entries the store keeps for o, deduplicated and sorted.
func (o *Object) Index() []IndexEntry {
	if o.Spec == nil {
		return nil
	}
	entries := o.Spec.index(&o.Metadata)
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Key != entries[j].Key {
			return entries[i].Key < entries[j].Key
		}
		return entries[i].Value < entries[j].Value
	})
	out := entries[:0]
	for i, e := range entries {
		if i > 0 && e == entries[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// RefValue is the value of an IndexRef entry pointing at (kind, name).
func RefValue(k Kind, name string) string { return string(k) + ":" + name }
