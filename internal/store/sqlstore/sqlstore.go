// Package sqlstore is the store.Store both SQL backends share: the same tables, the same statements
// (rebound to each dialect's placeholders), the same revision and change-feed logic. The sqlite and
// postgres packages open their databases and supply a Dialect.
//
// Layout: resources(kind, name, revision, created_at, updated_at, data) holds each object's JSON;
// resource_index(kind, name, key, value) holds its index entries (list filters and referrers);
// changes(revision, kind, name, op, data) is the change feed; meta holds the global revision counter.
// Every write transaction increments the counter row first, which serialises writers on that row: a
// revision is only handed out once every smaller one has committed or rolled back, so the feed never
// shows a revision before a smaller one.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Dialect is what differs between SQL backends.
type Dialect struct {
	Name string
	// Placeholder renders the n-th (1-based) bind parameter: "?" or "$n".
	Placeholder func(n int) string
	// Migrations holds NNNN_name.sql files applied in order, each once.
	Migrations fs.FS
	// MigrationLock, if set, runs first in the migration transaction (an advisory lock, so that
	// replicas starting together migrate once).
	MigrationLock string
	// AfterWrite, if set, runs in every write transaction before commit with the last revision written
	// (PostgreSQL: NOTIFY the other replicas).
	AfterWrite func(ctx context.Context, tx *sql.Tx, revision int64) error
	// MaxParams bounds the bind parameters of one statement.
	MaxParams int
	// PollInterval is how often a watch looks for changes made by other processes when no
	// notification arrives.
	PollInterval time.Duration
}

// Store implements store.Store over database/sql.
type Store struct {
	write   *sql.DB // all writes; SQLite gives it one connection
	read    *sql.DB // reads outside transactions; may be the same pool
	dialect Dialect
	now     func() time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever a write commits (here or, by notification, elsewhere)
	stmts   map[string]string
}

// New wraps open databases. Call Migrate before use.
func New(write, read *sql.DB, d Dialect) *Store {
	if d.MaxParams == 0 {
		d.MaxParams = 999
	}
	if d.PollInterval == 0 {
		d.PollInterval = time.Second
	}
	return &Store{write: write, read: read, dialect: d, now: time.Now, changed: make(chan struct{}), stmts: map[string]string{}}
}

// Notify wakes every watch: something may have been written (by another replica).
func (s *Store) Notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Store) changedCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// q rebinds a statement written with ? placeholders to the dialect's.
func (s *Store) q(query string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.stmts[query]; ok {
		return r
	}
	r := rebind(query, s.dialect.Placeholder)
	s.stmts[query] = r
	return r
}

func rebind(query string, ph func(int) string) string {
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString(ph(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Migrate applies the dialect's migrations that have not run yet.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := fs.Glob(s.dialect.Migrations, "*.sql")
	if err != nil {
		return fmt.Errorf("listing migrations: %w", err)
	}
	sort.Strings(names)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if s.dialect.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, s.dialect.MigrationLock); err != nil {
			return fmt.Errorf("migrate: taking the migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, name := range names {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM schema_migrations WHERE name = ?`), name).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migrate: %w", err)
		}
		body, err := fs.ReadFile(s.dialect.Migrations, name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), name, s.now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return tx.Commit()
}

// Close closes both pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return err
	}
	return s.read.PingContext(ctx)
}

// Revision is the latest revision handed out.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'revision'`).Scan(&rev)
	return rev, err
}

// Txn runs fn in a write transaction.
func (s *Store) Txn(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &tx{s: s, q: sqlTx}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return err
	}
	if t.lastRev > 0 && s.dialect.AfterWrite != nil {
		if err := s.dialect.AfterWrite(ctx, sqlTx, t.lastRev); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if t.lastRev > 0 {
		s.Notify()
	}
	return nil
}

// Get reads one object.
func (s *Store) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	return (&tx{s: s, q: s.read}).Get(ctx, k, name)
}

// List reads objects of one kind.
func (s *Store) List(ctx context.Context, k resource.Kind, opts store.ListOptions) ([]*resource.Object, error) {
	return (&tx{s: s, q: s.read}).List(ctx, k, opts)
}

// Create stores one new object.
func (s *Store) Create(ctx context.Context, o *resource.Object) error {
	return s.Txn(ctx, func(t store.Tx) error { return t.Create(ctx, o) })
}

// CreateMany stores new objects, all or none.
func (s *Store) CreateMany(ctx context.Context, objs []*resource.Object) error {
	return s.Txn(ctx, func(t store.Tx) error { return t.CreateMany(ctx, objs) })
}

