package idcsim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Directory changes the simulated organisation and Identity Center directly, as an administrator
// would in the console: for seeding, and for tests that change Identity Center behind warden's back.
// Use it inside Sim.Update. Unlike the API, assignment changes take effect at once.
type Directory struct{ s *Sim }

func (s *Sim) dir() *Directory { return &Directory{s: s} }

// Assignment is one account assignment.
type Assignment struct {
	AccountID        string
	PermissionSetARN string
	PrincipalType    string // USER or GROUP
	PrincipalID      string
}

// AddAccount adds an account under the root.
func (d *Directory) AddAccount(id, name, email string) error {
	st := d.s.st
	if !accountIDRE.MatchString(id) {
		return fmt.Errorf("account id %q is not 12 digits", id)
	}
	if st.Accounts[id] != nil {
		return fmt.Errorf("account %s exists", id)
	}
	st.Accounts[id] = &account{Id: id, Arn: fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", st.Organization.MasterAccountId, st.Organization.Id, id),
		Email: email, Name: name, Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: epoch(d.s.now()), ParentId: st.Root.Id}
	st.dirty("accounts")
	return nil
}

// CreatePermissionSet creates a permission set and returns its ARN.
func (d *Directory) CreatePermissionSet(name, description, sessionDuration string, managedPolicyARNs ...string) (string, error) {
	ps := &permissionSet{Name: name, Description: description, SessionDuration: sessionDuration}
	if _, err := d.createPermissionSet(ps); err != nil {
		return "", err
	}
	for _, arn := range managedPolicyARNs {
		ps.ManagedPolicies = append(ps.ManagedPolicies, managedPolicy{Arn: arn, Name: arn[strings.LastIndex(arn, "/")+1:]})
	}
	return ps.PermissionSetArn, nil
}

func (d *Directory) createPermissionSet(ps *permissionSet) (any, error) {
	st := d.s.st
	for _, other := range st.PermissionSets {
		if other.Name == ps.Name {
			// Permanent while the other exists: not a ConflictException, which AWS's model
			// describes as a write that has not propagated yet, to retry.
			return nil, errValidation("PermissionSet with name %s already exists", ps.Name)
		}
	}
	if err := applyPermissionSetFields(ps, nil, nil, nil); err != nil {
		return nil, err
	}
	if ps.SessionDuration == "" {
		ps.SessionDuration = "PT1H"
	}
	insID := strings.TrimPrefix(st.Instance.InstanceArn[strings.LastIndex(st.Instance.InstanceArn, "/")+1:], "")
	ps.PermissionSetArn = fmt.Sprintf("arn:aws:sso:::permissionSet/%s/ps-%s", insID, st.hex(16))
	ps.CreatedDate = epoch(d.s.now())
	st.PermissionSets[ps.PermissionSetArn] = ps
	st.dirty("permission-sets")
	return map[string]any{"PermissionSet": ps}, nil
}

// CreateUser creates a user with the attributes Identity Center requires and returns its id.
func (d *Directory) CreateUser(userName, givenName, familyName, emailAddress string) (string, error) {
	u := &user{UserName: userName, DisplayName: strings.TrimSpace(givenName + " " + familyName),
		Name: &name{GivenName: givenName, FamilyName: familyName}}
	if emailAddress != "" {
		u.Emails = []email{{Value: emailAddress, Type: "work", Primary: true}}
	}
	if err := d.createUser(u); err != nil {
		return "", err
	}
	return u.UserId, nil
}

func (d *Directory) createUser(u *user) error {
	st := d.s.st
	if err := checkUserAttributes(u); err != nil {
		return err
	}
	if err := st.userConflict(u, ""); err != nil {
		return err
	}
	now := epoch(d.s.now())
	u.IdentityStoreId, u.UserId, u.CreatedAt, u.UpdatedAt = st.Instance.IdentityStoreId, st.principalID(), now, now
	u.UserArn, u.Revision = "arn:aws:identitystore:::user/"+u.UserId, "1"
	if u.UserStatus == "" {
		u.UserStatus = "ENABLED"
	}
	st.Users[u.UserId] = u
	st.indexUser(u)
	st.dirty("users")
	return nil
}

