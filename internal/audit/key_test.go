package audit_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

var testKey = bytes.Repeat([]byte{7}, audit.KeySize)

// keyedSetup is a keyed log as a server keeps it: Init at start, then changes made through the
// keyed store (entry 1 is the seal, 2-5 the changes).
func keyedSetup(t *testing.T) (context.Context, store.Store, store.Store) {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	st := audit.Keyed(raw, testKey)
	if err := audit.Init(ctx, st); err != nil {
		t.Fatal(err)
	}
	writeUsers(t, ctx, st, "alice", "bob", "carol", "dan")
	return ctx, st, raw
}

func writeUsers(t *testing.T, ctx context.Context, st store.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		u := resource.New(resource.KindUser, n)
		if _, err := manage.New(st).Create(ctx, manage.Actor{User: "root", Admin: true}, []*resource.Object{u}); err != nil {
			t.Fatal(err)
		}
	}
}

func entry(t *testing.T, ctx context.Context, st store.Store, seq int64) (*resource.Object, *resource.AuditEntrySpec) {
	t.Helper()
	o, err := st.Get(ctx, resource.KindAuditEntry, audit.EntryName(seq))
	if err != nil {
		t.Fatal(err)
	}
	return o, o.Spec.(*resource.AuditEntrySpec)
}

// moveHead points the head record at entry seq, as someone with the database can.
func moveHead(t *testing.T, ctx context.Context, st store.Store, seq int64, hash string) {
	t.Helper()
	h, err := st.Get(ctx, resource.KindAuditEntry, "head")
	if err != nil {
		t.Fatal(err)
	}
	s := h.Spec.(*resource.AuditEntrySpec)
	s.Seq, s.Hash = seq, hash
	if err := st.Update(ctx, h); err != nil {
		t.Fatal(err)
	}
}

func canonical(s *resource.AuditEntrySpec) []byte {
	c := *s
	c.Hash = ""
	b, _ := json.Marshal(&c)
	return b
}

// rebuild rewrites entries from..to (and the head) so that the chain links again, as someone with
// the database but without the key can: edit first, then rehash each entry with SHA-256 (marked
// unkeyed) or, with guess, an HMAC under a key they guessed.
func rebuild(t *testing.T, ctx context.Context, st store.Store, from, to int64, guess []byte, edit func(*resource.AuditEntrySpec)) {
	t.Helper()
	prev := ""
	if from > 1 {
		_, p := entry(t, ctx, st, from-1)
		prev = p.Hash
	}
	for seq := from; seq <= to; seq++ {
		o, s := entry(t, ctx, st, seq)
		if seq == from {
			edit(s)
		}
		s.Prev = prev
		if guess == nil {
			s.Alg = ""
			sum := sha256.Sum256(canonical(s))
			s.Hash = hex.EncodeToString(sum[:])
		} else {
			m := hmac.New(sha256.New, guess)
			m.Write(canonical(s))
			s.Hash = hex.EncodeToString(m.Sum(nil))
		}
		if err := st.Update(ctx, o); err != nil {
			t.Fatal(err)
		}
		prev = s.Hash
	}
	moveHead(t, ctx, st, to, prev)
}

func TestKeyedLogVerifies(t *testing.T) {
	ctx, st, raw := keyedSetup(t)
	if n, err := audit.Verify(ctx, st); err != nil || n != 5 {
		t.Fatalf("verify: %d %v", n, err)
	}
	entries, _ := audit.List(ctx, st, audit.Filter{})
	if entries[0].Action != audit.KeyedAction || entries[0].Actor != "warden" {
		t.Fatalf("first entry: %+v, want the seal", entries[0])
	}
	for _, e := range entries {
		if e.Alg != audit.AlgHMAC {
			t.Fatalf("entry %d alg %q", e.Seq, e.Alg)
		}
	}
	// Without the key, keyed entries cannot be checked, and nothing is appended to them.
	if _, err := audit.Verify(ctx, raw); err == nil || !strings.Contains(err.Error(), "needs the audit key") {
		t.Fatalf("verify without the key: %v", err)
	}
	if _, err := manage.New(raw).Create(ctx, manage.Actor{User: "root"}, []*resource.Object{resource.New(resource.KindUser, "eve")}); err == nil || !strings.Contains(err.Error(), "carries no audit key") {
		t.Fatalf("a write through a store without the key: %v", err)
	}
	// Init again with the key: nothing to seal. With another key: refused.
	if err := audit.Init(ctx, st); err != nil {
		t.Fatal(err)
	}
	if last, _ := audit.Last(ctx, st); last != 5 {
		t.Fatalf("a second Init appended: last %d", last)
	}
	if err := audit.Init(ctx, audit.Keyed(raw, bytes.Repeat([]byte{8}, audit.KeySize))); !errors.Is(err, audit.ErrWrongKey) || !strings.Contains(err.Error(), "audit.key_file") {
		t.Fatalf("Init with another key: %v", err)
	}
}

