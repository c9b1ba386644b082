package idcsim

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

var identityStoreIDRE = regexp.MustCompile(`^d-[0-9a-f]{10}$|^[0-9a-f]{8}\b-[0-9a-f]{4}\b-[0-9a-f]{4}\b-[0-9a-f]{4}\b-[0-9a-f]{12}$`)

// storeARNRE is an identity store's ARN, which AWS takes wherever it takes the id.
var storeARNRE = regexp.MustCompile(`^arn:aws:identitystore::\d{12}:identitystore/(.+)$`)

func (s *Sim) checkStore(id *string) error {
	if id == nil || *id == "" {
		return required("IdentityStoreId", id)
	}
	if m := storeARNRE.FindStringSubmatch(*id); m != nil {
		*id = m[1]
	}
	if !identityStoreIDRE.MatchString(*id) {
		return errValidation("1 validation error detected: Value '%s' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern: d-[0-9a-f]{10}$|^[0-9a-f]{8}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{12}", *id)
	}
	if *id != s.st.Instance.IdentityStoreId {
		return errNotFound("IDENTITY_STORE", *id, "Identity store %s is not found", *id)
	}
	return nil
}

// arnKinds: the resource an id field names, whose ARN (arn:aws:identitystore:::<kind>/<id>) AWS also takes.
var arnKinds = map[string]string{"UserId": "user", "MemberId.UserId": "user", "GroupId": "group", "GroupIds": "group", "MembershipId": "membership"}

func checkResourceID(field string, id *string) error {
	if id == nil || *id == "" {
		return required(field, id)
	}
	if kind := arnKinds[field]; kind != "" {
		if bare, ok := strings.CutPrefix(*id, "arn:aws:identitystore:::"+kind+"/"); ok {
			*id = bare
		}
	}
	if !principalRE.MatchString(*id) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$", *id, lowerFirst(field))
	}
	return nil
}

func (s *Sim) user(id *string) (*user, error) {
	if err := checkResourceID("UserId", id); err != nil {
		return nil, err
	}
	u := s.st.Users[*id]
	if u == nil {
		return nil, errNotFound("USER", *id, "User %s is not found", *id)
	}
	return u, nil
}

func (s *Sim) group(id *string) (*group, error) {
	if err := checkResourceID("GroupId", id); err != nil {
		return nil, err
	}
	g := s.st.Groups[*id]
	if g == nil {
		return nil, errNotFound("GROUP", *id, "Group %s is not found", *id)
	}
	return g, nil
}

func (s *Sim) memberUser(m *memberID) (*user, error) {
	if m == nil {
		return nil, required("MemberId", (*string)(nil))
	}
	id := m.UserId
	return s.user(&id)
}

type attributeOp struct {
	AttributePath  *string
	AttributeValue json.RawMessage
}

type listFilter struct {
	AttributePath  *string
	AttributeValue *string
}

