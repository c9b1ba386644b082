package idcsim

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	randv2 "math/rand/v2"
	"sort"
	"strings"
	"time"
)

// The state's JSON is the snapshot format (warden sim --state, /_sim/state). Entities are kept in
// the shapes AWS answers with, so that most outputs are the stored values.

type name struct {
	Formatted       string `json:",omitempty"`
	FamilyName      string `json:",omitempty"`
	GivenName       string `json:",omitempty"`
	MiddleName      string `json:",omitempty"`
	HonorificPrefix string `json:",omitempty"`
	HonorificSuffix string `json:",omitempty"`
}

type email struct {
	Value   string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Primary bool   `json:",omitempty"`
}

// phoneNumber and address are the identity store's PhoneNumber and Address. Their string members
// are pointers, as in AWS's model: given empty is not the same as not given (AWS refuses the first).
type phoneNumber struct {
	Value   *string `json:",omitempty"`
	Type    *string `json:",omitempty"`
	Primary bool    `json:",omitempty"`
}

type address struct {
	StreetAddress *string `json:",omitempty"`
	Locality      *string `json:",omitempty"`
	Region        *string `json:",omitempty"`
	PostalCode    *string `json:",omitempty"`
	Country       *string `json:",omitempty"`
	Formatted     *string `json:",omitempty"`
	Type          *string `json:",omitempty"`
	Primary       bool    `json:",omitempty"`
}

// members are the string members, by their SCIM sub-attribute names (the model's, lower-camel-cased).
func (p *phoneNumber) members() map[string]**string {
	return map[string]**string{"value": &p.Value, "type": &p.Type}
}

func (a *address) members() map[string]**string {
	return map[string]**string{"streetAddress": &a.StreetAddress, "locality": &a.Locality, "region": &a.Region,
		"postalCode": &a.PostalCode, "country": &a.Country, "formatted": &a.Formatted, "type": &a.Type}
}

func (p *phoneNumber) primary() *bool { return &p.Primary }
func (a *address) primary() *bool     { return &a.Primary }

// contact is a phoneNumber or an address.
type contact interface {
	members() map[string]**string
	primary() *bool
}

type externalID struct {
	Issuer string
	Id     string
}

type user struct {
	IdentityStoreId   string
	UserId            string
	UserArn           string
	Revision          string
	UserName          string
	Name              *name         `json:",omitempty"`
	DisplayName       string        `json:",omitempty"`
	NickName          string        `json:",omitempty"`
	ProfileUrl        string        `json:",omitempty"`
	Emails            []email       `json:",omitempty"`
	Addresses         []address     `json:",omitempty"`
	PhoneNumbers      []phoneNumber `json:",omitempty"`
	UserType          string        `json:",omitempty"`
	Title             string        `json:",omitempty"`
	PreferredLanguage string        `json:",omitempty"`
	Locale            string        `json:",omitempty"`
	Timezone          string        `json:",omitempty"`
	ExternalIds       []externalID  `json:",omitempty"`
	// UserStatus is ENABLED or DISABLED (SCIM's active).
	UserStatus string  `json:",omitempty"`
	CreatedAt  float64 `json:",omitempty"`
	UpdatedAt  float64 `json:",omitempty"`
}

type group struct {
	IdentityStoreId string
	GroupId         string
	GroupArn        string
	Revision        string
	DisplayName     string
	Description     string       `json:",omitempty"`
	ExternalIds     []externalID `json:",omitempty"`
	CreatedAt       float64      `json:",omitempty"`
	UpdatedAt       float64      `json:",omitempty"`
}

type memberID struct {
	UserId string
}

type membership struct {
	IdentityStoreId string
	MembershipId    string
	MembershipArn   string
	GroupId         string
	MemberId        memberID
}

type account struct {
	Id              string
	Arn             string
	Email           string
	Name            string
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp float64
	ParentId        string `json:"-"`
}

type organization struct {
	Id                 string
	Arn                string
	FeatureSet         string
	MasterAccountArn   string
	MasterAccountId    string
	MasterAccountEmail string
}

type root struct {
	Id          string
	Arn         string
	Name        string
	PolicyTypes []any
}