// Update replaces one object, compare-and-swap on its revision.
func (s *Store) Update(ctx context.Context, o *resource.Object) error {
	return s.Txn(ctx, func(t store.Tx) error { return t.Update(ctx, o) })
}

// Delete removes one object.
func (s *Store) Delete(ctx context.Context, k resource.Kind, name string, revision int64) (*resource.Object, error) {
	var old *resource.Object
	err := s.Txn(ctx, func(t store.Tx) error {
		var err error
		old, err = t.Delete(ctx, k, name, revision)
		return err
	})
	return old, err
}

// Compact drops change feed entries below revision.
func (s *Store) Compact(ctx context.Context, revision int64) error {
	return s.Txn(ctx, func(t store.Tx) error {
		q := t.(*tx).q
		var compacted int64
		if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'compacted'`).Scan(&compacted); err != nil {
			return err
		}
		if revision <= compacted {
			return nil
		}
		if _, err := q.ExecContext(ctx, s.q(`DELETE FROM changes WHERE revision < ?`), revision); err != nil {
			return fmt.Errorf("compact: %w", err)
		}
		_, err := q.ExecContext(ctx, s.q(`UPDATE meta SET value = ? WHERE key = 'compacted'`), revision)
		return err
	})
}

// Watch streams changes from fromRevision on.
func (s *Store) Watch(ctx context.Context, fromRevision int64) *store.Watch {
	return store.NewWatch(func(events chan<- store.Event) error {
		next := max(fromRevision, 1)
		var compacted int64
		if err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'compacted'`).Scan(&compacted); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		if next < compacted {
			return fmt.Errorf("watch from revision %d: the feed starts at %d: %w", next, compacted, store.ErrCompacted)
		}
		const page = 1000
		for {
			wake := s.changedCh() // taken before reading, so a commit after the read still wakes us
			batch, err := s.changes(ctx, next, page)
			if err != nil {
				return err
			}
			for _, ev := range batch {
				select {
				case events <- ev:
				case <-ctx.Done():
					return ctx.Err()
				}
				next = ev.Revision + 1
			}
			if len(batch) == page {
				continue
			}
			timer := time.NewTimer(s.dialect.PollInterval)
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-wake:
			case <-timer.C:
			}
			timer.Stop()
		}
	})
}

