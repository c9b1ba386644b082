// Package audit keeps warden's audit log: every change, with who made it (and with which API
// token), when, and the resource before and after, appended in the same transaction as the change
// itself, so that no change is stored without its entry. Entries form a hash chain (each hash
// covers the entry and the previous hash) and a head record holds the last sequence number and
// hash, so Verify finds an entry edited, removed from the middle or cut from the end.
//
// Two anchors outside the database keep someone who can write the database from rewriting it:
//
//   - The audit key (32 bytes, audit.key_file, by default <data-dir>/audit.key, made 0600 at the
//     first start). Entries are keyed: their hash is an HMAC-SHA256 of the entry with that key
//     (alg "hmac-sha256"), so a chain edited and rebuilt without the key does not verify. Logs
//     written before keys existed continue: their entries (no alg) are SHA-256 as before and stay
//     checkable, and at its first start with a key the server seals them with a keyed entry (action
//     audit.keyed) whose link pins them. From then on Verify with the key requires every later entry
//     keyed (a rebuild as unkeyed SHA-256 is a downgrade, found) and the log to end with a keyed
//     entry. Replicas sharing a PostgreSQL database must share one key file; a replica started with
//     another key refuses to start (Init).
//   - The exported head: `warden audit head` prints SEQ:HASH for safekeeping elsewhere, and
//     Verify with ExpectHead checks that the log still holds that entry with that hash. Cutting the
//     newest entries and moving the head back leaves a consistent chain, which only this finds.
//
// A store carries the key through Keyed; Append and Verify read it from the store or transaction.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// headName names the record holding the chain's last sequence number and hash.
const headName = "head"

// Entry is what a caller says about a change; Append fills in the rest.
type Entry struct {
	Actor, Action, Detail string
	Before, After         *resource.Object
	Time                  time.Time
	// Kind and Name name the subject when neither Before nor After does.
	Kind resource.Kind
	Name string
	// Token is the id of the API token the change was made with; TokenIssuer, when that token was
	// minted for Actor by someone else, who minted it.
	Token, TokenIssuer string
}

// EntryName is the record name of entry seq: zero-padded, so names sort in sequence order.
func EntryName(seq int64) string { return fmt.Sprintf("%016d", seq) }

// canonical is what an entry's hash covers: the entry with its hash left empty (its alg included).
func canonical(s *resource.AuditEntrySpec) []byte {
	c := *s
	c.Hash = ""
	b, _ := json.Marshal(&c)
	return b
}

// hashOf is the unkeyed SHA-256 of an entry written before the log was keyed.
func hashOf(s *resource.AuditEntrySpec) string {
	sum := sha256.Sum256(canonical(s))
	return hex.EncodeToString(sum[:])
}

// raw is an object as the log keeps it. An API token's or a session's secret hash is left out: the log is read
// and exported more widely than the store, and the hash is all a guess would be checked against.
func raw(o *resource.Object) json.RawMessage {
	if o == nil {
		return nil
	}
	o = resource.WithoutSecrets(o)
	b, err := json.Marshal(o)
	if err != nil {
		return nil
	}
	return b
}

