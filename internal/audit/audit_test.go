package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

// setup writes, deletes and updates through manage, leaving a log of 4 entries.
func setup(t *testing.T) (context.Context, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := manage.New(st)
	alice := resource.New(resource.KindUser, "alice")
	alice.Spec = &resource.UserSpec{Email: "alice@example.com"}
	bob := resource.New(resource.KindUser, "bob")
	bob.Spec = &resource.UserSpec{Email: "bob@example.com"}
	if _, err := m.Create(ctx, manage.Actor{User: "root", Admin: true}, []*resource.Object{alice, bob}); err != nil {
		t.Fatal(err)
	}
	cur, _ := st.Get(ctx, resource.KindUser, "alice")
	cur.Spec.(*resource.UserSpec).Email = "alice@corp.example.com"
	if err := m.Update(ctx, manage.Actor{User: "carol", Admin: true}, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Delete(ctx, manage.Actor{User: "carol", Admin: true}, resource.KindUser, "bob", 0); err != nil {
		t.Fatal(err)
	}
	return ctx, st
}

func TestEveryChangeIsLoggedWithBeforeAndAfter(t *testing.T) {
	ctx, st := setup(t)
	entries, err := audit.List(ctx, st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+e.Action+" "+string(e.Kind)+"/"+e.Name)
	}
	if want := "root create user/alice,root create user/bob,carol update user/alice,carol delete user/bob"; strings.Join(got, ",") != want {
		t.Fatalf("log: %v\nwant %s", got, want)
	}
	upd := entries[2]
	if !strings.Contains(string(upd.Before), "alice@example.com") || !strings.Contains(string(upd.After), "alice@corp.example.com") {
		t.Fatalf("update before/after: %s / %s", upd.Before, upd.After)
	}
	if byCarol, _ := audit.List(ctx, st, audit.Filter{Actor: "carol"}); len(byCarol) != 2 {
		t.Fatalf("entries by carol: %d", len(byCarol))
	}
	if n, err := audit.Verify(ctx, st); err != nil || n != 4 {
		t.Fatalf("verify: %d %v", n, err)
	}
}

func TestTamperingIsDetected(t *testing.T) {
	for _, c := range []struct {
		name, want string
		tamper     func(context.Context, store.Store) error
	}{
		{"edited", "entry 3 was edited", func(ctx context.Context, st store.Store) error {
			o, _ := st.Get(ctx, resource.KindAuditEntry, audit.EntryName(3))
			o.Spec.(*resource.AuditEntrySpec).Actor = "root"
			return st.Update(ctx, o)
		}},
		{"removed from the middle", "entry 2 is missing", func(ctx context.Context, st store.Store) error {
			_, err := st.Delete(ctx, resource.KindAuditEntry, audit.EntryName(2), 0)
			return err
		}},
		{"cut from the end", "entries were removed from the end", func(ctx context.Context, st store.Store) error {
			_, err := st.Delete(ctx, resource.KindAuditEntry, audit.EntryName(4), 0)
			return err
		}},
		{"rehashed but unlinked", "does not follow", func(ctx context.Context, st store.Store) error {
			o, _ := st.Get(ctx, resource.KindAuditEntry, audit.EntryName(3))
			s := o.Spec.(*resource.AuditEntrySpec)
			s.Prev = strings.Repeat("0", 64)
			return st.Update(ctx, o)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, st := setup(t)
			if err := c.tamper(ctx, st); err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(ctx, st); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("verify after tampering: %v, want %q", err, c.want)
			}
		})
	}
}

// A reader follows the log with Last and After: pages in order, the head record never among them.
func TestFollowTheLog(t *testing.T) {
	ctx, st := setup(t)
	last, err := audit.Last(ctx, st)
	if err != nil || last != 4 {
		t.Fatalf("last = %d, %v; want 4", last, err)
	}
	var seqs []int64
	for seq := int64(1); ; {
		page, err := audit.After(ctx, st, seq, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		seq = page[len(page)-1].Seq
	}
	if fmt.Sprint(seqs) != "[2 3 4]" {
		t.Fatalf("entries after 1: %v", seqs)
	}
	empty, _ := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	defer empty.Close()
	if last, err := audit.Last(ctx, empty); err != nil || last != 0 {
		t.Fatalf("empty log: last = %d, %v", last, err)
	}
}
