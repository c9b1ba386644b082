package manage_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// TestDeleteUserTakesTokensAndSessions: a deleted user's API tokens and sessions go with them,
// each audited without its secret's hash.
func TestDeleteUserTakesTokensAndSessions(t *testing.T) {
	ctx, st := open(t)
	m := manage.New(st)
	actor := manage.Actor{User: "root"}
	for _, u := range []string{"alice", "bob"} {
		if _, err := m.Create(ctx, actor, []*resource.Object{decode(t, "kind: user\nmetadata: {name: "+u+"}\n")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := auth.NewTokens(st).Create(ctx, "alice", false, time.Hour); err != nil {
		t.Fatal(err)
	}
	ss := auth.NewSessions(st, auth.SessionConfig{})
	for _, u := range []string{"alice", "alice", "bob"} {
		if _, err := ss.Issue(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), u, auth.MethodUse{Method: auth.MethodPassword}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Delete(ctx, actor, resource.KindUser, "alice", 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []resource.Kind{resource.KindAPIToken, resource.KindSession} {
		left, err := st.List(ctx, k, store.ListOptions{Filters: store.Filter(resource.IndexUser, "alice")})
		if err != nil || len(left) != 0 {
			t.Fatalf("%s of a deleted user left: %d %v", k, len(left), err)
		}
	}
	if left, _ := ss.List(ctx, "bob"); len(left) != 1 {
		t.Fatal("someone else's session went too")
	}
	entries, err := audit.List(ctx, st, audit.Filter{Actor: "root", Kind: resource.KindSession})
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d session deletions audited, want 2 (%v)", len(entries), err)
	}
	for _, e := range entries {
		if e.Action != "delete" || strings.Contains(string(e.Before), "secret_hash") || e.Detail != "with alice" {
			t.Errorf("entry %s %s %s", e.Action, e.Detail, e.Before)
		}
	}
}
