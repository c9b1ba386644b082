package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// User is a SCIM user as warden reads and writes it. What else a provider sends (locale, title,
// phone numbers, the enterprise extension, a password) is accepted and not kept.
type User struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	UserName    string   `json:"userName"`
	DisplayName string   `json:"displayName,omitempty"`
	Name        *Name    `json:"name,omitempty"`
	Emails      []Email  `json:"emails,omitempty"`
	Active      *Bool    `json:"active,omitempty"`
	Meta        *Meta    `json:"meta,omitempty"`
}

// Name is a user's name.
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

// Email is one of a user's email addresses.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary Bool   `json:"primary,omitempty"`
}

// email is the address warden keeps: the primary one, else the first.
func (u *User) email() string {
	for _, e := range u.Emails {
		if e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range u.Emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}

func (u *User) active() bool { return u.Active == nil || bool(*u.Active) }

// record is the connector's upstream record on a user or list (nil when none).
func record(ups map[string]*resource.UpstreamRecord, origin string) *resource.UpstreamRecord {
	return ups[origin]
}

// ownedBy: the connector provisioned o and has not deleted it (it has an id).
func ownedBy(origin string, specOrigin string, ups map[string]*resource.UpstreamRecord) bool {
	r := record(ups, origin)
	return specOrigin == origin && r != nil && r.ID != ""
}

// userJSON is a warden user as SCIM shows it.
func (h *handler) userJSON(o *resource.Object) (map[string]any, string) {
	s := o.Spec.(*resource.UserSpec)
	r := record(s.Upstream, h.c.Origin())
	active := Bool(!s.Disabled)
	u := User{Schemas: []string{SchemaUser}, ID: r.ID, ExternalID: r.ExternalID, UserName: o.Metadata.Name,
		DisplayName: s.DisplayName, Active: &active}
	if s.GivenName != "" || s.FamilyName != "" {
		u.Name = &Name{GivenName: s.GivenName, FamilyName: s.FamilyName, Formatted: strings.TrimSpace(s.GivenName + " " + s.FamilyName)}
	}
	if s.Email != "" {
		u.Emails = []Email{{Value: s.Email, Type: "work", Primary: true}}
	}
	version := strconv.FormatInt(o.Metadata.Revision, 10)
	u.Meta = &Meta{ResourceType: "User", Created: stamp(o.Metadata.CreatedAt), LastModified: stamp(o.Metadata.UpdatedAt),
		Location: h.base + "/Users/" + r.ID, Version: etag(version)}
	m, _ := toMap(u)
	return m, version
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// findUser is the connector's user of SCIM id id.
func (h *handler) findUser(ctx context.Context, id string) (*resource.Object, error) {
	objs, err := h.s.store.List(ctx, resource.KindUser, store.ListOptions{Filters: store.Filter(resource.IndexUpstreamID, h.c.Origin()+"/"+id), Limit: 2})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		s := o.Spec.(*resource.UserSpec)
		if ownedBy(h.c.Origin(), s.Origin, s.Upstream) && s.Upstream[h.c.Origin()].ID == id {
			return o, nil
		}
	}
	return nil, errorf(http.StatusNotFound, "", "no user %q", id)
}

// userCandidates are the users a filter may match, found by index when it names a userName,
// externalId or id it must equal; otherwise every user of the connector.
func (h *handler) userCandidates(ctx context.Context, f Expr) ([]*resource.Object, error) {
	origin := h.c.Origin()
	if v, ok := eqValue(f, "userName"); ok {
		var out []*resource.Object
		for _, n := range uniq(v, strings.ToLower(v)) {
			o, err := h.s.store.Get(ctx, resource.KindUser, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	if v, ok := eqValue(f, "externalId"); ok {
		return h.s.store.List(ctx, resource.KindUser, store.ListOptions{Filters: store.Filter(resource.IndexUpstreamExternalID, origin+"/"+v)})
	}
	if v, ok := eqValue(f, "id"); ok {
		return h.s.store.List(ctx, resource.KindUser, store.ListOptions{Filters: store.Filter(resource.IndexUpstreamID, origin+"/"+v)})
	}
	return h.s.store.List(ctx, resource.KindUser, store.ListOptions{Filters: store.Filter(resource.IndexOrigin, origin)})
}

func uniq(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v != "" && (len(out) == 0 || out[len(out)-1] != v) {
			out = append(out, v)
		}
	}
	return out
}

func (h *handler) list(ctx context.Context) {
	f, err := h.filter()
	if err != nil {
		h.fail(err)
		return
	}
	start, count, err := h.page()
	if err != nil {
		h.fail(err)
		return
	}
	var all []map[string]any
	if h.users {
		objs, err := h.userCandidates(ctx, f)
		if err != nil {
			h.fail(err)
			return
		}
		for _, o := range objs {
			s := o.Spec.(*resource.UserSpec)
			if !ownedBy(h.c.Origin(), s.Origin, s.Upstream) {
				continue
			}
			m, _ := h.userJSON(o)
			if f == nil || Match(f, m) {
				all = append(all, m)
			}
		}
	} else {
		if all, err = h.groupsMatching(ctx, f); err != nil {
			h.fail(err)
			return
		}
	}
	total := len(all)
	page := []map[string]any{}
	if from := start - 1; from < total {
		page = all[from:min(total, from+count)]
	}
	writeJSON(h.w, http.StatusOK, listResponse(page, total, start))
}

func (h *handler) get(ctx context.Context, id string) {
	if !h.users {
		h.getGroup(ctx, id)
		return
	}
	o, err := h.findUser(ctx, id)
	if err != nil {
		h.fail(err)
		return
	}
	m, v := h.userJSON(o)
	h.answer(http.StatusOK, m, v, "")
}

// checkUser judges a user as sent, naming what is wrong as SCIM does.
func checkUser(u *User) error {
	if u.UserName == "" {
		return errorf(http.StatusBadRequest, "invalidValue", "userName is required")
	}
	if !resource.ValidUserName(u.UserName) {
		return errorf(http.StatusBadRequest, "invalidValue", "userName %q is not a warden user name (the Identity Center userName): 1-128 letters, digits or _+=,.@-, no spaces", u.UserName)
	}
	if e := u.email(); e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return errorf(http.StatusBadRequest, "invalidValue", "emails: %q is not an email address", e)
		}
	}
	return nil
}

// setUser writes what u says into a warden user's spec: the profile, whether they are active,
// the ids. It reports whether this disables them.
func (h *handler) setUser(s *resource.UserSpec, u *User, id string) (disabling bool) {
	origin := h.c.Origin()
	s.Origin = origin
	s.DisplayName = u.DisplayName
	s.GivenName, s.FamilyName = "", ""
	if u.Name != nil {
		s.GivenName, s.FamilyName = u.Name.GivenName, u.Name.FamilyName
		if s.DisplayName == "" {
			s.DisplayName = u.Name.Formatted
		}
	}
	s.Email = u.email()
	disabling = !s.Disabled && !u.active()
	s.Disabled = !u.active()
	s.RemoveWhenDisabled = h.c.Deprovision == DeprovisionDelete
	if s.Upstream == nil {
		s.Upstream = map[string]*resource.UpstreamRecord{}
	}
	r := s.Upstream[origin]
	if r == nil {
		r = &resource.UpstreamRecord{}
		s.Upstream[origin] = r
	}
	r.ID, r.ExternalID = id, u.ExternalID
	return disabling
}

func (h *handler) createUser(ctx context.Context) {
	var u User
	if err := h.readResource(&u); err != nil {
		h.fail(err)
		return
	}
	if err := checkUser(&u); err != nil {
		h.fail(err)
		return
	}
	origin := h.c.Origin()
	for _, n := range uniq(u.UserName, strings.ToLower(u.UserName)) {
		cur, err := h.s.store.Get(ctx, resource.KindUser, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			h.fail(err)
			return
		}
		s := cur.Spec.(*resource.UserSpec)
		switch {
		case ownedBy(origin, s.Origin, s.Upstream):
			h.fail(errorf(http.StatusConflict, "uniqueness", "userName %q exists already (id %s)", cur.Metadata.Name, s.Upstream[origin].ID))
			return
		case s.Origin == origin && n == u.UserName:
			// Made for this connector beforehand, or deleted by it while kept (deprovision:
			// disable): it takes the user (back).
			h.writeUser(ctx, cur, &u, newID(), http.StatusCreated)
			return
		default:
			orig := s.Origin
			if orig == "" {
				orig = "warden"
			}
			h.fail(errorf(http.StatusConflict, "uniqueness", "userName %q is taken by a user of origin %s in warden (an administrator who means it to be this connector's sets its origin to %s)", cur.Metadata.Name, orig, origin))
			return
		}
	}
	o := resource.New(resource.KindUser, u.UserName)
	spec := &resource.UserSpec{}
	h.setUser(spec, &u, newID())
	o.Spec = spec
	if _, err := h.s.manage.Create(ctx, h.actor(), []*resource.Object{o}); err != nil {
		h.fail(unwrapItem(err))
		return
	}
	m, v := h.userJSON(o)
	h.answer(http.StatusCreated, m, v, h.base+"/Users/"+spec.Upstream[origin].ID)
}

// writeUser updates cur to what u says (keeping id), disabling at once what the user could still
// use when u deactivates them, and answers code with the user.
func (h *handler) writeUser(ctx context.Context, cur *resource.Object, u *User, id string, code int) {
	if u.UserName != cur.Metadata.Name {
		h.fail(errorf(http.StatusBadRequest, "mutability", "userName cannot change from %q to %q: it is the warden user's name and the Identity Center userName (delete the user and create it anew)", cur.Metadata.Name, u.UserName))
		return
	}
	if err := checkUser(u); err != nil {
		h.fail(err)
		return
	}
	o := cur.Clone()
	disabling := h.setUser(o.Spec.(*resource.UserSpec), u, id)
	if err := h.s.manage.Update(ctx, h.actor(), o); err != nil {
		h.fail(err)
		return
	}
	if disabling {
		if err := h.deprovision(ctx, o.Metadata.Name); err != nil {
			h.fail(err)
			return
		}
	}
	got, err := h.s.store.Get(ctx, resource.KindUser, o.Metadata.Name)
	if err != nil {
		h.fail(err)
		return
	}
	m, v := h.userJSON(got)
	h.answer(code, m, v, h.base+"/Users/"+id)
}

// deprovision ends what a user just disabled could still use (Hooks.Deprovision).
func (h *handler) deprovision(ctx context.Context, user string) error {
	if h.s.hooks.Deprovision == nil {
		return nil
	}
	if err := h.s.hooks.Deprovision(ctx, user, h.c.Origin()); err != nil {
		return fmt.Errorf("user %q is disabled, but ending their sessions, tokens and requests failed: %w", user, err)
	}
	return nil
}

// change is PUT or PATCH of a user or group.
func (h *handler) change(ctx context.Context, id string) {
	if !h.users {
		h.changeGroup(ctx, id)
		return
	}
	cur, err := h.findUser(ctx, id)
	if err != nil {
		h.fail(err)
		return
	}
	m, version := h.userJSON(cur)
	if err := h.precondition(version); err != nil {
		h.fail(err)
		return
	}
	var u User
	err = h.readChange(&u, func() (map[string]any, error) { return m, nil })
	if err != nil {
		h.fail(err)
		return
	}
	h.writeUser(ctx, cur, &u, id, http.StatusOK)
}

// deleteUser deprovisions a user as the connector says: disable keeps them disabled (and no
// longer the connector's to read: a later POST of the same userName takes them back); delete
// ends what they could use, then deletes them and their memberships (kept disabled instead, when
// something else still names them: a list they own).
func (h *handler) deleteUser(ctx context.Context, id string) {
	cur, err := h.findUser(ctx, id)
	if err != nil {
		h.fail(err)
		return
	}
	if err := h.precondition(strconv.FormatInt(cur.Metadata.Revision, 10)); err != nil {
		h.fail(err)
		return
	}
	name := cur.Metadata.Name
	o := cur.Clone()
	s := o.Spec.(*resource.UserSpec)
	wasDisabled := s.Disabled
	s.Disabled, s.RemoveWhenDisabled = true, h.c.Deprovision == DeprovisionDelete
	if h.c.Deprovision == DeprovisionDisable {
		s.Upstream[h.c.Origin()].ID = "" // deleted at the provider: no longer its to read or change
	}
	if err := h.s.manage.Update(ctx, h.actor(), o); err != nil {
		h.fail(err)
		return
	}
	if !wasDisabled {
		if err := h.deprovision(ctx, name); err != nil {
			h.fail(err)
			return
		}
	}
	if h.c.Deprovision == DeprovisionDelete {
		if err := h.removeUser(ctx, name); err != nil {
			h.fail(err)
			return
		}
	}
	h.w.WriteHeader(http.StatusNoContent)
}

// removeUser deletes a user and the member records that name them; if they are still named
// (owner of a list), they are kept, disabled, and no longer the connector's.
func (h *handler) removeUser(ctx context.Context, name string) error {
	members, err := h.s.store.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, name, resource.IndexMemberKind, resource.MemberUser)})
	if err != nil {
		return err
	}
	for _, m := range members {
		if _, err := h.s.manage.Delete(ctx, h.actor(), m.Kind, m.Metadata.Name, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if h.c.Groups == GroupsTraits {
		if err := h.dropFromGroups(ctx, name); err != nil {
			return err
		}
	}
	_, err = h.s.manage.Delete(ctx, h.actor(), resource.KindUser, name, 0)
	if !errors.Is(err, manage.ErrReferenced) {
		return err
	}
	h.s.log.Warn("scim: a deleted user is still named elsewhere; kept disabled", "connector", h.c.Name, "user", name, "err", err)
	cur, err := h.s.store.Get(ctx, resource.KindUser, name)
	if err != nil {
		return err
	}
	cur.Spec.(*resource.UserSpec).Upstream[h.c.Origin()].ID = ""
	return h.s.manage.Update(ctx, manage.Actor{User: h.c.Origin(), Detail: fmt.Sprintf("SCIM DELETE: kept disabled, as %v", err)}, cur)
}

// unwrapItem drops manage's batch item wrapper from an error about one item.
func unwrapItem(err error) error {
	var item *manage.ItemError
	if errors.As(err, &item) {
		return item.Err
	}
	return err
}