type instance struct {
	InstanceArn     string
	IdentityStoreId string
	OwnerAccountId  string
	Name            string
	Status          string
	CreatedDate     float64
}

type managedPolicy struct {
	Arn  string
	Name string
}

type permissionSet struct {
	Name             string
	PermissionSetArn string
	Description      string               `json:",omitempty"`
	CreatedDate      float64              `json:",omitempty"`
	SessionDuration  string               `json:",omitempty"`
	RelayState       string               `json:",omitempty"`
	InlinePolicy     string               `json:"-"`
	ManagedPolicies  []managedPolicy      `json:"-"`
	CustomerPolicies []customerPolicy     `json:"-"`
	Boundary         *permissionsBoundary `json:"-"`
	Tags             []tag                `json:"-"`
}

// customerPolicy is the model's CustomerManagedPolicyReference.
type customerPolicy struct {
	Name string
	Path string
}

// permissionsBoundary is the model's PermissionsBoundary: one of its members.
type permissionsBoundary struct {
	CustomerManagedPolicyReference *customerPolicy `json:",omitempty"`
	ManagedPolicyArn               string          `json:",omitempty"`
}

type tag struct {
	Key   string
	Value string
}

// psState is a permission set with the parts DescribePermissionSet does not show, for snapshots.
type psState struct {
	permissionSet
	InlinePolicy     string               `json:"InlinePolicy,omitempty"`
	ManagedPolicies  []managedPolicy      `json:"ManagedPolicies,omitempty"`
	CustomerPolicies []customerPolicy     `json:"CustomerPolicies,omitempty"`
	Boundary         *permissionsBoundary `json:"Boundary,omitempty"`
	Tags             []tag                `json:"Tags,omitempty"`
}

