package server

// The catalog the access rules read (accounts, permission sets, roles) is read for every request
// made, reviewed or shown, and at the scale it is thousands of roles (one per access list
// whose group is imported): about 130 ms to list and decode from SQLite each time. The server
// keeps the last one read, with a change feed (store.Watch) that drops it at any change to those
// kinds. It is used only when the feed has seen every write up to the store's revision at the time
// of the call, so what a caller gets is never older than a fresh read at that instant would be;
// otherwise (the feed behind, stopped, compacted) the catalog is read from the store as before.

import (
	"context"
	"sync"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// catalogInputs is what a policy.Catalog and the roles are made from. Shared: read-only.
type catalogInputs struct {
	accounts []policy.Account
	sets     []policy.PermissionSet
	roles    map[string]*resource.Object
}

// catalogCache is the server's last catalog and its change feed.
type catalogCache struct {
	mu   sync.Mutex
	cur  *catalogInputs // nil: none kept (never read, or a change since)
	seen int64          // the feed has seen every change up to this revision
	// gen counts the drops (a change to the catalog's kinds, the feed's end): a catalog read while
	// it moved may miss what moved it, and is not kept.
	gen uint64
	// feeding: the feed runs (started at the first read, stopped by an error or compaction).
	feeding bool
}

// catalogKinds are the kinds a change of which drops the kept catalog.
var catalogKinds = map[resource.Kind]bool{resource.KindAccount: true, resource.KindPermissionSet: true, resource.KindRole: true}

// catalogInputs returns the catalog's inputs as of now: the kept ones when the feed has seen
// every change up to the store's revision, else read from the store (and kept, when nothing
// dropped it meanwhile).
func (s *Server) catalogInputs(ctx context.Context) (*catalogInputs, error) {
	c := &s.catalogs
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.feeding && c.cur != nil && c.seen >= rev {
		in := c.cur
		c.mu.Unlock()
		return in, nil
	}
	gen := c.gen
	if !c.feeding {
		// The feed starts after rev, which the read below is not older than: whatever it misses
		// comes through the feed, and drops it.
		c.feeding, c.seen = true, rev
		go s.feedCatalog(rev + 1)
	}
	c.mu.Unlock()
	in, err := s.readCatalog(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.feeding && c.gen == gen {
		c.cur = in
	}
	c.mu.Unlock()
	return in, nil
}

// feedCatalog follows the store's changes from revision from, dropping the kept catalog at any
// change to its kinds, until the feed ends (the store closed, the revision compacted).
func (s *Server) feedCatalog(from int64) {
	c := &s.catalogs
	w := s.store.Watch(context.Background(), from)
	for ev := range w.Events {
		c.mu.Lock()
		if catalogKinds[ev.Object.Kind] {
			c.cur = nil
			c.gen++
		}
		c.seen = ev.Revision
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.cur, c.feeding = nil, false
	c.gen++
	c.mu.Unlock()
}

// readCatalog reads the accounts, permission sets and roles from the store.
func (s *Server) readCatalog(ctx context.Context) (*catalogInputs, error) {
	accounts, err := s.store.List(ctx, resource.KindAccount, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	in := &catalogInputs{accounts: make([]policy.Account, 0, len(accounts))}
	for _, a := range accounts {
		in.accounts = append(in.accounts, policy.Account{ID: a.Metadata.Name, Name: a.Spec.(*resource.AccountSpec).Name})
	}
	sets, err := s.store.List(ctx, resource.KindPermissionSet, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	in.sets = make([]policy.PermissionSet, 0, len(sets))
	for _, p := range sets {
		in.sets = append(in.sets, policy.PermissionSet{Name: p.Metadata.Name, ARN: p.Spec.(*resource.PermissionSetSpec).ARN})
	}
	roles, err := s.store.List(ctx, resource.KindRole, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	in.roles = make(map[string]*resource.Object, len(roles))
	for _, r := range roles {
		in.roles[r.Metadata.Name] = r
	}
	return in, nil
}
