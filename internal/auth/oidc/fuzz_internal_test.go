package oidc

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
)

// FuzzReconcile: whatever the user holds, whatever the connector recorded and whatever the claims
// grant, reconcile grants what the claims grant, removes what the connector recorded and the claims
// no longer grant, never removes what the connector did not record (granted by hand), and records
// exactly what it added or still owns. Roles and trait values are drawn from small alphabets so
// that the sets overlap.
func FuzzReconcile(f *testing.F) {
	f.Add([]byte{0, 1}, []byte{1}, []byte{0, 2}, []byte{0x00, 0x11}, []byte{0x11}, []byte{0x01})
	f.Add([]byte{}, []byte{3}, []byte{3}, []byte{}, []byte{0x12}, []byte{0x12})
	f.Add([]byte{4, 5}, []byte{}, []byte{}, []byte{0x03}, []byte{0x03, 0x13}, []byte{})
	f.Fuzz(func(t *testing.T, held, recorded, wanted, heldT, recordedT, wantedT []byte) {
		role := func(b byte) string { return fmt.Sprintf("r%d", b%6) }
		roles := func(bs []byte) []string {
			var out []string
			for _, b := range bs {
				if r := role(b); !slices.Contains(out, r) {
					out = append(out, r)
				}
			}
			return out
		}
		traits := func(bs []byte) map[string][]string {
			out := map[string][]string{}
			for _, b := range bs {
				k, v := fmt.Sprintf("t%d", (b>>4)%2), fmt.Sprintf("v%d", b%4)
				if !slices.Contains(out[k], v) {
					out[k] = append(out[k], v)
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		}
		spec := &resource.UserSpec{Roles: roles(held), Traits: traits(heldT)}
		rec := &resource.UpstreamRecord{Roles: roles(recorded), Traits: traits(recordedT)}
		want := &granted{roles: roles(wanted), traits: traits(wantedT)}
		beforeRoles, beforeRec := slices.Clone(spec.Roles), slices.Clone(rec.Roles)
		beforeTraits, beforeRecT := traits(heldT), traits(recordedT)

		reconcile(spec, rec, want)

		check := func(what string, before, ours, wanted, after, recAfter []string) {
			for i, x := range after {
				if slices.Contains(after[:i], x) {
					t.Fatalf("%s: %q twice in %v", what, x, after)
				}
				if !slices.Contains(before, x) && !slices.Contains(wanted, x) {
					t.Fatalf("%s: %q granted from nowhere", what, x)
				}
			}
			for _, x := range wanted {
				if !slices.Contains(after, x) {
					t.Fatalf("%s: %q is granted by the claims but not held: %v", what, x, after)
				}
				if owned := slices.Contains(ours, x) || !slices.Contains(before, x); owned != slices.Contains(recAfter, x) {
					t.Fatalf("%s: %q recorded %v; want %v (held before %v, recorded before %v)", what, x, !owned, owned, before, ours)
				}
			}
			for _, x := range before {
				switch {
				case !slices.Contains(ours, x) && !slices.Contains(after, x):
					t.Fatalf("%s: %q, granted by hand, was removed", what, x)
				case slices.Contains(ours, x) && !slices.Contains(wanted, x) && slices.Contains(after, x):
					t.Fatalf("%s: %q, granted by the connector, is kept after its claim went", what, x)
				}
			}
			for _, x := range recAfter {
				if !slices.Contains(wanted, x) {
					t.Fatalf("%s: %q recorded but not granted by the claims", what, x)
				}
			}
		}
		check("roles", beforeRoles, beforeRec, want.roles, spec.Roles, rec.Roles)
		for _, k := range []string{"t0", "t1"} {
			check("trait "+k, beforeTraits[k], beforeRecT[k], want.traits[k], spec.Traits[k], rec.Traits[k])
			if v, ok := spec.Traits[k]; ok && len(v) == 0 {
				t.Fatalf("trait %s kept with no value", k)
			}
		}
		if spec.Traits != nil && len(spec.Traits) == 0 || rec.Traits != nil && len(rec.Traits) == 0 {
			t.Fatalf("empty trait maps kept: %v, %v", spec.Traits, rec.Traits)
		}
		if err := resource.Validate(&resource.Object{Kind: resource.KindUser, Version: resource.Version,
			Metadata: resource.Metadata{Name: "alice"}, Spec: spec}); err != nil {
			t.Fatalf("the user is no longer valid: %v", err)
		}
	})
}