type assignment struct {
	AccountId        string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

func (a assignment) key() string {
	return a.AccountId + "|" + a.PermissionSetArn + "|" + a.PrincipalType + "|" + a.PrincipalId
}

const (
	opCreate = "create"
	opDelete = "delete"
)

type operation struct {
	RequestId        string
	Kind             string `json:"-"`
	Status           string
	FailureReason    string `json:",omitempty"`
	TargetId         string
	TargetType       string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
	CreatedDate      float64
	completeAt       time.Time
	willFail         bool
}

// opState is an operation as snapshots keep it.
type opState struct {
	operation
	Kind       string
	CompleteAt time.Time `json:",omitzero"`
	WillFail   bool      `json:",omitempty"`
}

type state struct {
	Organization   organization
	Root           root
	Accounts       map[string]*account
	Instance       instance
	PermissionSets map[string]*permissionSet
	// Provisioned: account id -> permission set ARN -> provisioned.
	Provisioned map[string]map[string]bool
	// Outdated: account id -> permission set ARN -> the role provisioned there is behind the
	// permission set, changed since (LATEST_PERMISSION_SET_NOT_PROVISIONED).
	Outdated map[string]map[string]bool `json:",omitempty"`
	// Provisionings are the ProvisionPermissionSet operations, by request id.
	Provisionings map[string]*provisioning `json:",omitempty"`
	// AccountCreations are Organizations' CreateAccount requests, by request id.
	AccountCreations map[string]*accountCreation `json:",omitempty"`
	Assignments      map[string]*assignment
	Operations       map[string]*operation
	Users            map[string]*user
	Groups           map[string]*group
	Memberships      map[string]*membership
	SCIMToken        string
	// SCIMTokenExpires is when SCIMToken stops working (zero: never, the simulator's default).
	SCIMTokenExpires time.Time `json:",omitzero"`
	// SCIMToken2 is a second token, made by CreateSCIMToken (Identity Center keeps at most two).
	SCIMToken2        string    `json:",omitempty"`
	SCIMToken2Expires time.Time `json:",omitzero"`
	// ExternalIdP is the external identity source setting: the IdP's metadata as it was given.
	ExternalIdP *idpSetting `json:",omitempty"`
	// IdGenerator is the state of the generator every id is drawn from, so that a restored
	// simulator goes on where the saved one stopped and never draws an id again.
	IdGenerator []byte `json:",omitempty"`

	ids     *randv2.Rand
	idSrc   *randv2.PCG
	pending []string // IN_PROGRESS operation ids, oldest first

	userByName      map[string]string            // lower-cased userName -> id
	userByEmail     map[string]string            // lower-cased email address -> id
	groupByName     map[string]string            // lower-cased displayName -> id
	byExternalID    map[string]string            // "user|issuer|id" -> id
	groupMembers    map[string]map[string]string // group -> user -> membership
	userGroups      map[string]map[string]string // user -> group -> membership
	byPrincipal     map[string]map[string]bool   // principal id -> assignment keys
	byTarget        map[string]map[string]bool   // account|ps -> assignment keys
	sorted          map[string][]string          // cached sorted keys per collection
	outstandingByOp map[string]int
}

func newState(seed int64, region string, now time.Time) *state {
	st := &state{}
	st.seedIDs(uint64(seed))
	mgmt := st.digits(12)
	orgID := "o-" + st.lowerAlnum(10)
	st.Organization = organization{
		Id: orgID, Arn: fmt.Sprintf("arn:aws:organizations::%s:organization/%s", mgmt, orgID), FeatureSet: "ALL",
		MasterAccountId: mgmt, MasterAccountArn: fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", mgmt, orgID, mgmt),
		MasterAccountEmail: "aws-management@example.com",
	}
	rootID := "r-" + st.lowerAlnum(4)
	st.Root = root{Id: rootID, Arn: fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", mgmt, orgID, rootID), Name: "Root", PolicyTypes: []any{}}
	st.Accounts = map[string]*account{}
	st.Accounts[mgmt] = &account{Id: mgmt, Arn: st.Organization.MasterAccountArn, Email: "aws-management@example.com",
		Name: "Management", Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: epoch(now), ParentId: rootID}
	st.Instance = instance{
		InstanceArn: "arn:aws:sso:::instance/ssoins-" + st.hex(16), IdentityStoreId: "d-" + st.hex(10),
		OwnerAccountId: mgmt, Name: "warden-sim", Status: "ACTIVE", CreatedDate: epoch(now),
	}
	st.PermissionSets = map[string]*permissionSet{}
	st.Provisioned = map[string]map[string]bool{}
	st.Outdated = map[string]map[string]bool{}
	st.Provisionings = map[string]*provisioning{}
	st.AccountCreations = map[string]*accountCreation{}
	st.Assignments = map[string]*assignment{}
	st.Operations = map[string]*operation{}
	st.Users = map[string]*user{}
	st.Groups = map[string]*group{}
	st.Memberships = map[string]*membership{}
	st.SCIMToken = base64.RawURLEncoding.EncodeToString([]byte(st.hex(32)))
	st.rebuild()
	return st
}

// seedIDs starts the id generator from a seed (Options.Seed: the same ids every time).
func (st *state) seedIDs(seed uint64) {
	st.idSrc = randv2.NewPCG(seed, 0x1dc5_1a7e_1dc5_1a7e)
	st.ids = randv2.New(st.idSrc)
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// rebuild recomputes every index from the maps (after a restore).
func (st *state) rebuild() {
	if st.ids == nil {
		// A snapshot from before the generator was saved: draw from fresh randomness, so that no id
		// of an earlier run comes back.
		var b [16]byte
		crand.Read(b[:])
		st.idSrc = randv2.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]))
		st.ids = randv2.New(st.idSrc)
	}
	st.userByName = map[string]string{}
	st.userByEmail = map[string]string{}
	st.groupByName = map[string]string{}
	st.byExternalID = map[string]string{}
	st.groupMembers = map[string]map[string]string{}
	st.userGroups = map[string]map[string]string{}
	st.byPrincipal = map[string]map[string]bool{}
	st.byTarget = map[string]map[string]bool{}
	st.sorted = map[string][]string{}
	st.outstandingByOp = map[string]int{}
	if st.Accounts == nil {
		st.Accounts = map[string]*account{}
	}
	if st.PermissionSets == nil {
		st.PermissionSets = map[string]*permissionSet{}
	}
	if st.Provisioned == nil {
		st.Provisioned = map[string]map[string]bool{}
	}
	if st.Outdated == nil {
		st.Outdated = map[string]map[string]bool{}
	}
	if st.Provisionings == nil {
		st.Provisionings = map[string]*provisioning{}
	}
	if st.AccountCreations == nil {
		st.AccountCreations = map[string]*accountCreation{}
	}
	if st.Assignments == nil {
		st.Assignments = map[string]*assignment{}
	}
	if st.Operations == nil {
		st.Operations = map[string]*operation{}
	}
	if st.Users == nil {
		st.Users = map[string]*user{}
	}
	if st.Groups == nil {
		st.Groups = map[string]*group{}
	}
	if st.Memberships == nil {
		st.Memberships = map[string]*membership{}
	}
	for _, a := range st.Accounts {
		if a.ParentId == "" {
			a.ParentId = st.Root.Id
		}
	}
	for _, u := range st.Users {
		st.indexUser(u)
	}
	for id, g := range st.Groups {
		st.groupByName[strings.ToLower(g.DisplayName)] = id
		for _, e := range g.ExternalIds {
			st.byExternalID["group|"+e.Issuer+"|"+e.Id] = id
		}
	}
	for _, m := range st.Memberships {
		st.indexMembership(m)
	}
	for _, a := range st.Assignments {
		st.indexAssignment(a)
	}
	st.pending = st.pending[:0]
	type pend struct {
		id string
		at time.Time
	}
	var ops []pend
	for _, op := range st.Operations {
		if op.Status == "IN_PROGRESS" {
			ops = append(ops, pend{op.RequestId, op.completeAt})
			st.outstandingByOp[op.Kind]++
		}
	}
	for _, p := range st.Provisionings {
		if p.Status == "IN_PROGRESS" {
			ops = append(ops, pend{p.RequestId, p.CompleteAt})
		}
	}
	for _, c := range st.AccountCreations {
		if c.State == "IN_PROGRESS" {
			ops = append(ops, pend{c.Id, c.CompleteAt})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if !ops[i].at.Equal(ops[j].at) {
			return ops[i].at.Before(ops[j].at)
		}
		return ops[i].id < ops[j].id
	})
	for _, op := range ops {
		st.pending = append(st.pending, op.id)
	}
}

