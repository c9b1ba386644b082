package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Errors of Sync.
var (
	// ErrUnknownUser: no warden user has the name, and the connector does not create users.
	ErrUnknownUser = errors.New("no such warden user")
	// ErrNotLinked: the user is of another origin, and the connector does not link existing users.
	ErrNotLinked = errors.New("the user was not made by this connector")
	// ErrSubject: the user is bound to another person (subject) at the provider.
	ErrSubject = errors.New("the user is bound to another subject at the identity provider")
)

// Bounds on what the claims grant.
const (
	// maxTraitValues bounds the values one claim gives a trait; more is an error.
	maxTraitValues = 1000
	// maxTraitValue bounds one trait value; a longer one is left out (and logged).
	maxTraitValue = 1024
	maxProfile    = 1024
	maxActor      = 256
	syncAttempts  = 4
)

// granted is what an identity's claims map to, by the connector's rules: roles and lists that
// exist, and trait values.
type granted struct {
	roles  []string
	lists  map[string]string // list -> why (the rule that matched)
	traits map[string][]string
}

// Sync makes the warden user of id agree with the provider's claims, and returns their name. A
// user that does not exist is created when the connector creates users (origin oidc:<name>);
// otherwise it must exist, be of the connector's origin (or the connector link existing users) and
// not be bound to another subject. Then the roles, trait values and access list memberships the
// rules map are granted, and those the connector granted at an earlier sign-in whose claim is gone
// are removed; nothing granted by hand is removed. Every write goes through package manage
// (validated, referentially checked, audited with the actor oidc:<name> and a detail naming the
// sign-in; actor, when given, says more there: the sign-in flow's id, say). Nothing is written when
// nothing changed.
func (c *Connector) Sync(ctx context.Context, st store.Store, id *Identity, actor string) (string, error) {
	if id == nil || id.Connector != c.cfg.Name {
		return "", fmt.Errorf("oidc connector %q: Sync was given an identity of another connector", c.cfg.Name)
	}
	if err := c.admit(id); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("sign-in of %s through %s (subject %s)", id.UserName, c.Origin(), id.Subject)
	if actor != "" {
		detail += "; " + clean(actor, maxActor)
	}
	who := manage.Actor{User: c.Origin(), Detail: detail}
	m := manage.New(st)
	want, err := c.grants(ctx, st, id)
	if err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		err := c.syncUser(ctx, st, m, who, id, want)
		if err == nil {
			err = c.syncMemberships(ctx, st, m, who, id.UserName, want.lists)
		}
		if err == nil {
			return id.UserName, nil
		}
		// Someone else wrote the user or a membership meanwhile (another sign-in, an administrator):
		// read again and redo.
		if attempt < syncAttempts && (errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists)) {
			continue
		}
		return "", fmt.Errorf("oidc connector %q: signing in %s: %w", c.cfg.Name, id.UserName, err)
	}
}

// grants evaluates the rules on id's claims.
func (c *Connector) grants(ctx context.Context, st store.Reader, id *Identity) (*granted, error) {
	g := &granted{lists: map[string]string{}, traits: map[string][]string{}}
	for _, r := range c.cfg.Roles {
		if !matches(id.Claims[r.Claim], r.Value) || slices.Contains(g.roles, r.Role) {
			continue
		}
		ok, err := c.exists(ctx, st, resource.KindRole, r.Role)
		if err != nil {
			return nil, err
		}
		if ok {
			g.roles = append(g.roles, r.Role)
		}
	}
	sort.Strings(g.roles)
	for _, r := range c.cfg.Lists {
		if !matches(id.Claims[r.Claim], r.Value) {
			continue
		}
		if _, seen := g.lists[r.List]; seen {
			continue
		}
		ok, err := c.exists(ctx, st, resource.KindAccessList, r.List)
		if err != nil {
			return nil, err
		}
		if ok {
			g.lists[r.List] = fmt.Sprintf("%s: claim %s has %s", c.Origin(), r.Claim, r.Value)
		}
	}
	for trait, claim := range c.cfg.Traits {
		vals := claimStrings(id.Claims[claim])
		if len(vals) > maxTraitValues {
			return nil, fmt.Errorf("oidc connector %q: the claim %q has %d values for trait %s; at most %d", c.cfg.Name, claim, len(vals), trait, maxTraitValues)
		}
		var keep []string
		for _, v := range vals {
			switch {
			case v == "" || slices.Contains(keep, v):
			case len(v) > maxTraitValue || !utf8.ValidString(v):
				c.log.Warn("oidc: a claim value is too long or not UTF-8 for a trait; left out", "connector", c.cfg.Name, "claim", claim, "trait", trait, "bytes", len(v))
			default:
				keep = append(keep, v)
			}
		}
		if len(keep) > 0 {
			g.traits[trait] = keep
		}
	}
	return g, nil
}

