// Package manage is the one way resources are written: validated on their own, written in one store
// transaction, then checked against each other (references exist, no list nested in itself) before the
// transaction commits. A batch is all or nothing: any problem rolls back every write of it, so nothing
// half-written is ever kept.
package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// ErrReferenced: the resource is still named by others, so deleting it would leave them dangling.
var ErrReferenced = errors.New("still referenced")

// ItemError is a problem with one item of a batch (0-based Index).
type ItemError struct {
	Index int
	Kind  resource.Kind
	Name  string
	Err   error
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("item %d (%s %q): %v", e.Index+1, e.Kind, e.Name, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }

// Actor is who writes: recorded where a resource says who did something (a member's added_by),
// and in the audit log with the API token used.
type Actor struct {
	User  string
	Admin bool
	// Token is the id of the API token the actor acts with (empty for warden's own writes).
	Token string
	// TokenIssuer, when that token was minted for User by someone else, is who minted it.
	TokenIssuer string
	// Detail, when set, is added to the detail of every audit entry the write makes: why warden
	// wrote (a sign-in through an upstream connector, say).
	Detail string
}

// Entry is e said by the actor: its actor, token, token issuer and detail filled in.
func (a Actor) Entry(e audit.Entry) audit.Entry {
	e.Actor, e.Token, e.TokenIssuer = a.User, a.Token, a.TokenIssuer
	switch {
	case a.Detail == "":
	case e.Detail == "":
		e.Detail = a.Detail
	default:
		e.Detail += "; " + a.Detail
	}
	return e
}

// Action says what Apply did with one item.
type Action string

// Actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Deleted   Action = "deleted"
)

// Result is one item's outcome.
type Result struct {
	Action Action           `json:"action"`
	Object *resource.Object `json:"object"`
}

// Service writes resources to a store.
type Service struct {
	store store.Store
}

// New returns a Service writing to s.
func New(s store.Store) *Service { return &Service{store: s} }

// prepare normalises an item for writing: defaults, server-owned fields, validation.
func prepare(actor Actor, o *resource.Object) error {
	resource.Normalize(o)
	o.Status = nil // warden writes status itself, never from a client's document
	switch s := o.Spec.(type) {
	case *resource.AccessRequestSpec:
		if o.Metadata.Name == "" {
			o.Metadata.Name = uuid.Must(uuid.NewV7()).String()
		}
		if s.State == "" {
			s.State = resource.StatePending
		}
	case *resource.AccessListMemberSpec:
		s.AddedBy = actor.User // who added a member is warden's to record, not the client's to claim
	}
	return resource.Validate(o)
}