// MarshalJSON writes the snapshot format, with what the AWS shapes hide.
func (st *state) MarshalJSON() ([]byte, error) {
	type alias state
	pss := make(map[string]*psState, len(st.PermissionSets))
	for k, ps := range st.PermissionSets {
		pss[k] = &psState{*ps, ps.InlinePolicy, ps.ManagedPolicies, ps.CustomerPolicies, ps.Boundary, ps.Tags}
	}
	ops := make(map[string]*opState, len(st.Operations))
	for k, op := range st.Operations {
		ops[k] = &opState{*op, op.Kind, op.completeAt, op.willFail}
	}
	parents := map[string]string{}
	for id, a := range st.Accounts {
		parents[id] = a.ParentId
	}
	gen, err := st.idSrc.MarshalBinary()
	if err != nil {
		return nil, err
	}
	st.IdGenerator = gen
	return json.Marshal(struct {
		*alias
		PermissionSets map[string]*psState
		Operations     map[string]*opState
		Parents        map[string]string
	}{(*alias)(st), pss, ops, parents})
}

// UnmarshalJSON reads the snapshot format.
func (st *state) UnmarshalJSON(b []byte) error {
	type alias state
	var in struct {
		*alias
		PermissionSets map[string]*psState
		Operations     map[string]*opState
		Parents        map[string]string
	}
	in.alias = (*alias)(st)
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	st.PermissionSets = map[string]*permissionSet{}
	for k, p := range in.PermissionSets {
		ps := p.permissionSet
		ps.InlinePolicy, ps.ManagedPolicies, ps.CustomerPolicies, ps.Boundary, ps.Tags = p.InlinePolicy, p.ManagedPolicies, p.CustomerPolicies, p.Boundary, p.Tags
		st.PermissionSets[k] = &ps
	}
	st.Operations = map[string]*operation{}
	for k, o := range in.Operations {
		op := o.operation
		op.Kind, op.completeAt, op.willFail = o.Kind, o.CompleteAt, o.WillFail
		st.Operations[k] = &op
	}
	for id, p := range in.Parents {
		if a := st.Accounts[id]; a != nil {
			a.ParentId = p
		}
	}
	if len(st.IdGenerator) > 0 {
		src := &randv2.PCG{}
		if err := src.UnmarshalBinary(st.IdGenerator); err != nil {
			return fmt.Errorf("IdGenerator: %w", err)
		}
		st.idSrc, st.ids = src, randv2.New(src)
	}
	return nil
}