// exists reports whether a role or list a rule names exists; a rule naming a missing one grants
// nothing (and is logged), rather than stopping everyone's sign-in.
func (c *Connector) exists(ctx context.Context, st store.Reader, k resource.Kind, name string) (bool, error) {
	_, err := st.Get(ctx, k, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		c.log.Warn("oidc: a rule grants what does not exist; it grants nothing", "connector", c.cfg.Name, "kind", string(k), "name", name)
		return false, nil
	}
	return false, err
}

func (c *Connector) syncUser(ctx context.Context, st store.Reader, m *manage.Service, who manage.Actor, id *Identity, want *granted) error {
	origin := c.Origin()
	cur, err := st.Get(ctx, resource.KindUser, id.UserName)
	if errors.Is(err, store.ErrNotFound) {
		if !c.cfg.CreateUsers {
			return fmt.Errorf("%w %q (connector %s creates no users: an administrator makes them, with origin %s, or sets create_users)", ErrUnknownUser, id.UserName, c.cfg.Name, origin)
		}
		o := resource.New(resource.KindUser, id.UserName)
		spec := &resource.UserSpec{Origin: origin}
		profile(spec, id)
		rec := &resource.UpstreamRecord{Subject: id.Subject}
		reconcile(spec, rec, want)
		spec.Upstream = map[string]*resource.UpstreamRecord{origin: rec}
		o.Spec = spec
		_, err := m.Create(ctx, who, []*resource.Object{o})
		return err
	}
	if err != nil {
		return err
	}
	before, err := json.Marshal(cur.Spec)
	if err != nil {
		return err
	}
	spec := cur.Spec.(*resource.UserSpec)
	if spec.Origin != origin && !c.cfg.LinkExisting {
		orig := spec.Origin
		if orig == "" {
			orig = "warden"
		}
		return fmt.Errorf("%w: user %q has origin %s; connector %s signs in only users of origin %s (link_existing: true lets it sign in others)", ErrNotLinked, id.UserName, orig, c.cfg.Name, origin)
	}
	rec := &resource.UpstreamRecord{}
	if r := spec.Upstream[origin]; r != nil {
		if r.Subject != "" && r.Subject != id.Subject {
			return fmt.Errorf("%w: user %q signed in through %s as another person (subject) before; if the provider's account really is theirs now, an administrator removes spec.upstream[%q] from the user", ErrSubject, id.UserName, c.cfg.Name, origin)
		}
		*rec = *r
	}
	rec.Subject = id.Subject
	if spec.Origin == origin {
		profile(spec, id) // a linked user's profile is their origin's to keep
	}
	reconcile(spec, rec, want)
	if spec.Upstream == nil {
		spec.Upstream = map[string]*resource.UpstreamRecord{}
	}
	spec.Upstream[origin] = rec
	after, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if string(after) == string(before) {
		return nil
	}
	return m.Update(ctx, who, cur) // with the revision read: a write made meanwhile is a conflict
}

// profile sets a user's email and names from the claims: the email only when verified.
func profile(spec *resource.UserSpec, id *Identity) {
	if id.EmailVerified && validEmail(id.Email) {
		spec.Email = id.Email
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&spec.DisplayName, id.Name}, {&spec.GivenName, id.GivenName}, {&spec.FamilyName, id.FamilyName}} {
		if f.v != "" && utf8.RuneCountInString(f.v) <= maxProfile {
			*f.dst = f.v
		}
	}
}

