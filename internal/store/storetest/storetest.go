// Package storetest is the conformance suite every store backend must pass, run by each backend's
// tests against a real database: the same behaviour on SQLite and PostgreSQL, or the backend is wrong.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Opener opens a handle on one database; calling it again after Close reopens the same data, as a
// restarted process would.
type Opener func() store.Store

// Factory makes a fresh, empty database for one test and returns its Opener.
type Factory func(t testing.TB) Opener

// Run runs the whole suite.
func Run(t *testing.T, newDB Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"CRUD", testCRUD},
		{"NotFound", testNotFound},
		{"AlreadyExists", testAlreadyExists},
		{"CreateManyAllOrNothing", testCreateManyAllOrNothing},
		{"UpdateRace", testUpdateRace},
		{"TxnRollback", testTxnRollback},
		{"TxnReadsOwnWrites", testTxnReadsOwnWrites},
		{"ListFiltersAndPages", testListFilters},
		{"WatchOrder", testWatchOrder},
		{"WatchConcurrentWriters", testWatchConcurrentWriters},
		{"WatchResumeAfterRestart", testWatchResume},
		{"WatchCompacted", testWatchCompacted},
		{"WatchSeesAnotherHandle", testWatchAnotherHandle},
		{"WatchFallsBehindCompaction", testWatchBehindCompaction},
		{"CompactOnlyRises", testCompactOnlyRises},
		{"FailedWriteInTxnChangesNothing", testFailedWriteInTxn},
		{"LeaseHasOneHolder", testLease},
		{"ListTenThousandMembers", testTenThousandMembers},
		{"ListHundredThousandUsers", testHundredThousandUsers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open := newDB(t)
			tc.fn(t, open)
		})
	}
}

func openT(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open()
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func user(name string, roles ...string) *resource.Object {
	o := resource.New(resource.KindUser, name)
	o.Spec.(*resource.UserSpec).Email = name + "@example.com"
	o.Spec.(*resource.UserSpec).Roles = roles
	return o
}

func member(list, who string) *resource.Object {
	o := resource.New(resource.KindAccessListMember, resource.MemberName(list, who, resource.MemberUser))
	o.Spec = &resource.AccessListMemberSpec{List: list, Member: who}
	return o
}

func request(name, user, state string) *resource.Object {
	o := resource.New(resource.KindAccessRequest, name)
	o.Spec = &resource.AccessRequestSpec{User: user, Roles: []string{"admin"}, State: state}
	return o
}

func names(objs []*resource.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Metadata.Name
	}
	return out
}

func mustErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func testCRUD(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	before, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := user("alice", "dev")
	u.Spec.(*resource.UserSpec).Traits = map[string][]string{"team": {"platform"}}
	if err := s.Create(ctx, u); err != nil {
		t.Fatalf("create: %v", err)
	}
	if u.Metadata.Revision <= before {
		t.Fatalf("create set revision %d, want > %d", u.Metadata.Revision, before)
	}
	if u.Metadata.CreatedAt.IsZero() || !u.Metadata.CreatedAt.Equal(u.Metadata.UpdatedAt) {
		t.Fatalf("create set created_at %v updated_at %v", u.Metadata.CreatedAt, u.Metadata.UpdatedAt)
	}
	got, err := s.Get(ctx, resource.KindUser, "alice")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	gs := got.Spec.(*resource.UserSpec)
	if got.Metadata.Revision != u.Metadata.Revision || gs.Email != "alice@example.com" || gs.Traits["team"][0] != "platform" || gs.Roles[0] != "dev" {
		t.Fatalf("get returned %+v / %+v", got.Metadata, gs)
	}
	if !got.Metadata.CreatedAt.Equal(u.Metadata.CreatedAt) {
		t.Fatalf("created_at %v read back as %v", u.Metadata.CreatedAt, got.Metadata.CreatedAt)
	}
	if rev, _ := s.Revision(ctx); rev != u.Metadata.Revision {
		t.Fatalf("store revision %d after create at %d", rev, u.Metadata.Revision)
	}

	got.Spec.(*resource.UserSpec).DisplayName = "Alice A."
	created := got.Metadata.CreatedAt
	got.Metadata.CreatedAt = time.Unix(0, 0) // the store keeps the original, whatever the caller sends
	readRev := got.Metadata.Revision
	if err := s.Update(ctx, got); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got.Metadata.Revision <= readRev {
		t.Fatalf("update set revision %d, want > %d", got.Metadata.Revision, readRev)
	}
	again, err := s.Get(ctx, resource.KindUser, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if again.Spec.(*resource.UserSpec).DisplayName != "Alice A." || again.Metadata.Revision != got.Metadata.Revision {
		t.Fatalf("after update got %+v", again)
	}
	if !again.Metadata.CreatedAt.Equal(created) || !again.Metadata.UpdatedAt.After(created) && !again.Metadata.UpdatedAt.Equal(created) {
		t.Fatalf("update changed created_at to %v (was %v), updated_at %v", again.Metadata.CreatedAt, created, again.Metadata.UpdatedAt)
	}

	// A stale revision loses.
	stale := again.Clone()
	stale.Metadata.Revision = readRev
	mustErr(t, s.Update(ctx, stale), store.ErrConflict, "update with a stale revision")
	_, err = s.Delete(ctx, resource.KindUser, "alice", readRev)
	mustErr(t, err, store.ErrConflict, "delete with a stale revision")

	old, err := s.Delete(ctx, resource.KindUser, "alice", again.Metadata.Revision)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if old.Spec.(*resource.UserSpec).DisplayName != "Alice A." {
		t.Fatalf("delete returned %+v", old)
	}
	_, err = s.Get(ctx, resource.KindUser, "alice")
	mustErr(t, err, store.ErrNotFound, "get after delete")
	// The name is free again.
	if err := s.Create(ctx, user("alice")); err != nil {
		t.Fatalf("re-create after delete: %v", err)
	}
}

func testNotFound(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	_, err := s.Get(ctx, resource.KindRole, "nope")
	mustErr(t, err, store.ErrNotFound, "get")
	u := user("ghost")
	u.Metadata.Revision = 1
	mustErr(t, s.Update(ctx, u), store.ErrNotFound, "update")
	_, err = s.Delete(ctx, resource.KindUser, "ghost", 0)
	mustErr(t, err, store.ErrNotFound, "delete")
	// Same name, other kind: kinds are separate name spaces.
	if err := s.Create(ctx, user("same")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, resource.KindRole, "same")
	mustErr(t, err, store.ErrNotFound, "get of a name that exists under another kind")
}

func testAlreadyExists(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("bob")); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	dup := user("bob")
	dup.Spec.(*resource.UserSpec).Email = "other@example.com"
	mustErr(t, s.Create(ctx, dup), store.ErrAlreadyExists, "second create")
	got, _ := s.Get(ctx, resource.KindUser, "bob")
	if got.Spec.(*resource.UserSpec).Email != "bob@example.com" {
		t.Fatalf("failed create overwrote the user: %+v", got.Spec)
	}
	if after, _ := s.Revision(ctx); after != rev {
		t.Fatalf("failed create moved the revision from %d to %d", rev, after)
	}
}

func testCreateManyAllOrNothing(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("u3")); err != nil {
		t.Fatal(err)
	}
	batch := []*resource.Object{user("u1"), user("u2"), user("u3"), user("u4")}
	mustErr(t, s.CreateMany(ctx, batch), store.ErrAlreadyExists, "batch naming an existing user")
	twice := []*resource.Object{user("u5"), user("u6"), user("u5")}
	mustErr(t, s.CreateMany(ctx, twice), store.ErrAlreadyExists, "batch naming a user twice")
	all, err := s.List(ctx, resource.KindUser, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all); len(got) != 1 || got[0] != "u3" {
		t.Fatalf("after failed batches the store holds %v, want [u3]", got)
	}
	ok := []*resource.Object{user("u1"), user("u2")}
	if err := s.CreateMany(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if ok[1].Metadata.Revision != ok[0].Metadata.Revision+1 {
		t.Fatalf("batch revisions %d, %d are not consecutive", ok[0].Metadata.Revision, ok[1].Metadata.Revision)
	}
}

func testUpdateRace(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("carol")); err != nil {
		t.Fatal(err)
	}
	const rounds, writers = 10, 6
	for round := 0; round < rounds; round++ {
		base, err := s.Get(ctx, resource.KindUser, "carol")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, writers)
		start := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				mine := base.Clone()
				mine.Spec.(*resource.UserSpec).DisplayName = fmt.Sprintf("writer %d", w)
				<-start
				results[w] = s.Update(ctx, mine)
			}(w)
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range results {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
				}
				winner = w
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want ErrConflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		got, _ := s.Get(ctx, resource.KindUser, "carol")
		if want := fmt.Sprintf("writer %d", winner); got.Spec.(*resource.UserSpec).DisplayName != want {
			t.Fatalf("round %d: stored %q, winner wrote %q", round, got.Spec.(*resource.UserSpec).DisplayName, want)
		}
	}
}