// Cutting the newest entries and moving the head back leaves a chain that verifies on its own; the
// exported head finds it, and also when the log has grown past the cut again.
func TestAuditTruncationDetected(t *testing.T) {
	ctx, st, raw := keyedSetup(t)
	exported, err := audit.ReadHead(ctx, st)
	if err != nil || exported.Seq != 5 {
		t.Fatalf("head: %v %v", exported, err)
	}
	parsed, err := audit.ParseHead(exported.String())
	if err != nil || parsed.Seq != exported.Seq || parsed.Hash != exported.Hash {
		t.Fatalf("ParseHead(%s) = %v %v", exported, parsed, err)
	}
	if _, err := audit.Verify(ctx, st, audit.ExpectHead(exported)); err != nil {
		t.Fatalf("verify against the head just exported: %v", err)
	}
	// Entries 4 and 5 are cut and the head moved back to 3.
	for _, seq := range []int64{5, 4} {
		if _, err := raw.Delete(ctx, resource.KindAuditEntry, audit.EntryName(seq), 0); err != nil {
			t.Fatal(err)
		}
	}
	_, third := entry(t, ctx, raw, 3)
	moveHead(t, ctx, raw, 3, third.Hash)
	if n, err := audit.Verify(ctx, st); err != nil || n != 3 {
		t.Fatalf("the cut log on its own: %d %v (a consistent chain)", n, err)
	}
	if _, err := audit.Verify(ctx, st, audit.ExpectHead(exported)); err == nil || !strings.Contains(err.Error(), "no longer holds entry 5") {
		t.Fatalf("verify against the exported head after the cut: %v", err)
	}
	// The server goes on writing: entries 4, 5 and 6 exist again, but 5 is not the one exported.
	writeUsers(t, ctx, st, "erin", "frank", "gus")
	if _, err := audit.Verify(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, st, audit.ExpectHead(exported)); err == nil || !strings.Contains(err.Error(), "not "+exported.Hash+" as exported") {
		t.Fatalf("verify against the exported head after the cut and new entries: %v", err)
	}
	for _, bad := range []string{"", "5", "0:" + exported.Hash, "5:" + exported.Hash[:10], "x:" + exported.Hash, "5:" + strings.Repeat("g", 64)} {
		if _, err := audit.ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
}

// Someone who can write the database but has not the key cannot rebuild an edited chain: not as
// unkeyed SHA-256 entries (from the edit on, or the whole log), nor with a key of their own.
func TestRebuiltChainWithoutKeyDetected(t *testing.T) {
	for _, c := range []struct {
		name     string
		from     int64
		guess    []byte
		wantText string
	}{
		{"rehashed unkeyed from the edit", 3, nil, "entry 3 is not keyed but follows keyed entries"},
		{"the whole log rehashed unkeyed", 1, nil, "which is not keyed"},
		{"rehashed with another key", 3, bytes.Repeat([]byte{9}, audit.KeySize), "entry 3 was edited"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, st, raw := keyedSetup(t)
			rebuild(t, ctx, raw, c.from, 5, c.guess, func(s *resource.AuditEntrySpec) { s.Actor = "someone-else" })
			if c.from == 1 && c.guess == nil {
				// Without the key, a log rebuilt whole as unkeyed looks whole: the key is what finds it.
				if n, err := audit.Verify(ctx, raw); err != nil || n != 5 {
					t.Fatalf("the rebuilt log without the key: %d %v", n, err)
				}
			}
			if _, err := audit.Verify(ctx, st); err == nil || !strings.Contains(err.Error(), c.wantText) {
				t.Fatalf("verify with the key after the rebuild: %v, want %q", err, c.wantText)
			}
		})
	}
}

// A log written before keys existed goes on keyed: its entries stay checkable as SHA-256, the seal
// Init writes pins them (a rebuild of the old part breaks the link into the keyed part), and the
// log verifies with the key.
func TestUnkeyedLogContinuesKeyed(t *testing.T) {
	ctx, raw := setup(t) // 4 unkeyed entries, written without a key
	if n, err := audit.Verify(ctx, raw); err != nil || n != 4 {
		t.Fatalf("the unkeyed log: %d %v", n, err)
	}
	st := audit.Keyed(raw, testKey)
	if err := audit.Init(ctx, st); err != nil {
		t.Fatal(err)
	}
	writeUsers(t, ctx, st, "erin")
	if n, err := audit.Verify(ctx, st); err != nil || n != 6 {
		t.Fatalf("the log continued keyed: %d %v", n, err)
	}
	entries, _ := audit.List(ctx, st, audit.Filter{})
	var algs []string
	for _, e := range entries {
		algs = append(algs, fmt.Sprintf("%d:%s:%q", e.Seq, e.Action, e.Alg))
	}
	if got := strings.Join(algs, " "); got != `1:create:"" 2:create:"" 3:update:"" 4:delete:"" 5:audit.keyed:"hmac-sha256" 6:create:"hmac-sha256"` {
		t.Fatalf("entries: %s", got)
	}
	// The unkeyed part rebuilt after an edit no longer links to the seal.
	rebuild(t, ctx, raw, 2, 4, nil, func(s *resource.AuditEntrySpec) { s.Actor = "someone-else" })
	moveHead(t, ctx, raw, 6, entries[5].Hash)
	if _, err := audit.Verify(ctx, st); err == nil || !strings.Contains(err.Error(), "entry 5 does not follow entry 4") {
		t.Fatalf("verify after rebuilding the unkeyed part: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "audit.key")
	if _, _, err := audit.LoadKey(path, false); err == nil {
		t.Fatal("a missing key file was accepted without create")
	}
	key, created, err := audit.LoadKey(path, true)
	if err != nil || !created || len(key) != audit.KeySize {
		t.Fatalf("first load: %d bytes, created %v, %v", len(key), created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode().Perm(), err)
	}
	again, created, err := audit.LoadKey(path, true)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second load: created %v, same %v, %v", created, bytes.Equal(again, key), err)
	}
	os.WriteFile(path, []byte("not a key\n"), 0o600)
	if _, _, err := audit.LoadKey(path, true); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("a bad key file: %v", err)
	}
}
