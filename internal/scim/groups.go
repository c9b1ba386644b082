package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Group is a SCIM group as warden reads and writes it.
type Group struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []Member `json:"members,omitempty"`
	Meta        *Meta    `json:"meta,omitempty"`
}

// Member is one member of a group: the user's SCIM id in value.
type Member struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Type    string `json:"type,omitempty"`
}

// group is a connector's group as warden keeps it: an access list (groups: lists) or a
// scim_group record (groups: traits).
type group struct {
	obj         *resource.Object
	id, extID   string
	displayName string
	members     []string // user names, sorted; nil when not loaded
	memberRevs  []string
	version     string
}

func (h *handler) lists() bool { return h.c.Groups != GroupsTraits }

// asGroup reads a list or scim_group as a group, with its members when asked.
func (h *handler) asGroup(ctx context.Context, o *resource.Object, members bool) (*group, error) {
	origin := h.c.Origin()
	if s, ok := o.Spec.(*resource.SCIMGroupSpec); ok {
		return &group{obj: o, id: s.ID, extID: s.ExternalID, displayName: s.DisplayName, members: s.Members,
			version: strconv.FormatInt(o.Metadata.Revision, 10)}, nil
	}
	s := o.Spec.(*resource.AccessListSpec)
	r := s.Upstream[origin]
	g := &group{obj: o, id: r.ID, extID: r.ExternalID, displayName: s.Title}
	parts := []string{strconv.FormatInt(o.Metadata.Revision, 10)}
	if members {
		recs, err := h.s.store.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, o.Metadata.Name, resource.IndexMemberKind, resource.MemberUser)})
		if err != nil {
			return nil, err
		}
		g.members = []string{}
		for _, m := range recs {
			g.members = append(g.members, m.Spec.(*resource.AccessListMemberSpec).Member)
			parts = append(parts, m.Metadata.Name, strconv.FormatInt(m.Metadata.Revision, 10))
		}
		sort.Strings(g.members)
	}
	g.version = hashVersion(parts...)
	return g, nil
}

// findGroup is the connector's group of SCIM id id.
func (h *handler) findGroup(ctx context.Context, id string, members bool) (*group, error) {
	origin := h.c.Origin()
	if !h.lists() {
		o, err := h.s.store.Get(ctx, resource.KindSCIMGroup, resource.SCIMGroupName(h.c.Name, id))
		if errors.Is(err, store.ErrNotFound) || (err == nil && o.Spec.(*resource.SCIMGroupSpec).Connector != h.c.Name) {
			return nil, errorf(http.StatusNotFound, "", "no group %q", id)
		}
		if err != nil {
			return nil, err
		}
		return h.asGroup(ctx, o, members)
	}
	objs, err := h.s.store.List(ctx, resource.KindAccessList, store.ListOptions{Filters: store.Filter(resource.IndexUpstreamID, origin+"/"+id), Limit: 2})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		s := o.Spec.(*resource.AccessListSpec)
		if ownedBy(origin, s.Origin, s.Upstream) && s.Upstream[origin].ID == id {
			return h.asGroup(ctx, o, members)
		}
	}
	return nil, errorf(http.StatusNotFound, "", "no group %q", id)
}

// allGroups are the connector's groups.
func (h *handler) allGroups(ctx context.Context, members bool) ([]*group, error) {
	var out []*group
	if !h.lists() {
		objs, err := h.s.store.List(ctx, resource.KindSCIMGroup, store.ListOptions{Filters: store.Filter("connector", h.c.Name)})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			g, _ := h.asGroup(ctx, o, members)
			out = append(out, g)
		}
		return out, nil
	}
	objs, err := h.s.store.List(ctx, resource.KindAccessList, store.ListOptions{Filters: store.Filter(resource.IndexOrigin, h.c.Origin())})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		s := o.Spec.(*resource.AccessListSpec)
		if !ownedBy(h.c.Origin(), s.Origin, s.Upstream) {
			continue
		}
		g, err := h.asGroup(ctx, o, members)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// groupJSON is a group as SCIM shows it; members only when loaded.
func (h *handler) groupJSON(ctx context.Context, g *group) (map[string]any, error) {
	out := Group{Schemas: []string{SchemaGroup}, ID: g.id, ExternalID: g.extID, DisplayName: g.displayName,
		Meta: &Meta{ResourceType: "Group", Location: h.base + "/Groups/" + g.id, Version: etag(g.version),
			Created: stamp(g.obj.Metadata.CreatedAt), LastModified: stamp(g.obj.Metadata.UpdatedAt)}}
	for _, name := range g.members {
		u, err := h.s.store.Get(ctx, resource.KindUser, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s := u.Spec.(*resource.UserSpec)
		if !ownedBy(h.c.Origin(), s.Origin, s.Upstream) {
			continue // not one of the connector's (no longer)
		}
		id := s.Upstream[h.c.Origin()].ID
		out.Members = append(out.Members, Member{Value: id, Display: name, Ref: h.base + "/Users/" + id, Type: "User"})
	}
	m, err := toMap(out)
	if err != nil {
		return nil, err
	}
	if g.members != nil {
		if _, ok := m["members"]; !ok {
			m["members"] = []any{}
		}
	}
	return m, nil
}

// wantMembers says whether the request wants members shown (excludedAttributes=members says no).
func (h *handler) wantMembers() bool {
	for _, a := range strings.Split(h.r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return false
		}
	}
	return true
}