var errAbort = errors.New("abort")

func testTxnRollback(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("keep")); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	err := s.Txn(ctx, func(tx store.Tx) error {
		if err := tx.Create(ctx, user("temp")); err != nil {
			return err
		}
		if _, err := tx.Delete(ctx, resource.KindUser, "keep", 0); err != nil {
			return err
		}
		return errAbort
	})
	mustErr(t, err, errAbort, "txn")
	if _, err := s.Get(ctx, resource.KindUser, "keep"); err != nil {
		t.Fatalf("rolled-back delete took effect: %v", err)
	}
	_, err = s.Get(ctx, resource.KindUser, "temp")
	mustErr(t, err, store.ErrNotFound, "rolled-back create")
	if after, _ := s.Revision(ctx); after != rev {
		t.Fatalf("rolled-back txn moved the revision from %d to %d", rev, after)
	}
}

func testTxnReadsOwnWrites(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	err := s.Txn(ctx, func(tx store.Tx) error {
		if err := tx.CreateMany(ctx, []*resource.Object{member("ops", "a"), member("ops", "b")}); err != nil {
			return err
		}
		got, err := tx.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, "ops")})
		if err != nil {
			return err
		}
		if len(got) != 2 {
			return fmt.Errorf("txn sees %v, want its two members", names(got))
		}
		_, err = tx.Get(ctx, resource.KindAccessListMember, "ops/a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testListFilters(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	objs := []*resource.Object{
		member("ops", "zed"), member("ops", "amy"), member("dev", "amy"), member("dev", "bo"),
		request("r1", "amy", resource.StatePending), request("r2", "amy", resource.StateApproved),
		request("r3", "bo", resource.StatePending),
	}
	if err := s.CreateMany(ctx, objs); err != nil {
		t.Fatal(err)
	}
	list := func(k resource.Kind, opts store.ListOptions) []string {
		t.Helper()
		got, err := s.List(ctx, k, opts)
		if err != nil {
			t.Fatal(err)
		}
		return names(got)
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	eq(list(resource.KindAccessListMember, store.ListOptions{}), "dev/amy", "dev/bo", "ops/amy", "ops/zed")
	eq(list(resource.KindAccessListMember, store.ListOptions{Filters: store.Filter("list", "ops")}), "ops/amy", "ops/zed")
	eq(list(resource.KindAccessListMember, store.ListOptions{Filters: store.Filter("member", "amy")}), "dev/amy", "ops/amy")
	eq(list(resource.KindAccessListMember, store.ListOptions{Filters: store.Filter("member", "amy", "list", "dev")}), "dev/amy")
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("user", "amy")}), "r1", "r2")
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("state", resource.StatePending)}), "r1", "r3")
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("user", "amy", "state", resource.StatePending)}), "r1")
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("user", "nobody")}))
	// Pages.
	eq(list(resource.KindAccessListMember, store.ListOptions{Limit: 2}), "dev/amy", "dev/bo")
	eq(list(resource.KindAccessListMember, store.ListOptions{Limit: 2, After: "dev/bo"}), "ops/amy", "ops/zed")
	eq(list(resource.KindAccessListMember, store.ListOptions{Limit: 2, After: "ops/zed"}))
	// Pages in reverse (newest first, for names that rise with time).
	eq(list(resource.KindAccessListMember, store.ListOptions{Limit: 3, Reverse: true}), "ops/zed", "ops/amy", "dev/bo")
	eq(list(resource.KindAccessListMember, store.ListOptions{Limit: 3, Reverse: true, Before: "dev/bo"}), "dev/amy")
	eq(list(resource.KindAccessListMember, store.ListOptions{Reverse: true, Before: "ops/zed", Filters: store.Filter("member", "amy")}), "ops/amy", "dev/amy")
	eq(list(resource.KindAccessListMember, store.ListOptions{After: "dev/amy", Before: "ops/zed"}), "dev/bo", "ops/amy")
	// An update moves an object between filters; a delete takes it out.
	r1, _ := s.Get(ctx, resource.KindAccessRequest, "r1")
	r1.Spec.(*resource.AccessRequestSpec).State = resource.StateDenied
	if err := s.Update(ctx, r1); err != nil {
		t.Fatal(err)
	}
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("state", resource.StatePending)}), "r3")
	eq(list(resource.KindAccessRequest, store.ListOptions{Filters: store.Filter("state", resource.StateDenied)}), "r1")
	if _, err := s.Delete(ctx, resource.KindAccessListMember, "ops/amy", 0); err != nil {
		t.Fatal(err)
	}
	eq(list(resource.KindAccessListMember, store.ListOptions{Filters: store.Filter("member", "amy")}), "dev/amy")
	// References are indexed for finding referrers.
	if err := s.Create(ctx, user("eve", "admins", "dev")); err != nil {
		t.Fatal(err)
	}
	eq(list(resource.KindUser, store.ListOptions{Filters: store.Filter(resource.IndexRef, "role:dev")}), "eve")
}