// Append adds entries inside tx, in order: one read of the head, one batch of writes. With a key
// (tx from a store made with Keyed) they are keyed; a keyed log is not extended without it.
func Append(ctx context.Context, tx store.Tx, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	key := keyOf(tx)
	head, err := tx.Get(ctx, resource.KindAuditEntry, headName)
	var prev resource.AuditEntrySpec
	switch {
	case err == nil:
		prev = *head.Spec.(*resource.AuditEntrySpec)
	case errors.Is(err, store.ErrNotFound):
		head = nil
	default:
		return fmt.Errorf("audit: reading the head: %w", err)
	}
	if key == nil && prev.Alg != "" {
		return fmt.Errorf("audit: the log is keyed (%s) but this store handle carries no audit key: nothing is written", prev.Alg)
	}
	now := time.Now()
	objs := make([]*resource.Object, 0, len(entries))
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = now
		}
		s := &resource.AuditEntrySpec{Seq: prev.Seq + 1, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Detail: e.Detail,
			Before: raw(e.Before), After: raw(e.After), Prev: prev.Hash, Kind: e.Kind, Name: e.Name,
			Token: e.Token, TokenIssuer: e.TokenIssuer}
		for _, o := range []*resource.Object{e.After, e.Before} {
			if o != nil {
				s.Kind, s.Name = o.Kind, o.Metadata.Name
				break
			}
		}
		if key != nil {
			s.Alg = AlgHMAC
			s.Hash = macOf(key, s)
		} else {
			s.Hash = hashOf(s)
		}
		objs = append(objs, &resource.Object{Kind: resource.KindAuditEntry, Version: resource.Version, Metadata: resource.Metadata{Name: EntryName(s.Seq)}, Spec: s})
		prev = *s
	}
	if err := tx.CreateMany(ctx, objs); err != nil {
		return fmt.Errorf("audit: appending: %w", err)
	}
	next := &resource.Object{Kind: resource.KindAuditEntry, Version: resource.Version, Metadata: resource.Metadata{Name: headName},
		Spec: &resource.AuditEntrySpec{Seq: prev.Seq, Action: "head", Hash: prev.Hash, Time: prev.Time, Alg: prev.Alg}}
	if head == nil {
		err = tx.Create(ctx, next)
	} else {
		next.Metadata.Revision = head.Metadata.Revision
		err = tx.Update(ctx, next)
	}
	if err != nil {
		return fmt.Errorf("audit: moving the head: %w", err)
	}
	return nil
}

// Last is the sequence number of the latest entry (0 when the log is empty).
func Last(ctx context.Context, r store.Reader) (int64, error) {
	head, err := r.Get(ctx, resource.KindAuditEntry, headName)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: reading the head: %w", err)
	}
	return head.Spec.(*resource.AuditEntrySpec).Seq, nil
}

