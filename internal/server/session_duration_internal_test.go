package server

import (
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/reconcile"
)

// How long credentials fetched now stay valid, against the window's end: before it, or past it
// (the session outlives the window), per permission set; and the notes at request time.
func TestCredentialNotes(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	durations := map[string]time.Duration{"arn:admin": 8 * time.Hour, "arn:ro": time.Hour}
	grants := []GrantState{
		{RequestGrant: reconcile.RequestGrant{AccountID: "111111111111", PermissionSet: "Admin", PermissionSetARN: "arn:admin"}},
		{RequestGrant: reconcile.RequestGrant{AccountID: "222222222222", PermissionSet: "Admin", PermissionSetARN: "arn:admin"}},
		{RequestGrant: reconcile.RequestGrant{AccountID: "111111111111", PermissionSet: "ReadOnly", PermissionSetARN: "arn:ro"}},
		{RequestGrant: reconcile.RequestGrant{AccountID: "111111111111", PermissionSet: "Other", PermissionSetARN: "arn:unknown"}},
	}
	got := strings.Join(credentialsNow(grants, durations, now.Add(2*time.Hour), now), "\n")
	want := strings.Join([]string{
		"credentials for Admin fetched now stay valid until 2026-11-30T18:00:00Z (its session duration, 8h), 6h after the access ends at 2026-11-30T12:00:00Z: the session outlives the window",
		"credentials for Other fetched now stay valid until 2026-11-30T11:00:00Z (its session duration, 1h), before the access ends at 2026-11-30T12:00:00Z",
		"credentials for ReadOnly fetched now stay valid until 2026-11-30T11:00:00Z (its session duration, 1h), before the access ends at 2026-11-30T12:00:00Z",
	}, "\n")
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	items := []policy.Item{{Target: policy.Target{PermissionSetARN: "arn:ro"}, PermissionSetName: "ReadOnly"},
		{Target: policy.Target{PermissionSetARN: "arn:admin"}, PermissionSetName: "Admin"}}
	if n := credentialsAtCreate(items, durations, 90*time.Minute); !strings.Contains(n, "(8h for Admin), longer than the 1h30m asked for: fetched at its start, they work 6h30m after it ends") {
		t.Fatalf("at create, a short window: %s", n)
	}
	if n := credentialsAtCreate(items, durations, 12*time.Hour); !strings.Contains(n, "(up to 8h, Admin), also after the access ends") {
		t.Fatalf("at create, a long window: %s", n)
	}
	if n := credentialsAtCreate(nil, durations, time.Hour); n != "" {
		t.Fatalf("at create, nothing: %q", n)
	}
}
