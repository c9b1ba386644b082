// Package audit keeps warden's audit log: every change, with who made it, when, and the resource
// before and after, appended in the same transaction as the change itself, so that no change is
// stored without its entry. Entries form a hash chain (each hash covers the entry and the previous
// hash) and a head record holds the last sequence number and hash, so Verify finds an entry edited,
// removed from the middle or cut from the end. Someone able to rewrite the whole database can
// rewrite the chain too; exporting the head hash elsewhere closes that gap.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

func hashOf(s *resource.AuditEntrySpec) string {
	c := *s
	c.Hash = ""
	b, _ := json.Marshal(&c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// raw is an object as the log keeps it. An API token's secret hash is left out: the log is read
// and exported more widely than the store, and the hash is all a guess would be checked against.
func raw(o *resource.Object) json.RawMessage {
	if o == nil {
		return nil
	}
	if t, ok := o.Spec.(*resource.APITokenSpec); ok && t.SecretHash != "" {
		c := *o
		spec := *t
		spec.SecretHash = ""
		c.Spec = &spec
		o = &c
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil
	}
	return b
}

// Append adds entries inside tx, in order: one read of the head, one batch of writes.
func Append(ctx context.Context, tx store.Tx, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
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
		s.Hash = hashOf(s)
		objs = append(objs, &resource.Object{Kind: resource.KindAuditEntry, Version: resource.Version, Metadata: resource.Metadata{Name: EntryName(s.Seq)}, Spec: s})
		prev = *s
	}
	if err := tx.CreateMany(ctx, objs); err != nil {
		return fmt.Errorf("audit: appending: %w", err)
	}
	next := &resource.Object{Kind: resource.KindAuditEntry, Version: resource.Version, Metadata: resource.Metadata{Name: headName},
		Spec: &resource.AuditEntrySpec{Seq: prev.Seq, Action: "head", Hash: prev.Hash, Time: prev.Time}}
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

// Verify walks the whole chain and reports the number of entries, or the first break found: an
// entry whose content no longer matches its hash, a gap in the sequence, a link to the wrong
// predecessor, or a head that does not match the last entry.
func Verify(ctx context.Context, st store.Store) (int, error) {
	objs, err := st.List(ctx, resource.KindAuditEntry, store.ListOptions{})
	if err != nil {
		return 0, err
	}
	var head *resource.AuditEntrySpec
	prev, n := "", int64(0)
	for _, o := range objs {
		s := o.Spec.(*resource.AuditEntrySpec)
		if o.Metadata.Name == headName {
			head = s
			continue
		}
		n++
		switch {
		case s.Seq != n || o.Metadata.Name != EntryName(s.Seq):
			return int(n - 1), fmt.Errorf("audit entry %d is missing (found %s next)", n, o.Metadata.Name)
		case s.Prev != prev:
			return int(n - 1), fmt.Errorf("audit entry %d does not follow entry %d: the chain was changed", n, n-1)
		case hashOf(s) != s.Hash:
			return int(n - 1), fmt.Errorf("audit entry %d was edited: its content does not match its hash", n)
		}
		prev = s.Hash
	}
	switch {
	case head == nil && n > 0:
		return int(n), errors.New("the audit head is missing")
	case head != nil && (head.Seq != n || head.Hash != prev):
		return int(n), fmt.Errorf("the audit log ends at entry %d but its head says %d: entries were removed from the end", n, head.Seq)
	}
	return int(n), nil
}
