package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/store"
)

// Leadership among replicas (store.Elector): a leader holds a session-level advisory lock on a
// connection of its own, outside the pool. PostgreSQL releases the lock the moment that session
// ends, so when a leader's process dies (its socket closes) a waiting replica, blocked in
// pg_advisory_lock, has the lock at once; when a leader's host vanishes without closing its socket,
// the server notices within about 11 s (TCP keepalives set on the session: 5 s idle, then 3 probes
// 2 s apart). The new leader then increments the leadership's epoch in the leadership table; every
// write transaction the leader runs with its fenced context reads that epoch FOR SHARE (sqlstore's
// FenceQuery) and fails with store.ErrFenced if it is not its own. The increment waits for the old
// leader's write transactions under way, so that once a term has begun, no write of an earlier
// term can land: not even from a leader that was paused, lost its session meanwhile, and resumed.
//
// A leader checks its session every LeaderCheckInterval and ends its term (Done) when the check
// fails; its writes are fenced from the moment another replica leads, whether or not it noticed.

// LeaderCheckInterval is how often a leader checks that its session, and so its lock, is alive.
const LeaderCheckInterval = time.Second

// lockKey is the advisory lock of a leadership: one per schema and name, since tests (and
// deployments) may keep several warden stores in one database.
const lockKey = `hashtextextended(current_schema() || '/warden-leader/' || $1, 0)`

// Campaign waits until this replica leads name. holder is recorded with the term.
func (s *Store) Campaign(ctx context.Context, name, holder string) (store.Term, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to %s to lead %s: %w", redact(s.cfg), name, err)
	}
	fail := func(what string, err error) (store.Term, error) {
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("postgres: %s (leading %s): %w", what, name, err)
	}
	// So that the server notices a leader whose host vanished, and releases its lock.
	if _, err := conn.Exec(ctx, `SELECT set_config('tcp_keepalives_idle', '5', false), set_config('tcp_keepalives_interval', '2', false),
		set_config('tcp_keepalives_count', '3', false), set_config('application_name', $1, false)`, "warden leader "+holder); err != nil {
		return fail("setting up the session", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, name); err != nil {
		return fail("waiting for the leadership lock", err)
	}
	var epoch int64
	err = conn.QueryRow(ctx, `INSERT INTO leadership (name, epoch, holder, since) VALUES ($1, 1, $2, $3)
ON CONFLICT (name) DO UPDATE SET epoch = leadership.epoch + 1, holder = excluded.holder, since = excluded.since
RETURNING epoch`, name, holder, time.Now().UnixNano()).Scan(&epoch)
	if err != nil {
		return fail("beginning a term", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	t := &term{name: name, epoch: epoch, conn: conn, done: make(chan struct{}), cancel: cancel, watched: make(chan struct{})}
	go t.watch(wctx)
	return t, nil
}

type term struct {
	name    string
	epoch   int64
	conn    *pgx.Conn
	cancel  context.CancelFunc
	watched chan struct{} // closed when watch has returned
	done    chan struct{}
	once    sync.Once
	err     error
}

// watch checks the session every LeaderCheckInterval, ending the term when it is gone.
func (t *term) watch(ctx context.Context) {
	defer close(t.watched)
	tick := time.NewTicker(LeaderCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*LeaderCheckInterval)
		err := t.conn.Ping(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			t.end(fmt.Errorf("the session holding the %s leadership (term %d) is gone: %w", t.name, t.epoch, err))
			return
		}
	}
}

func (t *term) end(err error) {
	t.once.Do(func() { t.err = err; close(t.done) })
}

func (t *term) Epoch() int64          { return t.epoch }
func (t *term) Done() <-chan struct{} { return t.done }

func (t *term) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

func (t *term) Fence(ctx context.Context) context.Context {
	return store.WithFence(ctx, store.Fence{Name: t.name, Epoch: t.epoch})
}

// Resign ends the session, which releases the lock: a waiting replica leads at once.
func (t *term) Resign(ctx context.Context) error {
	t.end(store.ErrResigned)
	t.cancel()
	<-t.watched
	err := t.conn.Close(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

var _ store.Elector = (*Store)(nil)
