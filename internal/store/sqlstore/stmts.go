package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statements kept prepared per pool. The store's statements are a few
// dozen texts; queries built from a request's filters or a batch's size vary, and past the bound are
// prepared each time, as without the cache.
const maxCachedStmts = 256

// stmtCache keeps the store's statements prepared on a pool, so that a statement is parsed once per
// connection rather than at every call (with SQLite, parsing was about a fifth of a small write's
// CPU). A transaction uses them through Tx.StmtContext, which database/sql prepares once per
// connection and keeps.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// lookup returns the prepared statement of query, if it is cached.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// get returns the prepared statement of query, preparing it on the pool if need be, or nil when it
// is not to be cached (the cache is full) or cannot be prepared now (the caller then runs the query
// as text, and sees the error). It takes a connection of the pool: never call it while holding the
// pool's only connection (in a transaction of SQLite's write pool); see cachedTx.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	// Prepared without the lock: preparing waits for a connection, which a transaction looking
	// up its statements (under the lock) may hold.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close() // prepared meanwhile by another caller
		return prev
	}
	if len(c.m) >= maxCachedStmts {
		st.Close()
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cachedDB is a pool's querier through its statement cache.
type cachedDB struct{ c *stmtCache }

func (q cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.c.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.c.db.ExecContext(ctx, query, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.c.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.c.db.QueryContext(ctx, query, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.c.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.c.db.QueryRowContext(ctx, query, args...)
}

// cachedTx is a transaction's querier through its pool's statement cache. A transaction holds its
// connection, which may be the pool's only one (SQLite's writes): it never prepares on the pool.
// It uses the statements cached already, and notes the others, which Txn prepares once the
// transaction has ended (prepareMissed).
type cachedTx struct {
	tx     *sql.Tx
	c      *stmtCache
	missed map[string]bool
}

func (q *cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := q.c.lookup(query); st != nil {
		return q.tx.StmtContext(ctx, st)
	}
	if q.missed == nil {
		q.missed = map[string]bool{}
	}
	q.missed[query] = true
	return nil
}

func (q *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// prepareMissed prepares, on the pool, the statements the transaction ran as text, now that it has
// let its connection go.
func (q *cachedTx) prepareMissed(ctx context.Context) {
	for query := range q.missed {
		if q.c.get(ctx, query) == nil {
			return // full, or the pool is closing
		}
	}
}