func init() {
	registerJSON(svcIdentityStore, "CreateUser", func(s *Sim, req *struct {
		IdentityStoreId *string
		user
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		u := req.user
		u.UserId, u.CreatedAt, u.UpdatedAt, u.ExternalIds = "", 0, 0, nil
		if err := s.dir().createUser(&u); err != nil {
			return nil, err
		}
		return map[string]any{"IdentityStoreId": u.IdentityStoreId, "UserId": u.UserId, "UserArn": u.UserArn, "Revision": u.Revision}, nil
	})
	registerJSON(svcIdentityStore, "DescribeUser", func(s *Sim, req *struct{ IdentityStoreId, UserId *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		return s.user(req.UserId)
	})
	registerJSON(svcIdentityStore, "ListUsers", func(s *Sim, req *struct {
		IdentityStoreId *string
		Filters         []listFilter
		pageIn
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		keys, params, err := s.filtered(req.Filters, "UserName", s.st.userByName, func() []string { return sortedKeys(s.st, "users", s.st.Users) })
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(keys, "ListUsers", params, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*user{}
		for _, k := range page {
			out = append(out, s.st.Users[k])
		}
		return map[string]any{"Users": out, "NextToken": next}, nil
	})
	registerJSON(svcIdentityStore, "UpdateUser", func(s *Sim, req *struct {
		IdentityStoreId, UserId, Revision *string
		Operations                        []attributeOp
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		u, err := s.user(req.UserId)
		if err != nil {
			return nil, err
		}
		if err := checkOperations(req.Operations); err != nil {
			return nil, err
		}
		if err := checkRevision(req.Revision, u.Revision); err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite("user:" + u.UserId); err != nil {
			return nil, err
		}
		c := *u
		if c.Name != nil {
			n := *c.Name
			c.Name = &n
		}
		for _, op := range req.Operations {
			if err := applyUserOp(&c, op); err != nil {
				return nil, err
			}
		}
		if err := checkUserAttributes(&c); err != nil {
			return nil, err
		}
		if err := s.st.userConflict(&c, u.UserId); err != nil {
			return nil, err
		}
		c.UpdatedAt = epoch(s.now())
		c.Revision = nextRevision(u.Revision)
		s.st.unindexUser(u)
		*u = c
		s.st.indexUser(u)
		return map[string]any{"IdentityStoreId": u.IdentityStoreId, "UserId": u.UserId, "UserArn": u.UserArn, "Revision": u.Revision}, nil
	})
	registerJSON(svcIdentityStore, "DeleteUser", func(s *Sim, req *struct{ IdentityStoreId, UserId, Revision *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		u, err := s.user(req.UserId)
		if err != nil {
			return nil, err
		}
		if err := checkRevision(req.Revision, u.Revision); err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite("user:" + u.UserId); err != nil {
			return nil, err
		}
		return struct{}{}, s.dir().DeleteUser(u.UserId)
	})
	registerJSON(svcIdentityStore, "GetUserId", func(s *Sim, req *struct {
		IdentityStoreId     *string
		AlternateIdentifier *alternateID
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		id, err := s.lookup(req.AlternateIdentifier, "user", "userName", s.st.userByName)
		if err != nil {
			return nil, err
		}
		return map[string]any{"IdentityStoreId": s.st.Instance.IdentityStoreId, "UserId": id, "UserArn": s.st.Users[id].UserArn}, nil
	})

	registerJSON(svcIdentityStore, "CreateGroup", func(s *Sim, req *struct{ IdentityStoreId, DisplayName, Description *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g := &group{}
		if req.DisplayName != nil {
			g.DisplayName = *req.DisplayName
		}
		if req.Description != nil {
			g.Description = *req.Description
		}
		if err := s.dir().createGroup(g); err != nil {
			return nil, err
		}
		return map[string]any{"IdentityStoreId": g.IdentityStoreId, "GroupId": g.GroupId, "GroupArn": g.GroupArn, "Revision": g.Revision}, nil
	})
	registerJSON(svcIdentityStore, "DescribeGroup", func(s *Sim, req *struct{ IdentityStoreId, GroupId *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		return s.group(req.GroupId)
	})
	registerJSON(svcIdentityStore, "ListGroups", func(s *Sim, req *struct {
		IdentityStoreId *string
		Filters         []listFilter
		pageIn
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		keys, params, err := s.filtered(req.Filters, "DisplayName", s.st.groupByName, func() []string { return sortedKeys(s.st, "groups", s.st.Groups) })
		if err != nil {
			return nil, err
		}
		page, next, err := pageOf(keys, "ListGroups", params, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*group{}
		for _, k := range page {
			out = append(out, s.st.Groups[k])
		}
		return map[string]any{"Groups": out, "NextToken": next}, nil
	})
	registerJSON(svcIdentityStore, "UpdateGroup", func(s *Sim, req *struct {
		IdentityStoreId, GroupId, Revision *string
		Operations                         []attributeOp
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g, err := s.group(req.GroupId)
		if err != nil {
			return nil, err
		}
		if err := checkOperations(req.Operations); err != nil {
			return nil, err
		}
		if err := checkRevision(req.Revision, g.Revision); err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite("group:" + g.GroupId); err != nil {
			return nil, err
		}
		c := *g
		for _, op := range req.Operations {
			var str string // a value that is not a string is none
			if len(op.AttributeValue) > 0 {
				json.Unmarshal(op.AttributeValue, &str)
			}
			switch path := strings.ToLower(deref(op.AttributePath)); path {
			case "displayname":
				if strings.TrimSpace(str) == "" {
					return nil, errValidation("displayName must be a non-empty string")
				}
				c.DisplayName = str
			case "description":
				c.Description = str
			default:
				return nil, errValidation("Attribute path %q cannot be updated on a group", deref(op.AttributePath))
			}
		}
		if !strings.EqualFold(c.DisplayName, g.DisplayName) {
			if _, taken := s.st.groupByName[strings.ToLower(c.DisplayName)]; taken {
				return nil, errConflict("UNIQUENESS_CONSTRAINT_VIOLATION", "Duplicate GroupDisplayName: a group named %s exists", c.DisplayName)
			}
			delete(s.st.groupByName, strings.ToLower(g.DisplayName))
			s.st.groupByName[strings.ToLower(c.DisplayName)] = c.GroupId
		}
		c.UpdatedAt = epoch(s.now())
		c.Revision = nextRevision(g.Revision)
		*g = c
		return map[string]any{"IdentityStoreId": g.IdentityStoreId, "GroupId": g.GroupId, "GroupArn": g.GroupArn, "Revision": g.Revision}, nil
	})
	registerJSON(svcIdentityStore, "DeleteGroup", func(s *Sim, req *struct{ IdentityStoreId, GroupId, Revision *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g, err := s.group(req.GroupId)
		if err != nil {
			return nil, err
		}
		if err := checkRevision(req.Revision, g.Revision); err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite("group:" + g.GroupId); err != nil {
			return nil, err
		}
		return struct{}{}, s.dir().DeleteGroup(g.GroupId)
	})
	registerJSON(svcIdentityStore, "GetGroupId", func(s *Sim, req *struct {
		IdentityStoreId     *string
		AlternateIdentifier *alternateID
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		id, err := s.lookup(req.AlternateIdentifier, "group", "displayName", s.st.groupByName)
		if err != nil {
			return nil, err
		}
		return map[string]any{"IdentityStoreId": s.st.Instance.IdentityStoreId, "GroupId": id, "GroupArn": s.st.Groups[id].GroupArn}, nil
	})

	registerJSON(svcIdentityStore, "CreateGroupMembership", func(s *Sim, req *struct {
		IdentityStoreId, GroupId *string
		MemberId                 *memberID
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g, err := s.group(req.GroupId)
		if err != nil {
			return nil, err
		}
		if req.MemberId == nil {
			return nil, required("MemberId", (*string)(nil))
		}
		if err := checkResourceID("MemberId.UserId", &req.MemberId.UserId); err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite("membership:" + g.GroupId + "|" + req.MemberId.UserId); err != nil {
			return nil, err
		}
		m, err := s.dir().createMembership(g.GroupId, req.MemberId.UserId)
		if err != nil {
			return nil, err
		}
		return map[string]any{"IdentityStoreId": m.IdentityStoreId, "MembershipId": m.MembershipId, "MembershipArn": m.MembershipArn}, nil
	})
	registerJSON(svcIdentityStore, "GetGroupMembershipId", func(s *Sim, req *struct {
		IdentityStoreId, GroupId *string
		MemberId                 *memberID
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g, err := s.group(req.GroupId)
		if err != nil {
			return nil, err
		}
		u, err := s.memberUser(req.MemberId)
		if err != nil {
			return nil, err
		}
		id, ok := s.st.groupMembers[g.GroupId][u.UserId]
		if !ok {
			return nil, errNotFound("GROUP_MEMBERSHIP", "", "User %s is not a member of group %s", u.UserId, g.GroupId)
		}
		return map[string]any{"IdentityStoreId": s.st.Instance.IdentityStoreId, "MembershipId": id, "MembershipArn": s.st.Memberships[id].MembershipArn}, nil
	})
	registerJSON(svcIdentityStore, "DescribeGroupMembership", func(s *Sim, req *struct{ IdentityStoreId, MembershipId *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		if err := checkResourceID("MembershipId", req.MembershipId); err != nil {
			return nil, err
		}
		m := s.st.Memberships[*req.MembershipId]
		if m == nil {
			return nil, errNotFound("GROUP_MEMBERSHIP", *req.MembershipId, "Membership %s is not found", *req.MembershipId)
		}
		return m, nil
	})
	registerJSON(svcIdentityStore, "DeleteGroupMembership", func(s *Sim, req *struct{ IdentityStoreId, MembershipId *string }) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		if err := checkResourceID("MembershipId", req.MembershipId); err != nil {
			return nil, err
		}
		m := s.st.Memberships[*req.MembershipId]
		if m == nil {
			return nil, errNotFound("GROUP_MEMBERSHIP", *req.MembershipId, "Membership %s is not found", *req.MembershipId)
		}
		if err := s.conflictOnRecentWrite("membership:" + m.GroupId + "|" + m.MemberId.UserId); err != nil {
			return nil, err
		}
		s.dir().deleteMembership(m)
		return struct{}{}, nil
	})
	registerJSON(svcIdentityStore, "ListGroupMemberships", func(s *Sim, req *struct {
		IdentityStoreId, GroupId *string
		pageIn
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		g, err := s.group(req.GroupId)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		members := s.st.groupMembers[g.GroupId]
		page, next, err := pageOf(sortedKeys(s.st, "memberships:"+g.GroupId, members), "ListGroupMemberships", g.GroupId, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*membership{}
		for _, uid := range page {
			out = append(out, s.st.Memberships[members[uid]])
		}
		return map[string]any{"GroupMemberships": out, "NextToken": next}, nil
	})
	registerJSON(svcIdentityStore, "ListGroupMembershipsForMember", func(s *Sim, req *struct {
		IdentityStoreId *string
		MemberId        *memberID
		pageIn
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		u, err := s.memberUser(req.MemberId)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		groups := s.st.userGroups[u.UserId]
		page, next, err := pageOf(sortedKeys(s.st, "memberships-of:"+u.UserId, groups), "ListGroupMembershipsForMember", u.UserId, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*membership{}
		for _, gid := range page {
			out = append(out, s.st.Memberships[groups[gid]])
		}
		return map[string]any{"GroupMemberships": out, "NextToken": next}, nil
	})
	registerJSON(svcIdentityStore, "IsMemberInGroups", func(s *Sim, req *struct {
		IdentityStoreId *string
		MemberId        *memberID
		GroupIds        []string
	}) (any, error) {
		if err := s.checkStore(req.IdentityStoreId); err != nil {
			return nil, err
		}
		u, err := s.memberUser(req.MemberId)
		if err != nil {
			return nil, err
		}
		if len(req.GroupIds) == 0 || len(req.GroupIds) > 100 {
			return nil, errValidation("1 validation error detected: Value at 'groupIds' failed to satisfy constraint: Member must have length between 1 and 100")
		}
		out := []any{}
		for _, gid := range req.GroupIds {
			if err := checkResourceID("GroupIds", &gid); err != nil {
				return nil, err
			}
			_, ok := s.st.groupMembers[gid][u.UserId]
			out = append(out, map[string]any{"GroupId": gid, "MemberId": memberID{u.UserId}, "MembershipExists": ok})
		}
		return map[string]any{"Results": out}, nil
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type alternateID struct {
	UniqueAttribute *struct {
		AttributePath  *string
		AttributeValue json.RawMessage
	}
	ExternalId *externalID
}

// lookup resolves an AlternateIdentifier: a unique attribute (userName / displayName) or an external id.
func (s *Sim) lookup(alt *alternateID, kind, attribute string, byName map[string]string) (string, error) {
	switch {
	case alt == nil || (alt.UniqueAttribute == nil && alt.ExternalId == nil):
		return "", required("AlternateIdentifier", (*string)(nil))
	case alt.ExternalId != nil:
		if alt.ExternalId.Issuer == "" || alt.ExternalId.Id == "" {
			return "", errValidation("ExternalId needs an Issuer and an Id")
		}
		id, ok := s.st.byExternalID[kind+"|"+alt.ExternalId.Issuer+"|"+alt.ExternalId.Id]
		if !ok {
			return "", errNotFound(strings.ToUpper(kind), "", "No %s with external id %s from %s", kind, alt.ExternalId.Id, alt.ExternalId.Issuer)
		}
		return id, nil
	default:
		path := deref(alt.UniqueAttribute.AttributePath)
		var v string
		if err := json.Unmarshal(alt.UniqueAttribute.AttributeValue, &v); err != nil || v == "" {
			return "", errValidation("AttributeValue must be a non-empty string")
		}
		if kind == "user" && strings.EqualFold(path, "emails.value") {
			if id, ok := s.st.userByEmail[strings.ToLower(v)]; ok {
				return id, nil
			}
			return "", errNotFound("USER", "", "No user with emails.value %s", v)
		}
		if !strings.EqualFold(path, attribute) {
			valid := attribute
			if kind == "user" {
				valid += " or emails.value"
			}
			return "", errValidation("%q is not a unique attribute of a %s (use %s)", path, kind, valid)
		}
		id, ok := byName[strings.ToLower(v)]
		if !ok {
			return "", errNotFound(strings.ToUpper(kind), "", "No %s with %s %s", kind, attribute, v)
		}
		return id, nil
	}
}

// filtered applies the (deprecated, still supported) Filters of ListUsers / ListGroups: one
// attribute, equality.
func (s *Sim) filtered(filters []listFilter, attribute string, byName map[string]string, all func() []string) ([]string, string, error) {
	if len(filters) == 0 {
		return all(), "", nil
	}
	if len(filters) > 1 || !strings.EqualFold(deref(filters[0].AttributePath), attribute) || filters[0].AttributeValue == nil {
		return nil, "", errValidation("Filters support one filter on %s", attribute)
	}
	v := *filters[0].AttributeValue
	if id, ok := byName[strings.ToLower(v)]; ok {
		return []string{id}, v, nil
	}
	return []string{}, v, nil
}

// applyUserOp applies one UpdateUser operation: a path and a value (null removes).
func applyUserOp(u *user, op attributeOp) error {
	path := deref(op.AttributePath)
	null := len(op.AttributeValue) == 0 || string(op.AttributeValue) == "null"
	str := func() (string, error) {
		if null {
			return "", nil
		}
		var v string
		if err := json.Unmarshal(op.AttributeValue, &v); err != nil {
			return "", errValidation("The value of %s must be a string", path)
		}
		return v, nil
	}
	setName := func(set func(*name, string)) error {
		v, err := str()
		if err != nil {
			return err
		}
		if u.Name == nil {
			u.Name = &name{}
		}
		set(u.Name, v)
		return nil
	}
	var err error
	switch strings.ToLower(path) {
	case "username":
		u.UserName, err = str()
	case "displayname":
		u.DisplayName, err = str()
	case "nickname":
		u.NickName, err = str()
	case "profileurl":
		u.ProfileUrl, err = str()
	case "usertype":
		u.UserType, err = str()
	case "title":
		u.Title, err = str()
	case "preferredlanguage":
		u.PreferredLanguage, err = str()
	case "locale":
		u.Locale, err = str()
	case "timezone":
		u.Timezone, err = str()
	case "name.givenname":
		err = setName(func(n *name, v string) { n.GivenName = v })
	case "name.familyname":
		err = setName(func(n *name, v string) { n.FamilyName = v })
	case "name.middlename":
		err = setName(func(n *name, v string) { n.MiddleName = v })
	case "name.formatted":
		err = setName(func(n *name, v string) { n.Formatted = v })
	case "name":
		if null {
			u.Name = nil
			break
		}
		var n name
		if e := json.Unmarshal(op.AttributeValue, &n); e != nil {
			return errValidation("The value of name must be an object")
		}
		u.Name = &n
	case "emails":
		if null {
			u.Emails = nil
			break
		}
		var es []email
		if e := json.Unmarshal(op.AttributeValue, &es); e != nil {
			return errValidation("The value of emails must be a list of {Value, Type, Primary}")
		}
		u.Emails = es
	default:
		return errValidation("Attribute path %q cannot be updated", path)
	}
	return err
}

// maxAttributeValue bounds the JSON of one UpdateUser or UpdateGroup value.
const maxAttributeValue = 64 << 10

// checkOperations checks the operations of UpdateUser and UpdateGroup: 1 to 100, each value at most
// maxAttributeValue bytes.
func checkOperations(ops []attributeOp) error {
	if len(ops) == 0 || len(ops) > 100 {
		return errValidation("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	for i, op := range ops {
		if len(op.AttributeValue) > maxAttributeValue {
			return errValidation("1 validation error detected: Value at 'operations.%d.member.attributeValue' failed to satisfy constraint: Member must have length less than or equal to %d", i+1, maxAttributeValue)
		}
	}
	return nil
}

// checkRevision applies an optional Revision precondition.
func checkRevision(given *string, current string) error {
	if given != nil && *given != current {
		return errConflict("CONCURRENT_MODIFICATION", "The resource changed since revision %s (it is at %s)", *given, current)
	}
	return nil
}

func nextRevision(r string) string {
	n, _ := strconv.Atoi(r)
	return strconv.Itoa(n + 1)
}
