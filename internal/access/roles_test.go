package access_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const org = `
kind: role
version: v1
metadata: {name: standing}
spec: {allow: {review_requests: {roles: ["*"]}}}
---
kind: role
version: v1
metadata: {name: from-team}
spec: {allow: {request: {roles: [standing]}}}
---
kind: role
version: v1
metadata: {name: from-org}
spec: {allow: {request: {roles: [standing]}}}
---
kind: role
version: v1
metadata: {name: from-expired}
spec: {allow: {request: {roles: [standing]}}}
---
kind: role
version: v1
metadata: {name: from-guarded}
spec: {allow: {request: {roles: [standing]}}}
---
kind: user
version: v1
metadata: {name: dan@example.com}
spec: {roles: [standing], traits: {team: [payments]}}
---
kind: access_list
version: v1
metadata: {name: team}
spec: {title: Team, owners: [dan@example.com], grants: {roles: [from-team]}}
---
kind: access_list
version: v1
metadata: {name: org}
spec: {title: Org, owners: [dan@example.com], grants: {roles: [from-org]}}
---
kind: access_list
version: v1
metadata: {name: old}
spec: {title: Old, owners: [dan@example.com], grants: {roles: [from-expired]}}
---
kind: access_list
version: v1
metadata: {name: guarded}
spec: {title: Guarded, owners: [dan@example.com], grants: {roles: [from-guarded]}, membership_requires: {traits: {team: [security]}}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: team, member: dan@example.com}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: org, member: team, member_kind: list}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: old, member: dan@example.com, expires: 2026-01-01T00:00:00Z}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: guarded, member: dan@example.com}
---
kind: role
version: v1
metadata: {name: from-above-guarded}
spec: {allow: {request: {roles: [standing]}, review_requests: {roles: ["*"]}}}
---
kind: access_list
version: v1
metadata: {name: above-guarded}
spec: {title: Above guarded, owners: [dan@example.com], grants: {roles: [from-above-guarded]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: above-guarded, member: guarded, member_kind: list}
`

// A user's roles: standing ones, their lists' grants, nested lists' grants; not those of an expired
// membership or of a list whose requirements they do not meet, nor those of the lists that such a
// list is nested in (dan is in guarded without its requirements: above-guarded, which holds
// guarded, gives him nothing, as the sync leaves him out of its group).
func TestRoles(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objs, err := resource.DecodeAll("org.yaml", []byte(org))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manage.New(st).Create(ctx, manage.Actor{User: "test", Admin: true}, objs); err != nil {
		t.Fatal(err)
	}
	roles, err := access.Roles(ctx, st, "dan@example.com", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"from-org", "from-team", "standing"}; !slices.Equal(names, want) {
		t.Fatalf("roles %v, want %v", names, want)
	}
	if _, err := access.Roles(ctx, st, "nobody@example.com", time.Now()); err == nil {
		t.Fatal("roles of a user who does not exist")
	}
}