func (h *handler) getGroup(ctx context.Context, id string) {
	g, err := h.findGroup(ctx, id, h.wantMembers())
	if err != nil {
		h.fail(err)
		return
	}
	m, err := h.groupJSON(ctx, g)
	if err != nil {
		h.fail(err)
		return
	}
	h.answer(http.StatusOK, m, g.version, "")
}

// namesMembers: does the filter read members?
func namesMembers(e Expr) bool {
	switch e := e.(type) {
	case *Compare:
		return strings.EqualFold(e.Attr.Name, "members")
	case *ValuePath:
		return strings.EqualFold(e.Attr.Name, "members")
	case *Logical:
		return namesMembers(e.Left) || namesMembers(e.Right)
	case *Not:
		return namesMembers(e.X)
	}
	return false
}

func (h *handler) groupsMatching(ctx context.Context, f Expr) ([]map[string]any, error) {
	load := h.wantMembers() || (f != nil && namesMembers(f))
	var gs []*group
	if v, ok := eqValue(f, "id"); ok {
		g, err := h.findGroup(ctx, v, load)
		var se *Error
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		gs = []*group{g}
	} else {
		var err error
		if gs, err = h.allGroups(ctx, load); err != nil {
			return nil, err
		}
	}
	var out []map[string]any
	for _, g := range gs {
		m, err := h.groupJSON(ctx, g)
		if err != nil {
			return nil, err
		}
		if f != nil && !Match(f, m) {
			continue
		}
		if !h.wantMembers() {
			delete(m, "members")
		}
		out = append(out, m)
	}
	return out, nil
}

