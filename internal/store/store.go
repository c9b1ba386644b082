// Package store defines how warden keeps its resources: one small interface that every backend
// implements the same way (the conformance suite in storetest proves it), with a global, monotonic
// revision that orders every write and a change feed (Watch) that can resume from any revision it has
// not yet compacted.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// Sentinel errors. Backends wrap them with the kind and name concerned; test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the revision given does not match the stored one (someone else wrote first).
	ErrConflict = errors.New("revision conflict")
	// ErrCompacted: the change feed no longer holds the revision asked for; list afresh and watch from
	// the current revision.
	ErrCompacted = errors.New("revision compacted")
)

// ObjectError is a store error about one object; errors.Is sees the sentinel inside.
type ObjectError struct {
	Kind resource.Kind
	Name string
	Err  error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s %q: %v", e.Kind, e.Name, e.Err) }

func (e *ObjectError) Unwrap() error { return e.Err }

// ListOptions narrows a List. Results are ordered by name (byte order).
type ListOptions struct {
	// Filters keeps only objects with every one of these index entries (see resource.IndexEntry).
	Filters []resource.IndexEntry
	// After keeps only names that sort after it: pass the last name of a page to get the next.
	After string
	// Limit caps the number of objects returned; 0 means no limit.
	Limit int
	// Before keeps only names that sort before it; with Reverse, pass the last name of a page to
	// get the next (older, for names that rise with time).
	Before string
	// Reverse orders by name descending.
	Reverse bool
}

// Filter builds a ListOptions filter from key, value pairs.
func Filter(kv ...string) []resource.IndexEntry {
	out := make([]resource.IndexEntry, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, resource.IndexEntry{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

// Reader reads resources.
type Reader interface {
	// Get returns one object or an error wrapping ErrNotFound.
	Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error)
	// List returns the objects of one kind that pass opts, ordered by name.
	List(ctx context.Context, k resource.Kind, opts ListOptions) ([]*resource.Object, error)
}

// Writer writes resources. Each write takes the next global revision and sets it, with the write's
// time, into the object's metadata.
type Writer interface {
	// Create stores a new object, or fails with ErrAlreadyExists.
	Create(ctx context.Context, o *resource.Object) error
	// CreateMany stores new objects in bulk, all or none (ErrAlreadyExists if any exists, or if the
	// batch names one twice).
	CreateMany(ctx context.Context, objs []*resource.Object) error
	// Update replaces an object if its stored revision equals o.Metadata.Revision, else fails with
	// ErrConflict (or ErrNotFound). Metadata.CreatedAt is kept from the stored object.
	Update(ctx context.Context, o *resource.Object) error
	// Delete removes an object and returns it as it was. A non-zero revision must match the stored
	// one (ErrConflict otherwise).
	Delete(ctx context.Context, k resource.Kind, name string, revision int64) (*resource.Object, error)
}

// Tx is a transaction: reads see its own writes; nothing is visible to others until it commits.
// A write that fails with ErrAlreadyExists, ErrConflict or ErrNotFound changed nothing and the
// transaction may go on; after any other write failure the transaction will not commit.
type Tx interface {
	Reader
	Writer
}

// EventType says what a change did.
type EventType string

// Event types.
const (
	Put    EventType = "put"
	Delete EventType = "delete"
)

// Event is one change: for Put the object as written, for Delete the object as it was.
type Event struct {
	Revision int64
	Type     EventType
	Object   *resource.Object
}

// Store is a backend. Its own Reader and Writer methods each run in a transaction of their own.
type Store interface {
	Reader
	Writer
	// Txn runs fn in one transaction, committed if fn returns nil and rolled back otherwise.
	Txn(ctx context.Context, fn func(tx Tx) error) error
	// Revision is the revision of the latest write.
	Revision(ctx context.Context) (int64, error)
	// Watch streams every change with a revision >= fromRevision, in order, then waits for more
	// until ctx ends. Resume after a restart with the last revision seen plus one. If the feed has
	// been compacted past fromRevision the watch ends at once with ErrCompacted.
	Watch(ctx context.Context, fromRevision int64) *Watch
	// Compact drops the change feed's entries below revision (objects are untouched).
	Compact(ctx context.Context, revision int64) error
	// Ping checks the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Watch is a running change feed. Read Events until it is closed, then Err says why it ended:
// nil when the context ended, ErrCompacted, or a backend error.
type Watch struct {
	Events <-chan Event
	err    error
	done   chan struct{}
}

// NewWatch is for backends: run produces events into the channel it is given and returns why it stopped.
func NewWatch(run func(events chan<- Event) error) *Watch {
	ch := make(chan Event, 256)
	w := &Watch{Events: ch, done: make(chan struct{})}
	go func() {
		err := run(ch)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		w.err = err
		close(w.done)
		close(ch)
	}()
	return w
}

// Err is why the watch ended; call it after Events is closed.
func (w *Watch) Err() error {
	<-w.done
	return w.err
}

// Leaser elects one holder of a named lease among processes sharing a store (the sync engine's
// leader among replicas).
type Leaser interface {
	// AcquireLease takes or renews the lease for holder until now+ttl. It reports false, without
	// error, while another holder's lease has not expired.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ErrFenced: a write was made for a leadership term that has ended (another process leads now),
// and refused; nothing of its transaction was written.
var ErrFenced = errors.New("fenced: this process no longer leads")

// Elector elects one leader of a named duty (the sync, say) among the processes sharing a store.
type Elector interface {
	// Campaign waits until this process leads name, or ctx ends, and returns its term. holder
	// names this process in logs and in the store.
	Campaign(ctx context.Context, name, holder string) (Term, error)
}

// Term is one leadership won through an Elector.
type Term interface {
	// Epoch numbers the terms of one name: every new term's is larger than any before it (0 when
	// the store needs no fencing: its one process is the only possible leader).
	Epoch() int64
	// Done is closed when the term ends: lost (the store no longer holds it for this process) or
	// resigned. Err says which.
	Done() <-chan struct{}
	Err() error
	// Fence returns ctx carrying the term's fence: every write transaction the store runs with it
	// checks, in that same transaction, that the term is still the current one, and fails with
	// ErrFenced otherwise. A leader makes all its writes with a fenced context, so that once another
	// process leads, none of the old leader's writes lands, however long it was paused.
	Fence(ctx context.Context) context.Context
	// Resign ends the term, letting another process lead at once.
	Resign(ctx context.Context) error
}

// Fence names a leadership term: the duty and its epoch.
type Fence struct {
	Name  string
	Epoch int64
}

type fenceKey struct{}

// WithFence returns ctx carrying f (for Term implementations).
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the fence ctx carries, if any (for store backends: they check it in every write
// transaction run with ctx).
func FenceOf(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// Sole is the Elector of a store that only this process may use (SQLite, its data directory locked
// by this process): it leads at once, for as long as it runs, and needs no fencing.
type Sole struct{}

// Campaign wins at once.
func (Sole) Campaign(ctx context.Context, name, holder string) (Term, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newSoleTerm(), nil
}

type soleTerm struct {
	done chan struct{}
	once sync.Once
}

func newSoleTerm() *soleTerm { return &soleTerm{done: make(chan struct{})} }

func (t *soleTerm) Epoch() int64                              { return 0 }
func (t *soleTerm) Done() <-chan struct{}                     { return t.done }
func (t *soleTerm) Fence(ctx context.Context) context.Context { return ctx }
func (t *soleTerm) Err() error {
	select {
	case <-t.done:
		return ErrResigned
	default:
		return nil
	}
}
func (t *soleTerm) Resign(context.Context) error { t.once.Do(func() { close(t.done) }); return nil }

// ErrResigned: the term was given up by its holder.
var ErrResigned = errors.New("leadership resigned")