// indexUser records u's unique attributes: userName, external ids and email addresses.
func (st *state) indexUser(u *user) {
	st.userByName[strings.ToLower(u.UserName)] = u.UserId
	for _, e := range u.ExternalIds {
		st.byExternalID["user|"+e.Issuer+"|"+e.Id] = u.UserId
	}
	for _, e := range u.Emails {
		if e.Value != "" {
			st.userByEmail[strings.ToLower(e.Value)] = u.UserId
		}
	}
}

func (st *state) unindexUser(u *user) {
	delete(st.userByName, strings.ToLower(u.UserName))
	for _, e := range u.ExternalIds {
		delete(st.byExternalID, "user|"+e.Issuer+"|"+e.Id)
	}
	for _, e := range u.Emails {
		if st.userByEmail[strings.ToLower(e.Value)] == u.UserId {
			delete(st.userByEmail, strings.ToLower(e.Value))
		}
	}
}

// userConflict is the identity store's uniqueness among users, for u as it would be stored: its
// userName, each external id and each email address (case-insensitively) must be no other user's
// than self's. It answers ConflictException with Reason UNIQUENESS_CONSTRAINT_VIOLATION.
func (st *state) userConflict(u *user, self string) error {
	if id, taken := st.userByName[strings.ToLower(u.UserName)]; taken && id != self {
		return errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate UserName: a user named %s exists", u.UserName)
	}
	for _, e := range u.ExternalIds {
		if id, taken := st.byExternalID["user|"+e.Issuer+"|"+e.Id]; taken && id != self {
			return errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate ExternalId %s from issuer %s", e.Id, e.Issuer)
		}
	}
	for _, e := range u.Emails {
		if id, taken := st.userByEmail[strings.ToLower(e.Value)]; taken && e.Value != "" && id != self {
			return errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate email: %s is another user's email address", e.Value)
		}
	}
	return nil
}

func (st *state) indexMembership(m *membership) {
	g, u := m.GroupId, m.MemberId.UserId
	if st.groupMembers[g] == nil {
		st.groupMembers[g] = map[string]string{}
	}
	if st.userGroups[u] == nil {
		st.userGroups[u] = map[string]string{}
	}
	st.groupMembers[g][u] = m.MembershipId
	st.userGroups[u][g] = m.MembershipId
	st.dirty("memberships:" + g)
	st.dirty("memberships-of:" + u)
}

func (st *state) unindexMembership(m *membership) {
	delete(st.groupMembers[m.GroupId], m.MemberId.UserId)
	delete(st.userGroups[m.MemberId.UserId], m.GroupId)
	st.dirty("memberships:" + m.GroupId)
	st.dirty("memberships-of:" + m.MemberId.UserId)
}

func targetKey(account, ps string) string { return account + "|" + ps }

func (st *state) indexAssignment(a *assignment) {
	k := a.key()
	if st.byPrincipal[a.PrincipalId] == nil {
		st.byPrincipal[a.PrincipalId] = map[string]bool{}
	}
	st.byPrincipal[a.PrincipalId][k] = true
	tk := targetKey(a.AccountId, a.PermissionSetArn)
	if st.byTarget[tk] == nil {
		st.byTarget[tk] = map[string]bool{}
	}
	st.byTarget[tk][k] = true
	st.dirty("principal:" + a.PrincipalId)
	st.dirty("target:" + tk)
	st.dirty("assignments")
}