// Create stores new objects, all or none.
func (m *Service) Create(ctx context.Context, actor Actor, objs []*resource.Object) ([]Result, error) {
	if err := m.prepareAll(actor, objs); err != nil {
		return nil, err
	}
	err := m.store.Txn(ctx, func(tx store.Tx) error {
		if err := tx.CreateMany(ctx, objs); err != nil {
			return itemOf(objs, err)
		}
		for i, o := range objs {
			if err := checkOwned(ctx, tx, actor, nil, o); err != nil {
				return &ItemError{i, o.Kind, o.Metadata.Name, err}
			}
		}
		if err := checkRefs(ctx, tx, objs); err != nil {
			return err
		}
		entries := make([]audit.Entry, len(objs))
		for i, o := range objs {
			entries[i] = actor.Entry(audit.Entry{Action: "create", After: o})
		}
		return audit.Append(ctx, tx, entries...)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(objs))
	for i, o := range objs {
		out[i] = Result{Created, o}
	}
	return out, nil
}

// itemOf names the batch item a store error is about, when it is about one.
func itemOf(objs []*resource.Object, err error) error {
	var oe *store.ObjectError
	if errors.As(err, &oe) {
		for i, o := range objs {
			if o.Kind == oe.Kind && o.Metadata.Name == oe.Name {
				return &ItemError{i, o.Kind, o.Metadata.Name, err}
			}
		}
	}
	return err
}

func (m *Service) prepareAll(actor Actor, objs []*resource.Object) error {
	seen := map[string]int{}
	for i, o := range objs {
		if err := prepare(actor, o); err != nil {
			return &ItemError{i, o.Kind, o.Metadata.Name, err}
		}
		key := string(o.Kind) + "/" + o.Metadata.Name
		if j, dup := seen[key]; dup {
			return &ItemError{i, o.Kind, o.Metadata.Name, &resource.FieldError{Field: "metadata.name",
				Message: fmt.Sprintf("%s appears twice in this batch (also item %d)", o, j+1)}}
		}
		seen[key] = i
	}
	return nil
}

// ApplyOption sets an optional behaviour of Apply.
type ApplyOption func(*applyOptions)

type applyOptions struct{ checkRevisions bool }

// CheckRevisions makes Apply hold an item that gives metadata.revision to it, as an update is held:
// one read before someone else changed (or deleted) the resource is a conflict, so a stale file never
// overwrites a newer change. An item without a revision is written whatever the stored revision.
// warden apply (the API's batch) applies this way.
func CheckRevisions() ApplyOption { return func(o *applyOptions) { o.checkRevisions = true } }

// Apply creates the objects that do not exist and updates those that do (whatever their revision,
// unless CheckRevisions: the document is the desired state), all or none. Items equal to what is
// stored are left alone.
func (m *Service) Apply(ctx context.Context, actor Actor, objs []*resource.Object, opts ...ApplyOption) ([]Result, error) {
	var ao applyOptions
	for _, o := range opts {
		o(&ao)
	}
	if err := m.prepareAll(actor, objs); err != nil {
		return nil, err
	}
	out := make([]Result, len(objs))
	err := m.store.Txn(ctx, func(tx store.Tx) error {
		var changed []*resource.Object
		var entries []audit.Entry
		for i, o := range objs {
			cur, err := tx.Get(ctx, o.Kind, o.Metadata.Name)
			switch {
			case errors.Is(err, store.ErrNotFound) && ao.checkRevisions && o.Metadata.Revision != 0:
				return &ItemError{i, o.Kind, o.Metadata.Name, &store.ObjectError{Kind: o.Kind, Name: o.Metadata.Name,
					Err: fmt.Errorf("metadata.revision %d was read, but it no longer exists (deleted since); leave metadata.revision out to create it again: %w", o.Metadata.Revision, store.ErrConflict)}}
			case errors.Is(err, store.ErrNotFound):
				if err := tx.Create(ctx, o); err != nil {
					return &ItemError{i, o.Kind, o.Metadata.Name, err}
				}
				if err := checkOwned(ctx, tx, actor, nil, o); err != nil {
					return &ItemError{i, o.Kind, o.Metadata.Name, err}
				}
				out[i] = Result{Created, o}
				changed = append(changed, o)
				entries = append(entries, actor.Entry(audit.Entry{Action: "create", After: o}))
				continue
			case err != nil:
				return err
			}
			if ao.checkRevisions && o.Metadata.Revision != 0 && o.Metadata.Revision != cur.Metadata.Revision {
				return &ItemError{i, o.Kind, o.Metadata.Name, &store.ObjectError{Kind: o.Kind, Name: o.Metadata.Name,
					Err: fmt.Errorf("metadata.revision %d was read, but it has changed since (stored revision %d): get it again (warden get %s %s -o yaml) and make your change there, or leave metadata.revision out to overwrite it: %w",
						o.Metadata.Revision, cur.Metadata.Revision, o.Kind, o.Metadata.Name, store.ErrConflict)}}
			}
			keepServerFields(cur, o)
			if sameContent(cur, o) {
				out[i] = Result{Unchanged, cur}
				continue
			}
			if err := checkOwned(ctx, tx, actor, cur, o); err != nil {
				return &ItemError{i, o.Kind, o.Metadata.Name, err}
			}
			o.Metadata.Revision = cur.Metadata.Revision
			o.Status = cur.Status
			if err := tx.Update(ctx, o); err != nil {
				return &ItemError{i, o.Kind, o.Metadata.Name, err}
			}
			out[i] = Result{Updated, o}
			changed = append(changed, o)
			entries = append(entries, actor.Entry(audit.Entry{Action: "update", Before: cur, After: o}))
		}
		if err := checkRefsIndexed(ctx, tx, objs, changed); err != nil {
			return err
		}
		return audit.Append(ctx, tx, entries...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keepServerFields carries over what a client does not decide when it rewrites an object: who added
// a member, and a user's upstream records when the document leaves them out (an administrator's
// user file says nothing of them; one that gives them, as read, replaces them).
func keepServerFields(cur, next *resource.Object) {
	switch c := cur.Spec.(type) {
	case *resource.AccessListMemberSpec:
		n := next.Spec.(*resource.AccessListMemberSpec)
		n.AddedBy = c.AddedBy
	case *resource.UserSpec:
		if n := next.Spec.(*resource.UserSpec); n.Upstream == nil {
			n.Upstream = c.Upstream
		}
	case *resource.AccessListSpec:
		if n := next.Spec.(*resource.AccessListSpec); n.Upstream == nil {
			n.Upstream = c.Upstream
		}
	}
}

func sameContent(a, b *resource.Object) bool {
	if a.Metadata.Description != b.Metadata.Description || len(a.Metadata.Labels) != len(b.Metadata.Labels) {
		return false
	}
	for k, v := range a.Metadata.Labels {
		if b.Metadata.Labels[k] != v {
			return false
		}
	}
	ja, err1 := json.Marshal(a.Spec)
	jb, err2 := json.Marshal(b.Spec)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// Update replaces one object if o.Metadata.Revision is still the stored revision.
func (m *Service) Update(ctx context.Context, actor Actor, o *resource.Object) error {
	if err := prepare(actor, o); err != nil {
		return err
	}
	if o.Metadata.Revision <= 0 {
		return &resource.FieldError{Field: "metadata.revision", Message: "required for an update: the revision you read (get the resource first)"}
	}
	return m.store.Txn(ctx, func(tx store.Tx) error {
		cur, err := tx.Get(ctx, o.Kind, o.Metadata.Name)
		if err != nil {
			return err
		}
		keepServerFields(cur, o)
		if err := checkOwned(ctx, tx, actor, cur, o); err != nil {
			return err
		}
		o.Status = cur.Status
		if err := tx.Update(ctx, o); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, actor.Entry(audit.Entry{Action: "update", Before: cur, After: o})); err != nil {
			return err
		}
		return checkRefs(ctx, tx, []*resource.Object{o})
	})
}

// UserCascade are the kinds of record a user takes with them when deleted: each indexed by user
// (resource.IndexUser), each deleted and audited (without its secrets) in the same transaction.
var UserCascade = []resource.Kind{resource.KindAPIToken, resource.KindSession, resource.KindPasskey, resource.KindCredential, resource.KindAuthFlow}

// Delete removes one object (a non-zero revision must match), refusing while others name it. An
// access list takes its member records with it; a user takes their API tokens, sessions, passkeys,
// local credential and sign-in flows (UserCascade).
func (m *Service) Delete(ctx context.Context, actor Actor, k resource.Kind, name string, revision int64) (*resource.Object, error) {
	var old *resource.Object
	err := m.store.Txn(ctx, func(tx store.Tx) error {
		var err error
		if old, err = tx.Get(ctx, k, name); err != nil {
			return err
		}
		if revision != 0 && old.Metadata.Revision != revision {
			// Checked before the cascade, which would otherwise run for nothing.
			return &store.ObjectError{Kind: k, Name: name, Err: fmt.Errorf("revision %d was read but the stored revision is %d: %w", revision, old.Metadata.Revision, store.ErrConflict)}
		}
		if err := checkOwned(ctx, tx, actor, old, nil); err != nil {
			return err
		}
		var cascade []*resource.Object
		switch k {
		case resource.KindAccessList:
			cascade, err = tx.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, name)})
		case resource.KindUser:
			for _, ck := range UserCascade {
				var objs []*resource.Object
				if objs, err = tx.List(ctx, ck, store.ListOptions{Filters: store.Filter(resource.IndexUser, name)}); err != nil {
					break
				}
				cascade = append(cascade, objs...)
			}
		}
		if err != nil {
			return err
		}
		for _, c := range cascade {
			if _, err := tx.Delete(ctx, c.Kind, c.Metadata.Name, 0); err != nil {
				return err
			}
			// A token's or session's entry leaves its secret hash out (package audit); a
			// credential's or a sign-in flow's entry names it without its content.
			e := audit.Entry{Action: "delete", Detail: "with " + name, Before: c}
			if c.Kind == resource.KindCredential || c.Kind == resource.KindAuthFlow {
				e.Before, e.Kind, e.Name = nil, c.Kind, c.Metadata.Name
			}
			if err := audit.Append(ctx, tx, actor.Entry(e)); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(ctx, k, name, revision); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, actor.Entry(audit.Entry{Action: "delete", Before: old})); err != nil {
			return err
		}
		return referrers(ctx, tx, k, name)
	})
	return old, err
}

// referringKinds are the kinds whose index holds references.
var referringKinds = []resource.Kind{resource.KindUser, resource.KindRole, resource.KindAccessList, resource.KindAccessListMember}

func referrers(ctx context.Context, tx store.Tx, k resource.Kind, name string) error {
	var found []string
	total := 0
	for _, rk := range referringKinds {
		objs, err := tx.List(ctx, rk, store.ListOptions{Filters: store.Filter(resource.IndexRef, resource.RefValue(k, name))})
		if err != nil {
			return err
		}
		total += len(objs)
		for _, o := range objs {
			if len(found) < 5 {
				found = append(found, o.String())
			}
		}
	}
	if total == 0 {
		return nil
	}
	more := ""
	if total > len(found) {
		more = fmt.Sprintf(" and %d more", total-len(found))
	}
	return fmt.Errorf("%s %q is named by %s%s; change or delete those first: %w", k, name, strings.Join(found, ", "), more, ErrReferenced)
}

func checkRefs(ctx context.Context, tx store.Tx, objs []*resource.Object) error {
	return checkRefsIndexed(ctx, tx, objs, objs)
}

// checkRefsIndexed checks the references of the changed objects, reporting errors by their index in all.
func checkRefsIndexed(ctx context.Context, tx store.Tx, all, changed []*resource.Object) error {
	lk := &lookup{tx: tx, known: map[string]bool{}}
	index := make(map[*resource.Object]int, len(all))
	for i, o := range all {
		index[o] = i
	}
	for _, o := range changed {
		if err := resource.CheckRefs(ctx, lk, o); err != nil {
			return &ItemError{index[o], o.Kind, o.Metadata.Name, err}
		}
	}
	return nil
}

// lookup answers resource.Lookup inside a transaction, remembering answers (a batch of ten thousand
// members names the same list ten thousand times).
type lookup struct {
	tx    store.Tx
	known map[string]bool
}

func (l *lookup) Exists(ctx context.Context, k resource.Kind, name string) (bool, error) {
	key := resource.RefValue(k, name)
	if ok, seen := l.known[key]; seen {
		return ok, nil
	}
	_, err := l.tx.Get(ctx, k, name)
	switch {
	case err == nil:
		l.known[key] = true
	case errors.Is(err, store.ErrNotFound):
		l.known[key] = false
	default:
		return false, err
	}
	return l.known[key], nil
}

func (l *lookup) NestedLists(ctx context.Context, list string) ([]string, error) {
	objs, err := l.tx.List(ctx, resource.KindAccessListMember, store.ListOptions{
		Filters: store.Filter(resource.IndexList, list, resource.IndexMemberKind, resource.MemberList)})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Spec.(*resource.AccessListMemberSpec).Member
	}
	return out, nil
}