// reconcile makes spec's roles and traits hold what want grants, and rec say which of them the
// connector granted: what rec named and want no longer grants is removed; what want grants and the
// user lacks is added and recorded; what the user held already, by hand, is neither recorded nor
// ever removed.
func reconcile(spec *resource.UserSpec, rec *resource.UpstreamRecord, want *granted) {
	ours := rec.Roles
	spec.Roles = slices.DeleteFunc(spec.Roles, func(r string) bool {
		return slices.Contains(ours, r) && !slices.Contains(want.roles, r)
	})
	var roles []string
	for _, r := range want.roles {
		switch {
		case slices.Contains(ours, r):
			if !slices.Contains(spec.Roles, r) {
				spec.Roles = append(spec.Roles, r) // the claim still grants it
			}
			roles = append(roles, r)
		case !slices.Contains(spec.Roles, r):
			spec.Roles = append(spec.Roles, r)
			roles = append(roles, r)
		}
	}
	rec.Roles = roles
	if len(spec.Roles) == 0 {
		spec.Roles = nil
	}

	oursT := rec.Traits
	for t, vals := range oursT {
		if spec.Traits[t] == nil {
			continue
		}
		spec.Traits[t] = slices.DeleteFunc(spec.Traits[t], func(v string) bool {
			return slices.Contains(vals, v) && !slices.Contains(want.traits[t], v)
		})
	}
	traits := map[string][]string{}
	for t, vals := range want.traits {
		for _, v := range vals {
			switch {
			case slices.Contains(oursT[t], v):
				if !slices.Contains(spec.Traits[t], v) {
					spec.Traits = put(spec.Traits, t, v)
				}
				traits[t] = append(traits[t], v)
			case !slices.Contains(spec.Traits[t], v):
				spec.Traits = put(spec.Traits, t, v)
				traits[t] = append(traits[t], v)
			}
		}
	}
	for t, vals := range spec.Traits {
		if len(vals) == 0 {
			delete(spec.Traits, t)
		}
	}
	if len(spec.Traits) == 0 {
		spec.Traits = nil
	}
	rec.Traits = nil
	if len(traits) > 0 {
		rec.Traits = traits
	}
}

func put(m map[string][]string, k, v string) map[string][]string {
	if m == nil {
		m = map[string][]string{}
	}
	m[k] = append(m[k], v)
	return m
}

// syncMemberships adds the user to the lists the claims map, and removes them from the lists the
// connector added them to (added_by oidc:<name>) that the claims no longer map. Memberships added
// by anyone else are left alone.
func (c *Connector) syncMemberships(ctx context.Context, st store.Reader, m *manage.Service, who manage.Actor, user string, want map[string]string) error {
	objs, err := st.List(ctx, resource.KindAccessListMember, store.ListOptions{
		Filters: store.Filter(resource.IndexMember, user, resource.IndexMemberKind, resource.MemberUser)})
	if err != nil {
		return err
	}
	have := map[string]*resource.Object{}
	for _, o := range objs {
		have[o.Spec.(*resource.AccessListMemberSpec).List] = o
	}
	var add []*resource.Object
	for _, list := range slices.Sorted(maps.Keys(want)) {
		if have[list] != nil {
			continue
		}
		o := resource.New(resource.KindAccessListMember, resource.MemberName(list, user, resource.MemberUser))
		o.Spec = &resource.AccessListMemberSpec{List: list, Member: user, Reason: want[list]}
		add = append(add, o)
	}
	if len(add) > 0 {
		if _, err := m.Create(ctx, who, add); err != nil {
			return err
		}
	}
	for _, list := range slices.Sorted(maps.Keys(have)) {
		o := have[list]
		if _, keep := want[list]; keep || o.Spec.(*resource.AccessListMemberSpec).AddedBy != c.Origin() {
			continue
		}
		if _, err := m.Delete(ctx, who, o.Kind, o.Metadata.Name, o.Metadata.Revision); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// matches reports whether a claim is want, or is a list holding want. Strings, numbers and
// booleans compare by their JSON text; nothing deeper is looked into.
func matches(claim any, want string) bool {
	if l, ok := claim.([]any); ok {
		return slices.ContainsFunc(l, func(v any) bool { s, ok := scalar(v); return ok && s == want })
	}
	s, ok := scalar(claim)
	return ok && s == want
}

// claimStrings is a claim's values: a scalar's text, or each scalar of a list.
func claimStrings(claim any) []string {
	if l, ok := claim.([]any); ok {
		out := make([]string, 0, len(l))
		for _, v := range l {
			if s, ok := scalar(v); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := scalar(claim); ok {
		return []string{s}
	}
	return nil
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}