// resolveMembers turns members' SCIM ids into user names: each must be a user of the connector.
func (h *handler) resolveMembers(ctx context.Context, ms []Member) ([]string, error) {
	set := map[string]bool{}
	for _, m := range ms {
		if m.Type != "" && !strings.EqualFold(m.Type, "User") {
			return nil, errorf(http.StatusBadRequest, "invalidValue", "members: %q is a %s; warden's groups hold users only", m.Value, m.Type)
		}
		u, err := h.findUser(ctx, m.Value)
		if err != nil {
			var se *Error
			if errors.As(err, &se) && se.Status == http.StatusNotFound {
				return nil, errorf(http.StatusBadRequest, "invalidValue", "members: no user of id %q (provision users before the groups that hold them)", m.Value)
			}
			return nil, err
		}
		set[u.Metadata.Name] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// titleTaken: another group (for lists: another access list of any origin) has this name,
// compared without case as Identity Center compares group names.
func (h *handler) titleTaken(ctx context.Context, name, except string) (bool, error) {
	if !h.lists() {
		gs, err := h.allGroups(ctx, false)
		if err != nil {
			return false, err
		}
		for _, g := range gs {
			if g.id != except && strings.EqualFold(g.displayName, name) {
				return true, nil
			}
		}
		return false, nil
	}
	// Access lists are indexed by their lower-cased title: the candidates, checked as titles.
	objs, err := h.s.store.List(ctx, resource.KindAccessList, store.ListOptions{Filters: store.Filter(resource.IndexTitle, resource.TitleKey(name))})
	if err != nil {
		return false, err
	}
	for _, o := range objs {
		if o.Metadata.Name != except && strings.EqualFold(o.Spec.(*resource.AccessListSpec).Title, name) {
			return true, nil
		}
	}
	return false, nil
}

// listName makes a free access list name from a group's name: lower-case letters, digits and -.
func (h *handler) listName(ctx context.Context, display string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(display) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 100 {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "group"
	}
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		_, err := h.s.store.Get(ctx, resource.KindAccessList, name)
		if errors.Is(err, store.ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free access list name for %q", display)
}

func checkGroup(g *Group) error {
	if strings.TrimSpace(g.DisplayName) == "" {
		return errorf(http.StatusBadRequest, "invalidValue", "displayName is required")
	}
	if len([]rune(g.DisplayName)) > 1024 {
		return errorf(http.StatusBadRequest, "invalidValue", "displayName is longer than 1024 characters")
	}
	return nil
}

func (h *handler) createGroup(ctx context.Context) {
	var in Group
	if err := h.readResource(&in); err != nil {
		h.fail(err)
		return
	}
	if err := checkGroup(&in); err != nil {
		h.fail(err)
		return
	}
	members, err := h.resolveMembers(ctx, in.Members)
	if err != nil {
		h.fail(err)
		return
	}
	if taken, err := h.titleTaken(ctx, in.DisplayName, ""); err != nil || taken {
		if err == nil {
			err = errorf(http.StatusConflict, "uniqueness", "a group named %q exists already (group names are unique, whatever their case, as in Identity Center)", in.DisplayName)
		}
		h.fail(err)
		return
	}
	id := newID()
	origin := h.c.Origin()
	var o *resource.Object
	if h.lists() {
		name, err := h.listName(ctx, in.DisplayName)
		if err != nil {
			h.fail(err)
			return
		}
		o = resource.New(resource.KindAccessList, name)
		o.Spec = &resource.AccessListSpec{Title: in.DisplayName, Owners: slices.Clone(h.c.DefaultOwners), Origin: origin,
			Upstream: map[string]*resource.UpstreamRecord{origin: {ID: id, ExternalID: in.ExternalID}}}
		objs := []*resource.Object{o}
		for _, m := range members {
			mo := resource.New(resource.KindAccessListMember, "")
			mo.Spec = &resource.AccessListMemberSpec{List: name, Member: m, Reason: "member of " + in.DisplayName + " at the identity provider (" + origin + ")"}
			objs = append(objs, mo)
		}
		if _, err := h.s.manage.Create(ctx, h.actor(), objs); err != nil {
			h.fail(unwrapItem(err))
			return
		}
	} else {
		o = resource.New(resource.KindSCIMGroup, resource.SCIMGroupName(h.c.Name, id))
		o.Spec = &resource.SCIMGroupSpec{Connector: h.c.Name, ID: id, DisplayName: in.DisplayName, ExternalID: in.ExternalID, Members: members}
		if _, err := h.s.manage.Create(ctx, h.actor(), []*resource.Object{o}); err != nil {
			h.fail(unwrapItem(err))
			return
		}
		if err := h.recomputeTraits(ctx, members); err != nil {
			h.fail(err)
			return
		}
	}
	h.answerGroup(ctx, id, http.StatusCreated)
}

func (h *handler) answerGroup(ctx context.Context, id string, code int) {
	g, err := h.findGroup(ctx, id, true)
	if err != nil {
		h.fail(err)
		return
	}
	m, err := h.groupJSON(ctx, g)
	if err != nil {
		h.fail(err)
		return
	}
	h.answer(code, m, g.version, h.base+"/Groups/"+id)
}

// changeGroup is PUT or PATCH of a group: the name, the external id, the members.
func (h *handler) changeGroup(ctx context.Context, id string) {
	g, err := h.findGroup(ctx, id, true)
	if err != nil {
		h.fail(err)
		return
	}
	if err := h.precondition(g.version); err != nil {
		h.fail(err)
		return
	}
	var in Group
	err = h.readChange(&in, func() (map[string]any, error) { return h.groupJSON(ctx, g) })
	if err == nil {
		err = checkGroup(&in)
	}
	if err != nil {
		h.fail(err)
		return
	}
	members, err := h.resolveMembers(ctx, in.Members)
	if err != nil {
		h.fail(err)
		return
	}
	if in.DisplayName != g.displayName {
		except := g.id
		if h.lists() {
			except = g.obj.Metadata.Name
		}
		if taken, err := h.titleTaken(ctx, in.DisplayName, except); err != nil || taken {
			if err == nil {
				err = errorf(http.StatusConflict, "uniqueness", "a group named %q exists already", in.DisplayName)
			}
			h.fail(err)
			return
		}
	}
	if err := h.writeGroup(ctx, g, &in, members); err != nil {
		h.fail(err)
		return
	}
	h.answerGroup(ctx, id, http.StatusOK)
}

// writeGroup makes a group's name, external id and members what in says.
func (h *handler) writeGroup(ctx context.Context, g *group, in *Group, members []string) error {
	origin := h.c.Origin()
	o := g.obj.Clone()
	if !h.lists() {
		s := o.Spec.(*resource.SCIMGroupSpec)
		renamed := s.DisplayName != in.DisplayName
		affected := map[string]bool{}
		for _, m := range s.Members {
			affected[m] = renamed || !slices.Contains(members, m)
		}
		for _, m := range members {
			affected[m] = affected[m] || renamed || !slices.Contains(s.Members, m)
		}
		s.DisplayName, s.ExternalID, s.Members = in.DisplayName, in.ExternalID, members
		if err := h.s.manage.Update(ctx, h.actor(), o); err != nil {
			return err
		}
		var users []string
		for u, yes := range affected {
			if yes {
				users = append(users, u)
			}
		}
		sort.Strings(users)
		return h.recomputeTraits(ctx, users)
	}
	s := o.Spec.(*resource.AccessListSpec)
	if s.Title != in.DisplayName || s.Upstream[origin].ExternalID != in.ExternalID {
		s.Title = in.DisplayName
		s.Upstream[origin].ExternalID = in.ExternalID
		if err := h.s.manage.Update(ctx, h.actor(), o); err != nil {
			return err
		}
	}
	var add []*resource.Object
	for _, m := range members {
		if !slices.Contains(g.members, m) {
			mo := resource.New(resource.KindAccessListMember, "")
			mo.Spec = &resource.AccessListMemberSpec{List: o.Metadata.Name, Member: m, Reason: "member of " + in.DisplayName + " at the identity provider (" + origin + ")"}
			add = append(add, mo)
		}
	}
	if len(add) > 0 {
		if _, err := h.s.manage.Create(ctx, h.actor(), add); err != nil {
			return unwrapItem(err)
		}
	}
	for _, m := range g.members {
		if !slices.Contains(members, m) {
			if _, err := h.s.manage.Delete(ctx, h.actor(), resource.KindAccessListMember, resource.MemberName(o.Metadata.Name, m, resource.MemberUser), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// deleteGroup deletes a list and its members (or, when it is nested in another list, empties it
// and leaves it to warden), or a trait group and its value on its members.
func (h *handler) deleteGroup(ctx context.Context, id string) {
	g, err := h.findGroup(ctx, id, true)
	if err != nil {
		h.fail(err)
		return
	}
	if err := h.precondition(g.version); err != nil {
		h.fail(err)
		return
	}
	name := g.obj.Metadata.Name
	_, err = h.s.manage.Delete(ctx, h.actor(), g.obj.Kind, name, 0)
	switch {
	case err == nil && !h.lists():
		err = h.recomputeTraits(ctx, g.members)
	case errors.Is(err, manage.ErrReferenced):
		h.s.log.Warn("scim: a deleted group's list is named elsewhere; emptied and left to warden", "connector", h.c.Name, "list", name, "err", err)
		if err = h.writeGroup(ctx, g, &Group{DisplayName: g.displayName, ExternalID: g.extID}, nil); err == nil {
			var cur *resource.Object
			if cur, err = h.s.store.Get(ctx, resource.KindAccessList, name); err == nil {
				cur.Spec.(*resource.AccessListSpec).Upstream[h.c.Origin()].ID = ""
				err = h.s.manage.Update(ctx, h.actor(), cur)
			}
		}
	}
	if err != nil {
		h.fail(err)
		return
	}
	h.w.WriteHeader(http.StatusNoContent)
}

// recomputeTraits sets, on each user, the connector's trait to the names of the groups that hold
// them (groups: traits); the connector's record of the trait marks it as the connector's.
func (h *handler) recomputeTraits(ctx context.Context, users []string) error {
	origin, trait := h.c.Origin(), h.c.GroupsTrait
	for _, name := range users {
		gs, err := h.s.store.List(ctx, resource.KindSCIMGroup, store.ListOptions{Filters: store.Filter("connector", h.c.Name, resource.IndexMember, name)})
		if err != nil {
			return err
		}
		vals := []string{}
		for _, g := range gs {
			if v := g.Spec.(*resource.SCIMGroupSpec).DisplayName; !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		sort.Strings(vals)
		u, err := h.s.store.Get(ctx, resource.KindUser, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		s := u.Spec.(*resource.UserSpec)
		r := s.Upstream[origin]
		if r == nil {
			continue
		}
		if slices.Equal(s.Traits[trait], vals) && r.Traits != nil && slices.Equal(r.Traits[trait], vals) && (len(vals) > 0 || s.Traits[trait] == nil) {
			continue
		}
		if s.Traits == nil {
			s.Traits = map[string][]string{}
		}
		if len(vals) == 0 {
			delete(s.Traits, trait)
		} else {
			s.Traits[trait] = vals
		}
		r.Traits = map[string][]string{trait: vals}
		if err := h.s.manage.Update(ctx, h.actor(), u); err != nil {
			return err
		}
	}
	return nil
}

// dropFromGroups takes a user out of every trait group of the connector.
func (h *handler) dropFromGroups(ctx context.Context, name string) error {
	gs, err := h.s.store.List(ctx, resource.KindSCIMGroup, store.ListOptions{Filters: store.Filter("connector", h.c.Name, resource.IndexMember, name)})
	if err != nil {
		return err
	}
	for _, g := range gs {
		s := g.Spec.(*resource.SCIMGroupSpec)
		s.Members = slices.DeleteFunc(s.Members, func(m string) bool { return m == name })
		if err := h.s.manage.Update(ctx, h.actor(), g); err != nil {
			return err
		}
	}
	return nil
}