func (st *state) unindexAssignment(a *assignment) {
	k := a.key()
	delete(st.byPrincipal[a.PrincipalId], k)
	tk := targetKey(a.AccountId, a.PermissionSetArn)
	delete(st.byTarget[tk], k)
	st.dirty("principal:" + a.PrincipalId)
	st.dirty("target:" + tk)
	st.dirty("assignments")
}

// dirty forgets a collection's sorted keys.
func (st *state) dirty(collection string) { delete(st.sorted, collection) }

// sortedKeys returns the keys of a set, sorted, cached until the collection changes.
func sortedKeys[V any](st *state, collection string, m map[string]V) []string {
	if keys, ok := st.sorted[collection]; ok {
		return keys
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	st.sorted[collection] = keys
	return keys
}

func (st *state) outstanding(kind string) int { return st.outstandingByOp[kind] }

// ---- ids ----

const hexDigits = "0123456789abcdef"

// Every id of the state is drawn from st.ids, whose state snapshots keep (IdGenerator).

func (st *state) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[st.ids.IntN(16)]
	}
	return string(b)
}

func (st *state) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + st.ids.IntN(10))
	}
	return string(b)
}

func (st *state) lowerAlnum(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[st.ids.IntN(len(chars))]
	}
	return string(b)
}

// uuid draws a version-4-shaped UUID.
func (st *state) uuid() string { return formatUUID(st.ids.Uint64(), st.ids.Uint64()) }

// newUUID makes a version-4-shaped UUID from the process's random source, for what no state keeps
// (the X-Amzn-RequestId of an answer).
func newUUID() string { return formatUUID(randv2.Uint64(), randv2.Uint64()) }

func formatUUID(hi, lo uint64) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], hi)
	binary.LittleEndian.PutUint64(b[8:], lo)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// principalID is Identity Center's form for user, group and membership ids, "1234567890-UUID":
// the identity store id's ten digits, a dash and a random UUID (identitystore API reference,
// ResourceNotFoundException.ResourceId). An identity store id that is itself a UUID (one migrated
// from a legacy SSO store) gives bare UUIDs. An id already taken is drawn again.
func (st *state) principalID() string {
	prefix := ""
	if digits, ok := strings.CutPrefix(st.Instance.IdentityStoreId, "d-"); ok {
		prefix = digits + "-"
	}
	for {
		id := prefix + st.uuid()
		if st.Users[id] == nil && st.Groups[id] == nil && st.Memberships[id] == nil {
			return id
		}
	}
}

// requestID draws the id of an asynchronous operation, never one already used.
func (st *state) requestID() string {
	for {
		id := st.uuid()
		if st.Operations[id] == nil && st.Provisionings[id] == nil {
			return id
		}
	}
}

// ---- pagination ----

type pageToken struct {
	Op     string `json:"o"`
	Params string `json:"p,omitempty"`
	After  string `json:"a"`
}

func encodeToken(op, params, after string) string {
	b, _ := json.Marshal(pageToken{op, params, after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageOf returns the keys after the token's position, at most size, and the next token.
func pageOf(keys []string, op, params string, token *string, size int) ([]string, *string, error) {
	start := 0
	if token != nil && *token != "" {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		var t pageToken
		if err == nil {
			err = json.Unmarshal(b, &t)
		}
		if err != nil || t.Op != op || t.Params != params {
			return nil, nil, errValidation("The NextToken is not valid for this request")
		}
		start = sort.SearchStrings(keys, t.After)
		if start < len(keys) && keys[start] == t.After {
			start++
		}
	}
	end := min(start+size, len(keys))
	out := keys[start:end]
	if end < len(keys) {
		next := encodeToken(op, params, keys[end-1])
		return out, &next, nil
	}
	return out, nil, nil
}

// pageSize checks MaxResults against [1, hi] and applies the default.
func pageSize(max *int, hi, def int, code string) (int, error) {
	if max == nil {
		return def, nil
	}
	if *max < 1 || *max > hi {
		e := errValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *max, hi)
		if code != "" {
			e.code = code
		}
		return 0, e
	}
	return *max, nil
}