// collect reads n events from w or fails.
func collect(t *testing.T, w *store.Watch, n int) []store.Event {
	t.Helper()
	var out []store.Event
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				t.Fatalf("watch ended after %d of %d events: %v", len(out), n, w.Err())
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("watch delivered %d of %d events in 30s", len(out), n)
		}
	}
	return out
}

func testWatchOrder(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("before")); err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Revision(ctx)
	wctx, cancel := context.WithCancel(ctx)
	w := s.Watch(wctx, rev+1)
	// Writes after the watch started: it must see them, in order.
	u := user("dave")
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Spec.(*resource.UserSpec).DisplayName = "Dave"
	if err := s.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, resource.KindUser, "dave", 0); err != nil {
		t.Fatal(err)
	}
	evs := collect(t, w, 3)
	want := []store.EventType{store.Put, store.Put, store.Delete}
	for i, ev := range evs {
		if ev.Type != want[i] || ev.Object.Metadata.Name != "dave" || ev.Object.Kind != resource.KindUser {
			t.Fatalf("event %d: %s %s, want %s user dave", i, ev.Type, ev.Object, want[i])
		}
		if i > 0 && ev.Revision <= evs[i-1].Revision {
			t.Fatalf("revisions out of order: %d after %d", ev.Revision, evs[i-1].Revision)
		}
	}
	if evs[0].Revision != rev+1 {
		t.Fatalf("first event at revision %d, want %d", evs[0].Revision, rev+1)
	}
	if evs[1].Object.Spec.(*resource.UserSpec).DisplayName != "Dave" {
		t.Fatalf("update event carries %+v", evs[1].Object.Spec)
	}
	cancel()
	for range w.Events {
	}
	if err := w.Err(); err != nil {
		t.Fatalf("watch ended with %v after its context was cancelled", err)
	}
	// From the beginning: every change, the first write included.
	all := s.Watch(ctx, 0)
	evs = collect(t, all, 4)
	if evs[0].Object.Metadata.Name != "before" {
		t.Fatalf("watch from 0 starts with %s", evs[0].Object)
	}
}

