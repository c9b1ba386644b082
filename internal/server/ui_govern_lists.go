package server

// The access lists page is sorted by review due date, and the store orders by name only: sorting
// needs every list. Read from SQLite that is 5,000 lists decoded for every page (about 80 ms at the
// issue's scale, measured by BenchmarkUIPages). So the server keeps a summary of every list (name,
// title, owners, granted roles, review schedule: no members), sorted, and follows the store's
// change feed to keep it current:
//
//   - the feed starts at the store's revision R0, then the summaries are read (as of some R >= R0);
//     every change after R0 is applied in order, so once the feed has passed R the summaries are
//     the store's (a change already in the read is applied again, the same state, before later
//     ones);
//   - a page uses them only when the feed has seen every change up to the store's revision at the
//     time of the call (it waits a few milliseconds for the feed to catch up), so what it shows is
//     never older than a fresh read would be; otherwise (the feed behind, ended) it reads every
//     list from the store as before.

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// listSummary is what the lists page shows of a list. Shared and never changed once made.
type listSummary struct {
	Name, Title string
	// lower is the name, title and owners in lower case, for the text filter.
	lower  string
	Owners []string
	Roles  []string
	Audit  *resource.Audit
}

// Due is when the list's next review is due (nil: no schedule, or no date).
func (l *listSummary) Due() *time.Time {
	if l.Audit == nil {
		return nil
	}
	return l.Audit.NextAuditDate
}

func summarize(o *resource.Object) *listSummary {
	l := o.Spec.(*resource.AccessListSpec)
	var a *resource.Audit
	if l.Audit != nil {
		c := *l.Audit
		if c.NextAuditDate != nil {
			d := *c.NextAuditDate
			c.NextAuditDate = &d
		}
		a = &c
	}
	return &listSummary{Name: o.Metadata.Name, Title: l.Title, Owners: append([]string(nil), l.Owners...),
		Roles: append([]string(nil), l.Grants.Roles...), Audit: a,
		lower: strings.ToLower(o.Metadata.Name + "\n" + l.Title + "\n" + strings.Join(l.Owners, "\n"))}
}

// sortByDue orders lists by review due date, soonest (the most overdue) first; lists without a
// date after them, by name.
func sortByDue(out []*listSummary) {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Due(), out[j].Due()
		switch {
		case a != nil && b != nil && !a.Equal(*b):
			return a.Before(*b)
		case (a == nil) != (b == nil):
			return a != nil
		}
		return out[i].Name < out[j].Name
	})
}

// listIndex is the server's summaries of every list and its change feed.
type listIndex struct {
	mu     sync.Mutex
	byName map[string]*listSummary
	// sorted is byName sorted by due date (nil: to sort again); readers share it.
	sorted []*listSummary
	// seen: every change up to this revision is applied; ready: the summaries were read.
	seen  int64
	ready bool
	// running: the feed runs (started by the first page, ended by the store's closing or a
	// compaction); moved is closed, and replaced, whenever seen moves or the feed ends.
	running bool
	moved   chan struct{}
}

// listWait is how long a page waits for the feed to catch up before reading the store instead.
const listWait = 25 * time.Millisecond

// listSummaries returns every list, sorted by review due date, as of the store's revision now.
func (s *Server) listSummaries(ctx context.Context) ([]*listSummary, error) {
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return nil, err
	}
	x := &s.lists
	x.mu.Lock()
	if !x.running {
		x.running, x.ready, x.byName, x.sorted = true, false, nil, nil
		x.moved = make(chan struct{})
		go s.feedLists()
	}
	deadline := time.NewTimer(listWait)
	defer deadline.Stop()
	for late := false; x.running && !(x.ready && x.seen >= rev) && !late; {
		moved := x.moved
		x.mu.Unlock()
		select {
		case <-moved:
		case <-deadline.C:
			late = true
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		x.mu.Lock()
	}
	if x.running && x.ready && x.seen >= rev {
		if x.sorted == nil {
			out := make([]*listSummary, 0, len(x.byName))
			for _, l := range x.byName {
				out = append(out, l)
			}
			sortByDue(out)
			x.sorted = out
		}
		out := x.sorted
		x.mu.Unlock()
		return out, nil
	}
	x.mu.Unlock()
	objs, err := s.accessLists(ctx, false) // the feed is behind: read the store
	if err != nil {
		return nil, err
	}
	out := make([]*listSummary, 0, len(objs))
	for _, o := range objs {
		out = append(out, summarize(o))
	}
	sortByDue(out)
	return out, nil
}

// feedLists reads every list's summary and follows the store's changes, until the feed ends.
func (s *Server) feedLists() {
	x := &s.lists
	ctx := context.Background()
	defer func() {
		x.mu.Lock()
		x.running, x.ready, x.byName, x.sorted = false, false, nil, nil
		close(x.moved)
		x.mu.Unlock()
	}()
	from, err := s.store.Revision(ctx)
	if err != nil {
		s.log.Warn("access lists page: reading the store's revision", "err", err)
		return
	}
	// The feed is opened first, from the revision read before the lists: it holds every change
	// the read may have missed.
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	w := s.store.Watch(watchCtx, from+1)
	objs, err := s.store.List(ctx, resource.KindAccessList, store.ListOptions{})
	if err != nil {
		s.log.Warn("access lists page: reading the lists", "err", err)
		return
	}
	byName := make(map[string]*listSummary, len(objs))
	for _, o := range objs {
		byName[o.Metadata.Name] = summarize(o)
	}
	x.mu.Lock()
	x.byName, x.sorted, x.seen, x.ready = byName, nil, from, true
	close(x.moved)
	x.moved = make(chan struct{})
	x.mu.Unlock()
	for ev := range w.Events {
		x.mu.Lock()
		if ev.Object.Kind == resource.KindAccessList {
			if ev.Type == store.Delete {
				delete(x.byName, ev.Object.Metadata.Name)
			} else {
				x.byName[ev.Object.Metadata.Name] = summarize(ev.Object)
			}
			x.sorted = nil
		}
		x.seen = ev.Revision
		close(x.moved)
		x.moved = make(chan struct{})
		x.mu.Unlock()
	}
	if err := w.Err(); err != nil {
		s.log.Info("access lists page: the change feed ended; lists are read from the store until the next page starts it again", "err", err)
	}
}