func (s *Store) changes(ctx context.Context, from int64, limit int) ([]store.Event, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT revision, op, data FROM changes WHERE revision >= ? ORDER BY revision LIMIT ?`), from, limit)
	if err != nil {
		return nil, fmt.Errorf("reading changes from revision %d: %w", from, err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var ev store.Event
		var op string
		var data []byte
		if err := rows.Scan(&ev.Revision, &op, &data); err != nil {
			return nil, err
		}
		ev.Type = store.EventType(op)
		ev.Object = new(resource.Object)
		if err := json.Unmarshal(data, ev.Object); err != nil {
			return nil, fmt.Errorf("decoding change %d: %w", ev.Revision, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type tx struct {
	s       *Store
	q       querier
	lastRev int64
}

func notFound(k resource.Kind, name string) error {
	return fmt.Errorf("%s %q: %w", k, name, store.ErrNotFound)
}

func (t *tx) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	var rev, created, updated int64
	var data []byte
	err := t.q.QueryRowContext(ctx, t.s.q(`SELECT revision, created_at, updated_at, data FROM resources WHERE kind = ? AND name = ?`), string(k), name).
		Scan(&rev, &created, &updated, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(k, name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", k, name, err)
	}
	return decode(data, rev, created, updated)
}

func decode(data []byte, rev, created, updated int64) (*resource.Object, error) {
	o := new(resource.Object)
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("decoding stored object: %w", err)
	}
	o.Metadata.Revision = rev
	o.Metadata.CreatedAt = time.Unix(0, created).UTC()
	o.Metadata.UpdatedAt = time.Unix(0, updated).UTC()
	return o, nil
}

func (t *tx) List(ctx context.Context, k resource.Kind, opts store.ListOptions) ([]*resource.Object, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString(`SELECT r.name, r.revision, r.created_at, r.updated_at, r.data FROM resources r`)
	for i, f := range opts.Filters {
		fmt.Fprintf(&b, ` JOIN resource_index i%d ON i%d.kind = r.kind AND i%d.name = r.name AND i%d.key = ? AND i%d.value = ?`, i, i, i, i, i)
		args = append(args, f.Key, f.Value)
	}
	b.WriteString(` WHERE r.kind = ?`)
	args = append(args, string(k))
	if opts.After != "" {
		b.WriteString(` AND r.name > ?`)
		args = append(args, opts.After)
	}
	b.WriteString(` ORDER BY r.name`)
	if opts.Limit > 0 {
		b.WriteString(` LIMIT ?`)
		args = append(args, opts.Limit)
	}
	rows, err := t.q.QueryContext(ctx, t.s.q(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", k, err)
	}
	defer rows.Close()
	var out []*resource.Object
	for rows.Next() {
		var name string
		var rev, created, updated int64
		var data []byte
		if err := rows.Scan(&name, &rev, &created, &updated, &data); err != nil {
			return nil, fmt.Errorf("listing %s: %w", k, err)
		}
		o, err := decode(data, rev, created, updated)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", k, name, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", k, err)
	}
	return out, nil
}

// nextRevisions reserves n revisions and returns the first.
func (t *tx) nextRevisions(ctx context.Context, n int) (int64, error) {
	var last int64
	if err := t.q.QueryRowContext(ctx, t.s.q(`UPDATE meta SET value = value + ? WHERE key = 'revision' RETURNING value`), n).Scan(&last); err != nil {
		return 0, fmt.Errorf("taking a revision: %w", err)
	}
	t.lastRev = last
	return last - int64(n) + 1, nil
}

// stored is an object's JSON as kept in resources.data: without the fields the columns hold.
func stored(o *resource.Object) ([]byte, error) {
	c := *o
	c.Metadata.Revision = 0
	c.Metadata.CreatedAt = time.Time{}
	c.Metadata.UpdatedAt = time.Time{}
	return json.Marshal(&c)
}

func (t *tx) Create(ctx context.Context, o *resource.Object) error {
	return t.CreateMany(ctx, []*resource.Object{o})
}

func (t *tx) CreateMany(ctx context.Context, objs []*resource.Object) error {
	if len(objs) == 0 {
		return nil
	}
	first, err := t.nextRevisions(ctx, len(objs))
	if err != nil {
		return err
	}
	now := t.s.now().UTC()
	datas := make([][]byte, len(objs))
	for i, o := range objs {
		o.Metadata.Revision = first + int64(i)
		o.Metadata.CreatedAt, o.Metadata.UpdatedAt = now, now
		if datas[i], err = stored(o); err != nil {
			return fmt.Errorf("encoding %s: %w", o, err)
		}
	}
	// Insert resources in chunks; ON CONFLICT DO NOTHING + RETURNING tells which names were new.
	const cols = 6
	chunk := t.s.dialect.MaxParams / cols
	inserted := make(map[string]bool, len(objs))
	for lo := 0; lo < len(objs); lo += chunk {
		hi := min(lo+chunk, len(objs))
		var b strings.Builder
		b.WriteString(`INSERT INTO resources (kind, name, revision, created_at, updated_at, data) VALUES `)
		args := make([]any, 0, (hi-lo)*cols)
		for i := lo; i < hi; i++ {
			if i > lo {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			o := objs[i]
			args = append(args, string(o.Kind), o.Metadata.Name, o.Metadata.Revision, now.UnixNano(), now.UnixNano(), string(datas[i]))
		}
		b.WriteString(` ON CONFLICT (kind, name) DO NOTHING RETURNING kind, name`)
		rows, err := t.q.QueryContext(ctx, t.s.q(b.String()), args...)
		if err != nil {
			return fmt.Errorf("creating %s: %w", objs[lo], err)
		}
		for rows.Next() {
			var k, n string
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return err
			}
			inserted[k+"\x00"+n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(inserted) != len(objs) {
		seen := map[string]bool{}
		for _, o := range objs {
			key := string(o.Kind) + "\x00" + o.Metadata.Name
			if !inserted[key] || seen[key] {
				return fmt.Errorf("%s: %w", o, store.ErrAlreadyExists)
			}
			seen[key] = true
		}
	}
	if err := t.insertIndex(ctx, objs); err != nil {
		return err
	}
	return t.insertChanges(ctx, store.Put, objs)
}

func (t *tx) insertIndex(ctx context.Context, objs []*resource.Object) error {
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO resource_index (kind, name, key, value) VALUES `)
		for i := 0; i < len(args)/4; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
		}
		_, err := t.q.ExecContext(ctx, t.s.q(b.String()), args...)
		args = args[:0]
		if err != nil {
			return fmt.Errorf("indexing: %w", err)
		}
		return nil
	}
	for _, o := range objs {
		for _, e := range o.Index() {
			args = append(args, string(o.Kind), o.Metadata.Name, e.Key, e.Value)
			if len(args)+4 > t.s.dialect.MaxParams {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (t *tx) insertChanges(ctx context.Context, op store.EventType, objs []*resource.Object) error {
	const cols = 5
	chunk := t.s.dialect.MaxParams / cols
	for lo := 0; lo < len(objs); lo += chunk {
		hi := min(lo+chunk, len(objs))
		var b strings.Builder
		b.WriteString(`INSERT INTO changes (revision, kind, name, op, data) VALUES `)
		args := make([]any, 0, (hi-lo)*cols)
		for i := lo; i < hi; i++ {
			if i > lo {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			o := objs[i]
			data, err := json.Marshal(o)
			if err != nil {
				return fmt.Errorf("encoding %s: %w", o, err)
			}
			args = append(args, o.Metadata.Revision, string(o.Kind), o.Metadata.Name, string(op), string(data))
		}
		if _, err := t.q.ExecContext(ctx, t.s.q(b.String()), args...); err != nil {
			return fmt.Errorf("recording change: %w", err)
		}
	}
	return nil
}

func (t *tx) Update(ctx context.Context, o *resource.Object) error {
	if o.Metadata.Revision <= 0 {
		return fmt.Errorf("%s: update needs the revision it read: %w", o, store.ErrConflict)
	}
	expected := o.Metadata.Revision
	rev, err := t.nextRevisions(ctx, 1)
	if err != nil {
		return err
	}
	now := t.s.now().UTC()
	c := *o
	c.Metadata.Revision = rev
	data, err := stored(&c)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o, err)
	}
	var created int64
	err = t.q.QueryRowContext(ctx, t.s.q(`UPDATE resources SET revision = ?, updated_at = ?, data = ? WHERE kind = ? AND name = ? AND revision = ? RETURNING created_at`),
		rev, now.UnixNano(), string(data), string(o.Kind), o.Metadata.Name, expected).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		var current int64
		err := t.q.QueryRowContext(ctx, t.s.q(`SELECT revision FROM resources WHERE kind = ? AND name = ?`), string(o.Kind), o.Metadata.Name).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(o.Kind, o.Metadata.Name)
		}
		if err != nil {
			return fmt.Errorf("updating %s: %w", o, err)
		}
		return fmt.Errorf("%s: revision %d was read but the stored revision is %d: %w", o, expected, current, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("updating %s: %w", o, err)
	}
	o.Metadata.Revision = rev
	o.Metadata.CreatedAt = time.Unix(0, created).UTC()
	o.Metadata.UpdatedAt = now
	if _, err := t.q.ExecContext(ctx, t.s.q(`DELETE FROM resource_index WHERE kind = ? AND name = ?`), string(o.Kind), o.Metadata.Name); err != nil {
		return fmt.Errorf("updating %s: %w", o, err)
	}
	if err := t.insertIndex(ctx, []*resource.Object{o}); err != nil {
		return err
	}
	return t.insertChanges(ctx, store.Put, []*resource.Object{o})
}

func (t *tx) Delete(ctx context.Context, k resource.Kind, name string, revision int64) (*resource.Object, error) {
	// Take the revision first: it serialises writers, so nothing changes the row after we read it.
	rev, err := t.nextRevisions(ctx, 1)
	if err != nil {
		return nil, err
	}
	old, err := t.Get(ctx, k, name)
	if err != nil {
		return nil, err
	}
	if revision != 0 && old.Metadata.Revision != revision {
		return nil, fmt.Errorf("%s: revision %d was read but the stored revision is %d: %w", old, revision, old.Metadata.Revision, store.ErrConflict)
	}
	res, err := t.q.ExecContext(ctx, t.s.q(`DELETE FROM resources WHERE kind = ? AND name = ? AND revision = ?`), string(k), name, old.Metadata.Revision)
	if err != nil {
		return nil, fmt.Errorf("deleting %s: %w", old, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, fmt.Errorf("%s changed while being deleted: %w", old, store.ErrConflict)
	}
	if _, err := t.q.ExecContext(ctx, t.s.q(`DELETE FROM resource_index WHERE kind = ? AND name = ?`), string(k), name); err != nil {
		return nil, fmt.Errorf("deleting %s: %w", old, err)
	}
	gone := *old
	gone.Metadata.Revision = rev
	if err := t.insertChanges(ctx, store.Delete, []*resource.Object{&gone}); err != nil {
		return nil, err
	}
	return old, nil
}