// checkUserAttributes enforces what Identity Center requires of a user.
func checkUserAttributes(u *user) error {
	var missing []string
	if strings.TrimSpace(u.UserName) == "" {
		missing = append(missing, "UserName")
	}
	if strings.TrimSpace(u.DisplayName) == "" {
		missing = append(missing, "DisplayName")
	}
	if u.Name == nil || strings.TrimSpace(u.Name.GivenName) == "" {
		missing = append(missing, "Name.GivenName")
	}
	if u.Name == nil || strings.TrimSpace(u.Name.FamilyName) == "" {
		missing = append(missing, "Name.FamilyName")
	}
	if len(missing) > 0 {
		return errValidation("Identity Center requires %s for a user", strings.Join(missing, ", "))
	}
	if reserved(u.UserName) {
		return errValidation("%s is a reserved name and can't be used for a user", u.UserName)
	}
	if len(u.UserName) > 128 || strings.ContainsAny(u.UserName, " \t\n") {
		return errValidation("1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must be 1-128 characters without white space", u.UserName)
	}
	primaries := 0
	for _, e := range u.Emails {
		if e.Primary {
			primaries++
		}
	}
	if len(u.Emails) > 1 || primaries > 1 {
		return errValidation("Identity Center accepts one email address per user, marked primary")
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"phoneNumbers", len(u.PhoneNumbers)}, {"addresses", len(u.Addresses)}} {
		if l.n > 1 { // AWS: "Array Members: Fixed number of 1 item"
			return errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 1", l.name)
		}
	}
	for i := range u.PhoneNumbers {
		if err := checkContact("phoneNumbers", i, &u.PhoneNumbers[i]); err != nil {
			return err
		}
	}
	for i := range u.Addresses {
		if err := checkContact("addresses", i, &u.Addresses[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkContact applies the model's length constraint to the string members of the i-th phone
// number or address that are given: 1 to 1024 characters.
func checkContact(list string, i int, c contact) error {
	m := c.members()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if v := *m[k]; v != nil {
			if n := utf8.RuneCountInString(*v); n < 1 || n > 1024 {
				return errValidation("1 validation error detected: Value at '%s.%d.member.%s' failed to satisfy constraint: Member must have length between 1 and 1024", list, i+1, k)
			}
		}
	}
	return nil
}

// CreateGroup creates a group and returns its id.
func (d *Directory) CreateGroup(displayName, description string) (string, error) {
	g := &group{DisplayName: displayName, Description: description}
	if err := d.createGroup(g); err != nil {
		return "", err
	}
	return g.GroupId, nil
}

func (d *Directory) createGroup(g *group) error {
	st := d.s.st
	if strings.TrimSpace(g.DisplayName) == "" {
		return required("DisplayName", "")
	}
	if len(g.DisplayName) > 1024 {
		return errValidation("1 validation error detected: Value at 'displayName' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	if reserved(g.DisplayName) {
		return errValidation("%s is a reserved name and can't be used for a group", g.DisplayName)
	}
	if _, taken := st.groupByName[strings.ToLower(g.DisplayName)]; taken {
		return errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate GroupDisplayName: a group named %s exists", g.DisplayName)
	}
	for _, e := range g.ExternalIds {
		if _, taken := st.byExternalID["group|"+e.Issuer+"|"+e.Id]; taken {
			return errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate ExternalId %s from issuer %s", e.Id, e.Issuer)
		}
	}
	now := epoch(d.s.now())
	g.IdentityStoreId, g.GroupId, g.CreatedAt, g.UpdatedAt = st.Instance.IdentityStoreId, st.principalID(), now, now
	g.GroupArn, g.Revision = "arn:aws:identitystore:::group/"+g.GroupId, "1"
	st.Groups[g.GroupId] = g
	st.groupByName[strings.ToLower(g.DisplayName)] = g.GroupId
	for _, e := range g.ExternalIds {
		st.byExternalID["group|"+e.Issuer+"|"+e.Id] = g.GroupId
	}
	st.dirty("groups")
	return nil
}

// AddMember puts a user in a group and returns the membership id.
func (d *Directory) AddMember(groupID, userID string) (string, error) {
	m, err := d.createMembership(groupID, userID)
	if err != nil {
		return "", err
	}
	return m.MembershipId, nil
}

func (d *Directory) createMembership(groupID, userID string) (*membership, error) {
	st := d.s.st
	if st.Groups[groupID] == nil {
		return nil, errNotFound("GROUP", groupID, "Group %s is not found", groupID)
	}
	if st.Users[userID] == nil {
		if st.Groups[userID] != nil {
			return nil, errValidation("Identity Center does not support nested groups: a member must be a user")
		}
		return nil, errNotFound("USER", userID, "User %s is not found", userID)
	}
	if _, ok := st.groupMembers[groupID][userID]; ok {
		return nil, errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Member %s is already in group %s", userID, groupID)
	}
	m := &membership{IdentityStoreId: st.Instance.IdentityStoreId, MembershipId: st.principalID(), GroupId: groupID, MemberId: memberID{UserId: userID}}
	m.MembershipArn = "arn:aws:identitystore:::membership/" + m.MembershipId
	st.Memberships[m.MembershipId] = m
	st.indexMembership(m)
	return m, nil
}

// RemoveMember takes a user out of a group.
func (d *Directory) RemoveMember(groupID, userID string) error {
	st := d.s.st
	id, ok := st.groupMembers[groupID][userID]
	if !ok {
		return fmt.Errorf("user %s is not in group %s", userID, groupID)
	}
	d.deleteMembership(st.Memberships[id])
	return nil
}

func (d *Directory) deleteMembership(m *membership) {
	delete(d.s.st.Memberships, m.MembershipId)
	d.s.st.unindexMembership(m)
}

// DeleteUser deletes a user and their memberships.
func (d *Directory) DeleteUser(userID string) error {
	st := d.s.st
	u := st.Users[userID]
	if u == nil {
		return errNotFound("USER", userID, "User %s is not found", userID)
	}
	for _, mid := range st.userGroups[userID] {
		d.deleteMembership(st.Memberships[mid])
	}
	delete(st.Users, userID)
	delete(st.userGroups, userID)
	st.unindexUser(u)
	st.dirty("users")
	return nil
}

// DeleteGroup deletes a group and its memberships.
func (d *Directory) DeleteGroup(groupID string) error {
	st := d.s.st
	g := st.Groups[groupID]
	if g == nil {
		return errNotFound("GROUP", groupID, "Group %s is not found", groupID)
	}
	for _, mid := range st.groupMembers[groupID] {
		d.deleteMembership(st.Memberships[mid])
	}
	delete(st.Groups, groupID)
	delete(st.groupMembers, groupID)
	delete(st.groupByName, strings.ToLower(g.DisplayName))
	for _, e := range g.ExternalIds {
		delete(st.byExternalID, "group|"+e.Issuer+"|"+e.Id)
	}
	st.dirty("groups")
	return nil
}

// Assign adds an account assignment at once (provisioning the permission set).
func (d *Directory) Assign(a Assignment) error {
	st := d.s.st
	if st.Accounts[a.AccountID] == nil || st.PermissionSets[a.PermissionSetARN] == nil {
		return fmt.Errorf("assign: unknown account %s or permission set %s", a.AccountID, a.PermissionSetARN)
	}
	if (a.PrincipalType == "USER" && st.Users[a.PrincipalID] == nil) || (a.PrincipalType == "GROUP" && st.Groups[a.PrincipalID] == nil) {
		return fmt.Errorf("assign: unknown %s %s", a.PrincipalType, a.PrincipalID)
	}
	st.addAssignment(assignment{a.AccountID, a.PermissionSetARN, a.PrincipalType, a.PrincipalID})
	return nil
}

// Unassign removes an account assignment at once.
func (d *Directory) Unassign(a Assignment) {
	d.s.st.removeAssignment(assignment{a.AccountID, a.PermissionSetARN, a.PrincipalType, a.PrincipalID})
}

// UserID finds a user by userName.
func (d *Directory) UserID(userName string) (string, bool) {
	id, ok := d.s.st.userByName[strings.ToLower(userName)]
	return id, ok
}

// GroupID finds a group by displayName.
func (d *Directory) GroupID(displayName string) (string, bool) {
	id, ok := d.s.st.groupByName[strings.ToLower(displayName)]
	return id, ok
}

// PermissionSetARN finds a permission set by name.
func (d *Directory) PermissionSetARN(name string) (string, bool) {
	for arn, ps := range d.s.st.PermissionSets {
		if ps.Name == name {
			return arn, true
		}
	}
	return "", false
}

// Assignments lists every account assignment, sorted.
func (d *Directory) Assignments() []Assignment {
	var out []Assignment
	for _, k := range sortedKeys(d.s.st, "assignments", d.s.st.Assignments) {
		a := d.s.st.Assignments[k]
		out = append(out, Assignment{a.AccountId, a.PermissionSetArn, a.PrincipalType, a.PrincipalId})
	}
	return out
}

// GroupMembers lists the user names in a group, sorted.
func (d *Directory) GroupMembers(groupID string) []string {
	var out []string
	for uid := range d.s.st.groupMembers[groupID] {
		out = append(out, d.s.st.Users[uid].UserName)
	}
	sort.Strings(out)
	return out
}

// Counts gives the number of accounts, permission sets, users, groups, memberships and assignments.
func (d *Directory) Counts() map[string]int {
	st := d.s.st
	return map[string]int{"accounts": len(st.Accounts), "permission_sets": len(st.PermissionSets), "users": len(st.Users),
		"groups": len(st.Groups), "memberships": len(st.Memberships), "assignments": len(st.Assignments)}
}

// reserved names can't be used for users or groups (Identity Center's CreateUser/CreateGroup docs).
func reserved(name string) bool {
	return strings.EqualFold(name, "Administrator") || strings.EqualFold(name, "AWSAdministrators")
}