// After reads up to limit entries following entry seq, in order: a reader follows the log with it.
// Entries are appended one transaction at a time, so none can appear later before one already read.
func After(ctx context.Context, r store.Reader, seq int64, limit int) ([]*resource.AuditEntrySpec, error) {
	objs, err := r.List(ctx, resource.KindAuditEntry, store.ListOptions{After: EntryName(seq), Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("audit: reading the entries after %d: %w", seq, err)
	}
	out := make([]*resource.AuditEntrySpec, 0, len(objs))
	for _, o := range objs {
		if o.Metadata.Name != headName {
			out = append(out, o.Spec.(*resource.AuditEntrySpec))
		}
	}
	return out, nil
}

// Filter chooses entries to read.
type Filter struct {
	Since time.Time
	Actor string
	Kind  resource.Kind
	// Token keeps the entries made with this API token.
	Token string
}

// List reads the entries matching f, oldest first.
func List(ctx context.Context, st store.Store, f Filter) ([]*resource.AuditEntrySpec, error) {
	opts := store.ListOptions{}
	if f.Actor != "" {
		opts.Filters = append(opts.Filters, store.Filter("actor", f.Actor)...)
	}
	if f.Kind != "" {
		opts.Filters = append(opts.Filters, store.Filter("kind", string(f.Kind))...)
	}
	if f.Token != "" {
		opts.Filters = append(opts.Filters, store.Filter("token", f.Token)...)
	}
	objs, err := st.List(ctx, resource.KindAuditEntry, opts)
	if err != nil {
		return nil, err
	}
	var out []*resource.AuditEntrySpec
	for _, o := range objs {
		s := o.Spec.(*resource.AuditEntrySpec)
		if o.Metadata.Name == headName || s.Time.Before(f.Since) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// Head is where the log ends: the newest entry's sequence number and hash, as the head record
// says. Its String form, SEQ:HASH, is what `warden audit head` prints for export.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Alg  string `json:"alg,omitempty"`
}

func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ReadHead reads the head record (zero when the log is empty).
func ReadHead(ctx context.Context, r store.Reader) (Head, error) {
	head, err := r.Get(ctx, resource.KindAuditEntry, headName)
	if errors.Is(err, store.ErrNotFound) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("audit: reading the head: %w", err)
	}
	s := head.Spec.(*resource.AuditEntrySpec)
	return Head{Seq: s.Seq, Hash: s.Hash, Alg: s.Alg}, nil
}

// ParseHead reads an exported head, SEQ:HASH (a sequence number from 1, 64 hex digits).
func ParseHead(v string) (Head, error) {
	seqs, hash, ok := strings.Cut(strings.TrimSpace(v), ":")
	seq, err := strconv.ParseInt(seqs, 10, 64)
	if !ok || err != nil || seq < 1 || len(hash) != 64 {
		return Head{}, fmt.Errorf("%q is not SEQ:HASH as warden audit head prints it (a sequence number and 64 hex digits)", short(v))
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return Head{}, fmt.Errorf("%q is not SEQ:HASH as warden audit head prints it (a sequence number and 64 hex digits)", short(v))
	}
	return Head{Seq: seq, Hash: strings.ToLower(hash)}, nil
}

func short(v string) string {
	if len(v) > 100 {
		return v[:100] + "…"
	}
	return v
}

// VerifyOption adds a check to Verify.
type VerifyOption func(*verifyOptions)

type verifyOptions struct{ expect *Head }

// ExpectHead makes Verify check that the log still holds entry h.Seq with hash h.Hash: a head
// exported earlier (warden audit head). Cutting the newest entries and moving the head back leaves
// a chain that verifies on its own; against an exported head it does not.
func ExpectHead(h Head) VerifyOption { return func(o *verifyOptions) { o.expect = &h } }

// Verify walks the whole chain and reports the number of entries, or the first break found: an
// entry whose content no longer matches its hash, a gap in the sequence, a link to the wrong
// predecessor, or a head that does not match the last entry. With the audit key (st made with
// Keyed) keyed entries are checked with it, an unkeyed entry after a keyed one is a rebuild
// without the key, and the log must end with a keyed entry (Init seals every log it starts with);
// without the key a keyed entry cannot be checked and is an error.
func Verify(ctx context.Context, st store.Store, opts ...VerifyOption) (int, error) {
	var o verifyOptions
	for _, opt := range opts {
		opt(&o)
	}
	key := keyOf(st)
	objs, err := st.List(ctx, resource.KindAuditEntry, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	var head, last *resource.AuditEntrySpec
	expected := "" // the hash of the entry o.expect names, once found
	prev, n, keyedFrom := "", int64(0), int64(0)
	for _, obj := range objs {
		s := obj.Spec.(*resource.AuditEntrySpec)
		if obj.Metadata.Name == headName {
			head = s
			continue
		}
		n++
		switch {
		case s.Seq != n || obj.Metadata.Name != EntryName(s.Seq):
			return int(n - 1), fmt.Errorf("audit entry %d is missing (found %s next)", n, obj.Metadata.Name)
		case s.Prev != prev:
			return int(n - 1), fmt.Errorf("audit entry %d does not follow entry %d: the chain was changed", n, n-1)
		case s.Alg == "" && keyedFrom > 0:
			return int(n - 1), fmt.Errorf("audit entry %d is not keyed but follows keyed entries (from %d): the chain was rewritten without the key", n, keyedFrom)
		}
		want, err := sealOf(key, s)
		if err != nil {
			return int(n - 1), err
		}
		if !hmac.Equal([]byte(want), []byte(s.Hash)) {
			return int(n - 1), fmt.Errorf("audit entry %d was edited: its content does not match its hash", n)
		}
		if s.Alg != "" && keyedFrom == 0 {
			keyedFrom = n
		}
		prev, last = s.Hash, s
		if o.expect != nil && s.Seq == o.expect.Seq {
			expected = s.Hash
		}
	}
	switch {
	case head == nil && n > 0:
		return int(n), errors.New("the audit head is missing")
	case head != nil && (head.Seq != n || head.Hash != prev):
		return int(n), fmt.Errorf("the audit log ends at entry %d but its head says %d: entries were removed from the end", n, head.Seq)
	case key != nil && n == 0:
		return 0, errors.New("the audit log is empty, but warden writes a keyed entry when it starts with its key: entries were removed")
	case key != nil && last.Alg == "":
		return int(n), fmt.Errorf("the audit log ends with entry %d, which is not keyed, but warden seals the log with a keyed entry when it starts with its key: keyed entries were removed or rewritten", n)
	}
	if o.expect != nil {
		switch got := expected; {
		case got == "":
			return int(n), fmt.Errorf("the audit log no longer holds entry %d (exported head %s): it ends at entry %d, so entries were cut from its end and the head moved back", o.expect.Seq, o.expect, n)
		case got != o.expect.Hash:
			return int(n), fmt.Errorf("audit entry %d's hash is %s, not %s as exported: the log was rewritten from there (or cut back and written again)", o.expect.Seq, got, o.expect.Hash)
		}
	}
	return int(n), nil
}

// Query chooses a page of entries, newest first (Search).
type Query struct {
	Actor string
	Kind  resource.Kind
	// Name is the subject's name (an entry's name field).
	Name  string
	Token string
	// Since and Until bound the entries' times (either may be zero). The log's times rise with its
	// sequence numbers (entries are appended one transaction at a time), which Search relies on to
	// read only the page it returns: it starts at the newest entry not after Until and stops at the
	// first before Since.
	Since, Until time.Time
	// Before is the cursor: only entries with a sequence number below it (0: from the newest).
	Before int64
	// Limit caps the page (default DefaultPageSize, at most MaxPageSize).
	Limit int
}

// The page sizes of Search.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Search reads one page of the entries q matches, newest first, and the cursor of the next (older)
// page (its Before; 0 when there is none). It reads the page and one entry more, plus, with Until,
// about log2(entries) single entries to find where the range ends.
func Search(ctx context.Context, r store.Reader, q Query) ([]*resource.AuditEntrySpec, int64, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	before := q.Before
	if !q.Until.IsZero() {
		last, err := lastAtOrBefore(ctx, r, q.Until)
		if err != nil {
			return nil, 0, err
		}
		if before == 0 || last+1 < before {
			before = last + 1
		}
		if before <= 1 {
			return nil, 0, nil
		}
	}
	opts := store.ListOptions{Reverse: true, Limit: limit + 1, Before: headName} // entry names (digits) sort before "head"
	if before > 0 {
		opts.Before = EntryName(before)
	}
	// The most selective index first: a subject (kind and name) or a name names few entries, a
	// token or an actor more, a kind many.
	filters := [][2]string{{"name", q.Name}, {"token", q.Token}, {"actor", q.Actor}, {"kind", string(q.Kind)}}
	if q.Kind != "" && q.Name != "" {
		filters = [][2]string{{resource.IndexSubject, resource.RefValue(q.Kind, q.Name)}, {"token", q.Token}, {"actor", q.Actor}}
	}
	for _, f := range filters {
		if f[1] != "" {
			opts.Filters = append(opts.Filters, store.Filter(f[0], f[1])...)
		}
	}
	objs, err := r.List(ctx, resource.KindAuditEntry, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: searching: %w", err)
	}
	out := make([]*resource.AuditEntrySpec, 0, min(len(objs), limit))
	for _, o := range objs {
		s := o.Spec.(*resource.AuditEntrySpec)
		if o.Metadata.Name == headName {
			continue
		}
		if !q.Since.IsZero() && s.Time.Before(q.Since) {
			return out, 0, nil
		}
		if len(out) == limit {
			return out, out[limit-1].Seq, nil
		}
		out = append(out, s)
	}
	return out, 0, nil
}

// lastAtOrBefore is the sequence number of the newest entry written at or before t (0: none),
// found by bisection on the sequence (entries' times rise with it).
func lastAtOrBefore(ctx context.Context, r store.Reader, t time.Time) (int64, error) {
	head, err := Last(ctx, r)
	if err != nil {
		return 0, err
	}
	lo, hi := int64(0), head // entry lo is at or before t (0: before the first); every entry after hi is after t
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		o, err := r.Get(ctx, resource.KindAuditEntry, EntryName(mid))
		if errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("audit: entry %d is missing: verify the log", mid)
		}
		if err != nil {
			return 0, fmt.Errorf("audit: reading entry %d: %w", mid, err)
		}
		if o.Spec.(*resource.AuditEntrySpec).Time.After(t) {
			hi = mid - 1
		} else {
			lo = mid
		}
	}
	return lo, nil
}