func testWatchConcurrentWriters(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	w := s.Watch(ctx, 1)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := s.Create(ctx, user(fmt.Sprintf("w%d-%02d", g, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	evs := collect(t, w, writers*each)
	seen := map[string]bool{}
	for i, ev := range evs {
		if i > 0 && ev.Revision <= evs[i-1].Revision {
			t.Fatalf("revision %d after %d", ev.Revision, evs[i-1].Revision)
		}
		if seen[ev.Object.Metadata.Name] {
			t.Fatalf("%s delivered twice", ev.Object)
		}
		seen[ev.Object.Metadata.Name] = true
	}
}

func testWatchResume(t *testing.T, open Opener) {
	s := open()
	ctx := ctxT(t)
	for i := 0; i < 10; i++ {
		if err := s.Create(ctx, user(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	w := s.Watch(wctx, 1)
	first := collect(t, w, 4)
	cancel()
	for range w.Events {
	}
	s.Close()

	// A restarted process resumes after the last event it handled.
	s = openT(t, open)
	for i := 10; i < 15; i++ {
		if err := s.Create(ctx, user(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	w = s.Watch(ctx, first[3].Revision+1)
	rest := collect(t, w, 11)
	for i, ev := range rest {
		if want := fmt.Sprintf("r%02d", i+4); ev.Object.Metadata.Name != want {
			t.Fatalf("resumed event %d is %s, want user %q", i, ev.Object, want)
		}
	}
}

func testWatchCompacted(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	for i := 0; i < 5; i++ {
		if err := s.Create(ctx, user(fmt.Sprintf("c%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	w := s.Watch(ctx, rev-2)
	for range w.Events {
		t.Fatal("a watch from a compacted revision delivered an event")
	}
	mustErr(t, w.Err(), store.ErrCompacted, "watch from a compacted revision")
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w = s.Watch(wctx, rev)
	if ev := collect(t, w, 1)[0]; ev.Revision != rev {
		t.Fatalf("watch from the compaction point got revision %d, want %d", ev.Revision, rev)
	}
}

func testTenThousandMembers(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	const n = 10_000
	batch := make([]*resource.Object, 0, n+10)
	for i := 0; i < n; i++ {
		batch = append(batch, member("big", fmt.Sprintf("user%05d", i)))
	}
	for i := 0; i < 10; i++ { // other lists, to be filtered out
		batch = append(batch, member(fmt.Sprintf("small%d", i), "user00042"))
	}
	if err := s.CreateMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, "big")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("list big has %d members, want %d", len(got), n)
	}
	if !sort.StringsAreSorted(names(got)) {
		t.Fatal("members not in name order")
	}
	mine, err := s.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, "user00042")})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 11 {
		t.Fatalf("user00042 is in %d lists, want 11", len(mine))
	}
}

func testHundredThousandUsers(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	const n, chunk = 100_000, 10_000
	for lo := 0; lo < n; lo += chunk {
		batch := make([]*resource.Object, 0, chunk)
		for i := lo; i < lo+chunk; i++ {
			batch = append(batch, user(fmt.Sprintf("user%06d", i)))
		}
		if err := s.CreateMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.List(ctx, resource.KindUser, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("listed %d users, want %d", len(all), n)
	}
	for i, o := range all {
		if want := fmt.Sprintf("user%06d", i); o.Metadata.Name != want || o.Spec.(*resource.UserSpec).Email != want+"@example.com" {
			t.Fatalf("user %d is %s (%+v)", i, o, o.Spec)
		}
	}
	// The same by pages.
	count, after := 0, ""
	for {
		page, err := s.List(ctx, resource.KindUser, store.ListOptions{After: after, Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		count += len(page)
		after = page[len(page)-1].Metadata.Name
	}
	if count != n {
		t.Fatalf("paged through %d users, want %d", count, n)
	}
}

// testWatchAnotherHandle: a write through one handle (another replica, or a restarted process) reaches
// a watch on another handle of the same database.
func testWatchAnotherHandle(t *testing.T, open Opener) {
	a, b, ctx := openT(t, open), openT(t, open), ctxT(t)
	rev, err := a.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := a.Watch(wctx, rev+1)
	if err := b.Create(ctx, user("from-b")); err != nil {
		t.Fatal(err)
	}
	if ev := collect(t, w, 1)[0]; ev.Object.Metadata.Name != "from-b" {
		t.Fatalf("watch on handle a got %s", ev.Object)
	}
	if got, err := a.Get(ctx, resource.KindUser, "from-b"); err != nil || got.Metadata.Revision != rev+1 {
		t.Fatalf("handle a reads %v, %v", got, err)
	}
}

// testWatchBehindCompaction: a watch that has not yet read what gets compacted ends with ErrCompacted
// rather than skipping events.
func testWatchBehindCompaction(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	batch := make([]*resource.Object, 1300)
	for i := range batch {
		batch[i] = user(fmt.Sprintf("b%04d", i))
	}
	if err := s.CreateMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	first := batch[0].Metadata.Revision
	w := s.Watch(ctx, first)
	if err := s.Compact(ctx, first+1200); err != nil {
		t.Fatal(err)
	}
	next := first
	for ev := range w.Events {
		if ev.Revision != next {
			t.Fatalf("watch skipped from revision %d to %d", next, ev.Revision)
		}
		next++
	}
	mustErr(t, w.Err(), store.ErrCompacted, "watch overtaken by compaction")
	if next >= first+1200 {
		t.Fatalf("watch delivered up to %d, past the compaction point %d", next, first+1200)
	}
}

func testCompactOnlyRises(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	for i := 0; i < 10; i++ {
		if err := s.Create(ctx, user(fmt.Sprintf("c%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev-2); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, rev-6); err != nil { // lower: no effect
		t.Fatal(err)
	}
	w := s.Watch(ctx, rev-4)
	for range w.Events {
	}
	mustErr(t, w.Err(), store.ErrCompacted, "watch below the mark after a lower compaction")
	// Compacting far past the present stops at the next revision: new writes are still watchable.
	if err := s.Compact(ctx, rev+1_000_000); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w = s.Watch(wctx, rev+1)
	if err := s.Create(ctx, user("after")); err != nil {
		t.Fatal(err)
	}
	if ev := collect(t, w, 1)[0]; ev.Object.Metadata.Name != "after" {
		t.Fatalf("got %s", ev.Object)
	}
}

// testFailedWriteInTxn: a write refused for a conflict changes nothing, even if the transaction goes
// on and commits; revisions stay gapless.
func testFailedWriteInTxn(t *testing.T, open Opener) {
	s, ctx := openT(t, open), ctxT(t)
	if err := s.Create(ctx, user("old")); err != nil {
		t.Fatal(err)
	}
	start, _ := s.Revision(ctx)
	err := s.Txn(ctx, func(tx store.Tx) error {
		err := tx.CreateMany(ctx, []*resource.Object{user("new1"), user("old")})
		mustErr(t, err, store.ErrAlreadyExists, "batch with an existing name")
		var oe *store.ObjectError
		if !errors.As(err, &oe) || oe.Name != "old" {
			t.Errorf("error %v does not name the existing object", err)
		}
		stale := user("old")
		stale.Metadata.Revision = start + 100
		mustErr(t, tx.Update(ctx, stale), store.ErrConflict, "stale update")
		_, err = tx.Delete(ctx, resource.KindUser, "ghost", 0)
		mustErr(t, err, store.ErrNotFound, "delete of a missing object")
		return tx.Create(ctx, user("kept"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, resource.KindUser, "new1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("new1 of the refused batch was kept: %v", err)
	}
	kept, err := s.Get(ctx, resource.KindUser, "kept")
	if err != nil || kept.Metadata.Revision != start+1 {
		t.Fatalf("kept: %v at revision %v, want %d", err, kept, start+1)
	}
	w := s.Watch(ctx, 1)
	evs := collect(t, w, int(start+1))
	for i, ev := range evs {
		if ev.Revision != int64(i+1) {
			t.Fatalf("event %d has revision %d: the feed has gaps", i, ev.Revision)
		}
	}
}

// testLease: of two replicas, one holds the lease; it renews it; the other takes it once it expires
// or is released.
func testLease(t *testing.T, open Opener) {
	a, b, ctx := openT(t, open), openT(t, open), ctxT(t)
	la, ok := a.(store.Leaser)
	if !ok {
		t.Fatal("the store does not implement store.Leaser")
	}
	lb := b.(store.Leaser)
	got, err := la.AcquireLease(ctx, "sync", "a", time.Hour)
	if err != nil || !got {
		t.Fatalf("a acquiring a free lease: %v %v", got, err)
	}
	if got, err := lb.AcquireLease(ctx, "sync", "b", time.Hour); err != nil || got {
		t.Fatalf("b acquiring a held lease: %v %v", got, err)
	}
	if got, err := la.AcquireLease(ctx, "sync", "a", 50*time.Millisecond); err != nil || !got {
		t.Fatalf("a renewing: %v %v", got, err)
	}
	time.Sleep(60 * time.Millisecond)
	if got, err := lb.AcquireLease(ctx, "sync", "b", time.Hour); err != nil || !got {
		t.Fatalf("b taking an expired lease: %v %v", got, err)
	}
	if got, _ := la.AcquireLease(ctx, "sync", "a", time.Hour); got {
		t.Fatal("a took the lease back from b")
	}
	if err := lb.ReleaseLease(ctx, "sync", "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := la.AcquireLease(ctx, "sync", "a", time.Hour); err != nil || !got {
		t.Fatalf("a after b released: %v %v", got, err)
	}
	// Races: of many replicas trying at once, exactly one wins.
	wins := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			got, err := lb.AcquireLease(ctx, "race", fmt.Sprintf("r%d", i), time.Hour)
			if err != nil {
				t.Error(err)
			}
			wins <- got
		}(i)
	}
	n := 0
	for i := 0; i < 8; i++ {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d replicas won the race, want 1", n)
	}
}
