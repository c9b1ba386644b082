package manage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
)

// What a SCIM connector provisioned is its own: anyone else's change to a field it owns is refused
// naming the field and the connector; what warden governs (roles, owners, grants) stays editable;
// the connector itself changes what it owns.
func TestManageRefusesEditsOfWhatAnUpstreamOwns(t *testing.T) {
	ctx, st := open(t)
	m := manage.New(st)
	entra := manage.Actor{User: "scim:entra"}
	admin := manage.Actor{User: "root", Admin: true}
	if _, err := m.Create(ctx, admin, []*resource.Object{
		decode(t, "kind: role\nmetadata: {name: dev}\n"),
		decode(t, "kind: user\nmetadata: {name: owner}\n"),
		decode(t, "kind: user\nmetadata: {name: local}\n"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, entra, []*resource.Object{
		decode(t, `kind: user
metadata: {name: ann@example.com}
spec: {email: ann@example.com, display_name: Ann, origin: "scim:entra", traits: {groups: [Eng]}, upstream: {"scim:entra": {id: u1, external_id: e1, traits: {groups: [Eng]}}}}
`),
		decode(t, `kind: access_list
metadata: {name: eng}
spec: {title: Eng, owners: [owner], origin: "scim:entra", upstream: {"scim:entra": {id: g1}}}
`),
		decode(t, "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: ann@example.com}\n"),
	}); err != nil {
		t.Fatal(err)
	}

	refused := func(what, field string, err error) {
		t.Helper()
		var oe *manage.OwnedError
		if !errors.As(err, &oe) || !errors.Is(err, manage.ErrOwned) || oe.Field != field || oe.Owner != "scim:entra" {
			t.Fatalf("%s: %v, want refused on %s owned by scim:entra", what, err, field)
		}
		if !strings.Contains(oe.Error(), "SCIM connector entra") || !strings.HasPrefix(oe.Error(), field+":") {
			t.Fatalf("%s: the message %q does not name the field and the connector", what, err)
		}
	}
	get := func(k resource.Kind, name string) *resource.Object {
		t.Helper()
		o, err := st.Get(ctx, k, name)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	u := get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Email = "other@example.com"
	refused("an administrator changing the email", "spec.email", m.Update(ctx, admin, u))
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Disabled = true
	refused("an administrator disabling", "spec.disabled", m.Update(ctx, admin, u))
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Traits["groups"] = []string{"Eng", "Admins"}
	refused("an administrator changing the connector's trait", "spec.traits.groups", m.Update(ctx, admin, u))
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Origin = "warden"
	_, err := m.Apply(ctx, admin, []*resource.Object{u})
	refused("an administrator taking the user over", "spec.origin", err)
	_, err = m.Delete(ctx, admin, resource.KindUser, "ann@example.com", 0)
	refused("an administrator deleting", "metadata.name", err)

	// What warden governs stays an administrator's to change.
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Roles = []string{"dev"}
	u.Spec.(*resource.UserSpec).Traits["team"] = []string{"platform"}
	if err := m.Update(ctx, admin, u); err != nil {
		t.Fatalf("an administrator granting a standing role: %v", err)
	}
	l := get(resource.KindAccessList, "eng")
	l.Spec.(*resource.AccessListSpec).Grants.Roles = []string{"dev"}
	l.Spec.(*resource.AccessListSpec).Owners = []string{"owner", "local"}
	if err := m.Update(ctx, admin, l); err != nil {
		t.Fatalf("an administrator changing the list's grants and owners: %v", err)
	}
	l = get(resource.KindAccessList, "eng")
	l.Spec.(*resource.AccessListSpec).Title = "Engineering"
	refused("renaming the list", "spec.title", m.Update(ctx, admin, l))
	_, err = m.Delete(ctx, admin, resource.KindAccessList, "eng", 0)
	refused("deleting the list", "metadata.name", err)
	_, err = m.Create(ctx, admin, []*resource.Object{decode(t, "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: local}\n")})
	refused("adding a member", "spec.list", err)
	_, err = m.Delete(ctx, admin, resource.KindAccessListMember, "eng/ann@example.com", 0)
	refused("removing a member", "spec.list", err)
	_, err = m.Create(ctx, admin, []*resource.Object{decode(t, "kind: user\nmetadata: {name: eve}\nspec: {origin: \"scim:entra\", upstream: {\"scim:entra\": {id: x}}}\n")})
	refused("creating a user of the connector's origin", "spec.origin", err)

	// The connector changes what it owns (and only it: another connector is anyone else).
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Email = "ann2@example.com"
	refused("another connector", "spec.email", m.Update(ctx, manage.Actor{User: "scim:okta"}, u))
	if err := m.Update(ctx, entra, u); err != nil {
		t.Fatalf("the connector changing the email: %v", err)
	}
	if _, err := m.Delete(ctx, entra, resource.KindAccessListMember, "eng/ann@example.com", 0); err != nil {
		t.Fatalf("the connector removing a member: %v", err)
	}

	// Made for the connector beforehand (no id yet), or deleted by it and kept: the
	// administrators' to change.
	if _, err := m.Create(ctx, admin, []*resource.Object{decode(t, "kind: user\nmetadata: {name: zoe}\nspec: {origin: \"scim:entra\"}\n")}); err != nil {
		t.Fatalf("an administrator making a user for the connector to take: %v", err)
	}
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Upstream["scim:entra"].ID = ""
	u.Spec.(*resource.UserSpec).Disabled = true
	if err := m.Update(ctx, entra, u); err != nil {
		t.Fatal(err)
	}
	u = get(resource.KindUser, "ann@example.com")
	u.Spec.(*resource.UserSpec).Disabled = false
	if err := m.Update(ctx, admin, u); err != nil {
		t.Fatalf("an administrator enabling a user the provider deleted: %v", err)
	}
}
