// Package notify tells webhooks what happens to access requests and access lists.
//
// Sources. Changes come from the audit log, which is written in the same transaction as every
// change and carries the request before and after it: a new PENDING request is request.created, a
// review that leaves it pending request.reviewed, the review that decides it request.approved or
// request.denied, a cancel request.cancelled and an administrator's revoke request.revoked (an
// approved request ended early sends that, not request.expired). Time makes the others, fired by a
// timer at their instant whatever the store says (EXPIRED is written lazily, when a request is next
// read): request.started when an approved window begins (for an immediate start, once, right after
// request.approved), request.expired when it ends or when a pending request outlives the pending
// TTL (the lazy EXPIRED write sends nothing more), and list.review_overdue once per list and due
// date when an access list's next review date passes. A window that began while no notifier ran
// and ended (EXPIRED, cancelled, revoked) before one did still gets its request.started, first.
//
// Progress. One replica notifies: the holder of the "notify" lease in the store. Its progress is a
// notify_state record in the store: the last audit entry handled, a time floor below which
// time-driven events are settled, the time-driven events sent since the floor, the review dates
// notified per list, and the outbox of deliveries not yet made. Events are added to the outbox and
// the progress moved in one write, before anything is sent; a delivery leaves the outbox once made
// or given up. So a restart, or another replica taking over, sends what happened meanwhile and
// resends nothing already delivered, except deliveries made in the instant before a crash:
// delivery is at least once, and a resend carries the same delivery id (X-Warden-Delivery), made
// from the webhook's name and the event.
//
// Delivery. Each webhook has one worker sending its deliveries in order, apart from request
// handling, which never waits for it. An attempt times out after Timeout; network errors, 5xx and
// 429 are retried with exponential backoff (or after the Retry-After asked for) until MaxAttempts
// or MaxAge, then given up and logged; other answers are final. Redirects are not followed (they
// would carry the body, the signature and the webhook's headers to another place): a 3xx is a
// failed attempt, retried like a 5xx.
//
// Secrets. A webhook's URL is often its credential (Slack's is), and its headers and signing secret
// are credentials: logs name a webhook by its configured name and its scheme and host only, never
// its path, query, user info or header values, and errors are logged with those taken out.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// LeaseName is the store lease held by the replica that notifies.
const LeaseName = "notify"

// stateName names the notify_state record.
const stateName = "notifier"

// Debounce is how long the notifier waits after a store change for more before looking.
const Debounce = 50 * time.Millisecond

// Option sets an optional setting.
type Option func(*Notifier)

// WithLogger logs to l.
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithPendingTTL is how long requests wait for reviews (the server's requests.pending_ttl).
func WithPendingTTL(d time.Duration) Option {
	return func(n *Notifier) {
		if d > 0 {
			n.pendingTTL = d
		}
	}
}

// WithGetenv reads the secrets named by secret_env and headers_env with getenv (default os.Getenv).
func WithGetenv(getenv func(string) string) Option { return func(n *Notifier) { n.getenv = getenv } }

// WithHTTPClient sends with (a copy of) c. Redirects are never followed, whatever c's CheckRedirect.
func WithHTTPClient(c *http.Client) Option { return func(n *Notifier) { n.client = c } }

// WithRetryBase sets the pause after a first failed attempt (default 1s); it doubles after each
// failure, up to maxBackoff (default 5m).
func WithRetryBase(base, maxBackoff time.Duration) Option {
	return func(n *Notifier) { n.retryBase, n.maxBackoff = base, maxBackoff }
}

// WithClock makes the notifier read the time from c and wait on its timers: when windows start and
// end, when pending requests and list reviews fall due, how long a failed delivery waits (tests move
// a fake clock instead of sleeping). The lease stays on real time: the store judges it.
func WithClock(c clock.Clock) Option { return func(n *Notifier) { n.clock = c } }

// WithLeaseTTL sets how long the notifying replica's lease lasts without renewal (default 15s).
func WithLeaseTTL(d time.Duration) Option { return func(n *Notifier) { n.leaseTTL = d } }

// WithBaseURL sets the web UI's address (config ui.base_url): every request event then carries the
// request page's link (<base>/requests/<id>) and every list event the list's (<base>/lists/<name>),
// in the json form's url and on the slack form's second line.
func WithBaseURL(base string) Option {
	return func(n *Notifier) { n.baseURL = strings.TrimSuffix(base, "/") }
}

// Notifier turns store changes and time into events and delivers them to webhooks.
type Notifier struct {
	store       store.Store
	cfg         Config
	hooks       []*hook
	log         *slog.Logger
	getenv      func(string) string
	client      *http.Client
	clock       clock.Clock
	pendingTTL  time.Duration
	timeout     time.Duration
	maxAttempts int
	maxAge      time.Duration
	retryBase   time.Duration
	maxBackoff  time.Duration
	leaseTTL    time.Duration
	// baseURL is the web UI's address, for the links events carry (empty: none).
	baseURL string
	// lookback: time-driven events are looked for this far behind now, for changes committed a
	// little after the instant they concern (an immediate start is the second of the approval).
	lookback time.Duration
	// period: the notifier looks even when nothing woke it.
	period   time.Duration
	counters *prometheus.CounterVec

	// While Run runs: its goroutine alone touches st; the outbox is shared with the workers.
	st         *resource.NotifyStateSpec
	rev        int64
	savedFloor time.Time
	mu         sync.Mutex
	outbox     []*delivery
	dirty      bool
	queues     map[string]*queue
}

// New makes a notifier for the webhooks of cfg (validated), reading their secrets.
func New(st store.Store, cfg Config, opts ...Option) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{store: st, cfg: cfg, log: slog.New(slog.DiscardHandler), getenv: os.Getenv, client: &http.Client{},
		clock: clock.Real(), pendingTTL: access.DefaultPendingTTL, timeout: cfg.Timeout, maxAttempts: cfg.MaxAttempts,
		maxAge: cfg.MaxAge, retryBase: time.Second, maxBackoff: 5 * time.Minute, leaseTTL: 15 * time.Second,
		lookback: 5 * time.Minute, period: 30 * time.Second}
	for _, o := range opts {
		o(n)
	}
	if n.timeout == 0 {
		n.timeout = DefaultTimeout
	}
	if n.maxAttempts == 0 {
		n.maxAttempts = DefaultMaxAttempts
	}
	if n.maxAge == 0 {
		n.maxAge = DefaultMaxAge
	}
	// A redirect would re-send the body, the signature and the webhook's headers (credentials among
	// them) to wherever the receiver points: never follow one.
	c := *n.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.client = &c
	hooks, err := cfg.resolve(n.getenv)
	if err != nil {
		return nil, err
	}
	n.hooks = hooks
	return n, nil
}

func (n *Notifier) now() time.Time { return n.clock.Now() }

// RegisterMetrics adds warden_notifications_total to reg.
func (n *Notifier) RegisterMetrics(reg prometheus.Registerer) error {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warden_notifications_total",
		Help: "Webhook deliveries finished, by webhook and result (delivered, refused, given_up)."}, []string{"webhook", "result"})
	if err := reg.Register(c); err != nil {
		return err
	}
	n.counters = c
	return nil
}

func (n *Notifier) count(webhook, result string) {
	if n.counters != nil {
		n.counters.WithLabelValues(webhook, result).Inc()
	}
}

// RunLeader notifies while this process holds the notify lease, so that of several replicas
// sharing a store exactly one does; holder names this process. It returns when ctx ends.
func (n *Notifier) RunLeader(ctx context.Context, holder string) {
	leaser, ok := n.store.(store.Leaser)
	for ctx.Err() == nil {
		var err error
		if !ok {
			err = n.Run(ctx)
		} else {
			got, lerr := leaser.AcquireLease(ctx, LeaseName, holder, n.leaseTTL)
			if lerr != nil && ctx.Err() == nil {
				n.log.Warn("notifications: taking the lease", "err", lerr)
			}
			if !got {
				sleep(ctx, n.leaseTTL/3)
				continue
			}
			n.log.Info("notifications: this replica sends them", "holder", holder, "webhooks", len(n.hooks))
			err = n.lead(ctx, leaser, holder)
		}
		if err != nil && ctx.Err() == nil {
			n.log.Error("notifications stopped; starting again shortly", "err", err)
			sleep(ctx, 5*time.Second)
		}
	}
}

// lead runs the notifier while the lease is renewed, and gives the lease up after.
func (n *Notifier) lead(ctx context.Context, leaser store.Leaser, holder string) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(lctx) }()
	defer func() {
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
		leaser.ReleaseLease(rctx, LeaseName, holder)
		rcancel()
	}()
	renew := time.NewTicker(n.leaseTTL / 3)
	defer renew.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-renew.C:
			rctx, rcancel := context.WithTimeout(lctx, n.leaseTTL/3) // renew in time or step down
			ok, err := leaser.AcquireLease(rctx, LeaseName, holder, n.leaseTTL)
			rcancel()
			if (!ok || err != nil) && ctx.Err() == nil {
				n.log.Warn("notifications: lost the lease; stepping down", "err", err)
				cancel()
				return <-done
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Run notifies until ctx ends (nil) or its progress cannot be kept (an error). Run it in one
// process at a time per store: RunLeader sees to that.
func (n *Notifier) Run(ctx context.Context) error {
	err := n.run(ctx)
	if ctx.Err() != nil {
		return nil // ended, even if it was still starting (a read cut short is no failure)
	}
	return err
}

func (n *Notifier) run(ctx context.Context) error {
	rev, err := n.store.Revision(ctx)
	if err != nil {
		return err
	}
	if err := n.load(ctx); err != nil {
		return err
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	n.queues = map[string]*queue{}
	for _, h := range n.hooks {
		q := newQueue()
		n.queues[h.Name] = q
		wg.Add(1)
		go func() { defer wg.Done(); n.worker(wctx, h, q) }()
	}
	n.mu.Lock()
	kept := n.outbox[:0]
	for _, d := range n.outbox {
		if q := n.queues[d.Webhook]; q != nil {
			q.push(d)
			kept = append(kept, d)
		} else {
			n.log.Warn("notification dropped: its webhook is no longer configured", "webhook", d.Webhook, "event", d.Event.Type)
			n.dirty = true
		}
	}
	n.outbox = kept
	n.mu.Unlock()
	defer func() {
		stopWorkers()
		wg.Wait()
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.flush(fctx); err != nil {
			n.log.Warn("notifications: saving progress at stop", "err", err)
		}
	}()

	watch := n.store.Watch(ctx, rev+1)
	// Two timers: timer, in the notifier's clock, for the next instant something falls due; settle,
	// in real time, lets the changes of one write (and a burst of writes) settle before a look.
	timer := n.clock.NewTimer(0)
	defer timer.Stop()
	timer.Stop()
	settle := time.NewTimer(0) // the first look, at once
	defer settle.Stop()
	settling := true
	var due time.Time
	wakeAt := func(t time.Time) {
		if t.IsZero() || (!due.IsZero() && !t.Before(due)) {
			return
		}
		due = t
		timer.Reset(max(0, t.Sub(n.now())))
	}
	look := func() {
		if !settling {
			settling = true
			settle.Reset(0)
		}
	}
	// Finished deliveries are saved in batches (every change saved wakes the other watchers of the
	// store); a crash in between resends them, with their ids.
	flush := time.NewTicker(2 * time.Second)
	defer flush.Stop()
	periodic := n.clock.NewTicker(n.period)
	defer periodic.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-watch.Events:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if err := watch.Err(); err != nil {
					n.log.Warn("notifications: store watch ended; restarting it", "err", err)
				}
				rev, _ = n.store.Revision(ctx)
				watch = n.store.Watch(ctx, rev+1)
				look()
				continue
			}
			switch ev.Object.Kind {
			case resource.KindAccessRequest, resource.KindAccessList, resource.KindIDCSCIMToken:
				// Their audit entries are in the same transaction: read them now. Other changes
				// (sync records and the sync's own audit entries among them) make no notification.
				if !settling {
					settling = true
					settle.Reset(Debounce)
				}
			}
			continue
		case <-periodic.C():
			look()
			continue
		case <-flush.C:
			if err := n.flush(ctx); err != nil {
				return err
			}
			continue
		case <-timer.C():
			due = time.Time{}
		case <-settle.C:
			settling = false
		}
		next, err := n.step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists):
			return fmt.Errorf("notifications: another process changed their progress: %w", err)
		case err != nil:
			// The progress in memory may be ahead of the store's: start again from the store's.
			return err
		}
		wakeAt(next)
	}
}

// Init makes notifications start from now (the end of the audit log) unless they have started
// already. Call it before serving, so that at the very first start nothing done through the
// server is missed; Run calls it too.
func (n *Notifier) Init(ctx context.Context) error {
	_, err := n.store.Get(ctx, resource.KindNotifyState, stateName)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	seq, err := audit.Last(ctx, n.store)
	if err != nil {
		return err
	}
	o := &resource.Object{Kind: resource.KindNotifyState, Version: resource.Version, Metadata: resource.Metadata{Name: stateName},
		Spec: &resource.NotifyStateSpec{Seq: seq, Floor: n.now().UTC()}}
	err = n.store.Create(ctx, o)
	if errors.Is(err, store.ErrAlreadyExists) {
		return nil // another replica's
	}
	if err != nil {
		return fmt.Errorf("notifications: recording where they start: %w", err)
	}
	n.log.Info("notifications start from now", "audit_seq", seq)
	return nil
}

// load reads the progress.
func (n *Notifier) load(ctx context.Context) error {
	n.mu.Lock()
	n.outbox, n.dirty = nil, false
	n.mu.Unlock()
	if err := n.Init(ctx); err != nil {
		return err
	}
	o, err := n.store.Get(ctx, resource.KindNotifyState, stateName)
	if err != nil {
		return fmt.Errorf("notifications: reading their progress: %w", err)
	}
	n.st, n.rev = o.Spec.(*resource.NotifyStateSpec), o.Metadata.Revision
	n.savedFloor = n.st.Floor
	if n.st.Sent == nil {
		n.st.Sent = map[string]time.Time{}
	}
	if n.st.Lists == nil {
		n.st.Lists = map[string]time.Time{}
	}
	for _, raw := range n.st.Outbox {
		d := new(delivery)
		if err := json.Unmarshal(raw, d); err != nil {
			n.log.Warn("notification dropped: unreadable outbox entry", "err", err)
			continue
		}
		n.outbox = append(n.outbox, d)
	}
	n.st.Outbox = nil
	return nil
}

// flush saves the progress if deliveries finished since the last save.
func (n *Notifier) flush(ctx context.Context) error {
	n.mu.Lock()
	dirty := n.dirty
	n.mu.Unlock()
	if !dirty {
		return nil
	}
	return n.save(ctx)
}

// save writes the progress and the outbox.
func (n *Notifier) save(ctx context.Context) error {
	n.mu.Lock()
	spec := *n.st
	spec.Outbox = make([]json.RawMessage, 0, len(n.outbox))
	for _, d := range n.outbox {
		b, err := json.Marshal(d)
		if err != nil {
			n.mu.Unlock()
			return err
		}
		spec.Outbox = append(spec.Outbox, b)
	}
	n.dirty = false
	n.mu.Unlock()
	o := &resource.Object{Kind: resource.KindNotifyState, Version: resource.Version,
		Metadata: resource.Metadata{Name: stateName, Revision: n.rev}, Spec: &spec}
	var err error
	if n.rev == 0 {
		err = n.store.Create(ctx, o)
	} else {
		err = n.store.Update(ctx, o)
	}
	if err != nil {
		n.mu.Lock()
		n.dirty = true
		n.mu.Unlock()
		return fmt.Errorf("notifications: saving their progress: %w", err)
	}
	n.rev, n.savedFloor = o.Metadata.Revision, spec.Floor
	return nil
}

// done takes a finished delivery out of the outbox.
func (n *Notifier) done(d *delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, x := range n.outbox {
		if x == d {
			n.outbox = append(n.outbox[:i], n.outbox[i+1:]...)
			n.dirty = true
			return
		}
	}
}

// step finds the events since the last step, puts their deliveries in the outbox, saves the
// progress, and hands the deliveries to the workers. It returns when the next time-driven event
// falls due (zero: none known).
func (n *Notifier) step(ctx context.Context) (time.Time, error) {
	now := n.now()
	// What time acts on is read before the audit log, so that every change it shows has its audit
	// entry read below, first: request.approved comes before request.started.
	var reqs []*resource.Object
	for _, state := range []string{resource.StateApproved, resource.StatePending} {
		objs, err := n.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Filters: store.Filter(resource.IndexState, state)})
		if err != nil {
			return time.Time{}, err
		}
		reqs = append(reqs, objs...)
	}
	lists, err := n.store.List(ctx, resource.KindAccessList, store.ListOptions{})
	if err != nil {
		return time.Time{}, err
	}
	var tokens []resource.IDCSCIMToken
	switch o, err := n.store.Get(ctx, resource.KindIDCSCIMToken, resource.IDCSCIMTokenName); {
	case err == nil:
		tokens = o.Spec.(*resource.IDCSCIMTokenSpec).Tokens
	case !errors.Is(err, store.ErrNotFound):
		return time.Time{}, err
	}
	seq0, changed := n.st.Seq, false
	var events []Event
	for {
		page, err := audit.After(ctx, n.store, n.st.Seq, 256)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range page {
			events = append(events, n.fromAudit(e)...)
			n.st.Seq = e.Seq
		}
		if len(page) < 256 {
			break
		}
	}
	timed, listsChanged := n.fromTime(reqs, lists, now)
	events = append(events, timed...)
	events = append(events, n.fromTokens(tokens, now)...)
	changed = n.st.Seq != seq0 || listsChanged || len(events) > 0
	if floor := now.Add(-n.lookback).UTC(); floor.After(n.st.Floor) {
		n.st.Floor = floor
		for k, t := range n.st.Sent {
			if !t.After(floor) {
				delete(n.st.Sent, k)
			}
		}
		if floor.Sub(n.savedFloor) >= time.Minute {
			changed = true
		}
	}
	var fresh []*delivery
	for i := range events {
		e := &events[i]
		for _, h := range n.hooks {
			if h.wants(e.Type) {
				fresh = append(fresh, &delivery{ID: deliveryID(h.Name, e.Key), Webhook: h.Name, Created: now.UTC(), Event: *e})
			}
		}
	}
	if changed {
		n.mu.Lock()
		n.outbox = append(n.outbox, fresh...)
		n.mu.Unlock()
		if err := n.save(ctx); err != nil {
			return time.Time{}, err // Run ends: the progress in memory is ahead of the store's
		}
	}
	for _, d := range fresh {
		n.queues[d.Webhook].push(d)
	}
	for _, e := range events {
		n.log.Debug("notification", "event", e.Type, "key", e.Key)
	}
	next := n.nextInstant(reqs, lists, now)
	for _, t := range tokens {
		if at := tokenWarning(t); at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next, nil
}

// tokenWarning is when a SCIM token's expiry is notified: 30 days before, or when it was set if
// that was later.
func tokenWarning(t resource.IDCSCIMToken) time.Time {
	at := t.Expires.Add(-resource.IDCSCIMTokenWarning)
	if t.SetAt.After(at) {
		at = t.SetAt
	}
	return at.UTC()
}

// fromTokens finds the SCIM tokens whose warning falls due by now, once each.
func (n *Notifier) fromTokens(tokens []resource.IDCSCIMToken, now time.Time) []Event {
	var out []Event
	for _, t := range tokens {
		at := tokenWarning(t)
		key := SCIMTokenExpiring + "/" + t.ID
		if at.After(now) || !at.After(n.st.Floor) {
			continue
		}
		if _, sent := n.st.Sent[key]; sent {
			continue
		}
		n.st.Sent[key] = at
		out = append(out, Event{Key: key, Type: SCIMTokenExpiring, Time: at, Token: &Token{ID: t.ID, Expires: t.Expires.UTC()}})
	}
	return out
}

func decodeObject(raw json.RawMessage) *resource.Object {
	if len(raw) == 0 {
		return nil
	}
	o := new(resource.Object)
	if err := json.Unmarshal(raw, o); err != nil {
		return nil
	}
	return o
}

func stateOf(o *resource.Object) string {
	if s := o.Spec.(*resource.AccessRequestSpec).State; s != "" {
		return s
	}
	return resource.StatePending
}

func expiredKey(id string) string { return RequestExpired + "/" + id }
func startedKey(id string) string { return RequestStarted + "/" + id }

// fromAudit turns one audit entry into events: a request's transitions.
func (n *Notifier) fromAudit(e *resource.AuditEntrySpec) []Event {
	if e.Kind != resource.KindAccessRequest {
		return nil
	}
	before, after := decodeObject(e.Before), decodeObject(e.After)
	if after == nil || after.Kind != resource.KindAccessRequest || (before != nil && before.Kind != resource.KindAccessRequest) {
		return nil
	}
	spec := after.Spec.(*resource.AccessRequestSpec)
	ev := func(typ string) Event {
		return Event{Key: fmt.Sprintf("%s/%s/%d", typ, after.Metadata.Name, e.Seq), Type: typ, Time: e.Time, Actor: e.Actor, Request: requestOf(after)}
	}
	decided := func(typ string) []Event {
		x := ev(typ)
		if k := len(spec.Reviews); k > 0 && (before == nil || k > len(before.Spec.(*resource.AccessRequestSpec).Reviews)) {
			r := reviewOf(spec.Reviews[k-1])
			x.Review = &r
		}
		return []Event{x}
	}
	to := stateOf(after)
	if before == nil {
		if to == resource.StatePending {
			return []Event{ev(RequestCreated)}
		}
		return nil
	}
	from := stateOf(before)
	switch {
	case from == to && to == resource.StatePending:
		var out []Event
		old := len(before.Spec.(*resource.AccessRequestSpec).Reviews)
		for i := old; i < len(spec.Reviews); i++ {
			x := ev(RequestReviewed)
			x.Key = fmt.Sprintf("%s/%d", x.Key, i)
			r := reviewOf(spec.Reviews[i])
			x.Review = &r
			out = append(out, x)
		}
		return out
	case from == to:
		return nil
	case to == resource.StateApproved:
		out := decided(RequestApproved)
		// An immediate start is the approval's own instant: started follows approved at once (the
		// timer fires the others), even if the request is revoked before the timer looks. This entry
		// is read once, so no floor applies (the start, cut to the second, may be just below it).
		if spec.Start != nil && !spec.Start.After(e.Time) && (spec.End == nil || spec.Start.Before(*spec.End)) {
			key := startedKey(after.Metadata.Name)
			if _, sent := n.st.Sent[key]; !sent {
				n.st.Sent[key] = spec.Start.UTC()
				x := ev(RequestStarted)
				x.Key, x.Time, x.Actor = key, spec.Start.UTC(), ""
				out = append(out, x)
			}
		}
		return out
	case to == resource.StateDenied:
		return decided(RequestDenied)
	case to == resource.StateCancelled:
		out := n.missedStart(before, e)
		if e.Action == "revoke" {
			return append(out, ev(RequestRevoked))
		}
		return append(out, ev(RequestCancelled))
	case to == resource.StateExpired:
		// Written lazily: the timer has said so already, unless this came first.
		at, cause := e.Time, CauseNotReviewed
		if b := before.Spec.(*resource.AccessRequestSpec); from == resource.StateApproved && b.End != nil {
			at, cause = *b.End, CauseWindowEnded
		} else if from == resource.StatePending {
			at = before.Metadata.CreatedAt.Add(n.pendingTTL)
		}
		key := expiredKey(after.Metadata.Name)
		if _, sent := n.st.Sent[key]; sent || !at.After(n.st.Floor) {
			return nil
		}
		n.st.Sent[key] = at.UTC()
		x := ev(RequestExpired)
		x.Key, x.Time, x.Actor, x.Cause = key, at.UTC(), "", cause
		return append(n.missedStart(before, e), x)
	}
	return nil
}

// missedStart is request.started for an approved request that ends (e) after its window began
// without the timer having seen it begin: the notifier was stopped meanwhile.
func (n *Notifier) missedStart(before *resource.Object, e *resource.AuditEntrySpec) []Event {
	s := before.Spec.(*resource.AccessRequestSpec)
	key := startedKey(before.Metadata.Name)
	if stateOf(before) != resource.StateApproved || s.Start == nil || s.Start.After(e.Time) || !s.Start.After(n.st.Floor) {
		return nil
	}
	if _, sent := n.st.Sent[key]; sent {
		return nil
	}
	n.st.Sent[key] = s.Start.UTC()
	return []Event{{Key: key, Type: RequestStarted, Time: s.Start.UTC(), Request: requestOf(before)}}
}

// fromTime finds the time-driven events due by now: windows started and ended, pending requests
// past their TTL, list reviews overdue. It reports whether the lists notified changed.
func (n *Notifier) fromTime(reqs, lists []*resource.Object, now time.Time) ([]Event, bool) {
	var out []Event
	fire := func(o *resource.Object, typ, key, cause string, at time.Time) {
		if at.After(now) || !at.After(n.st.Floor) {
			return
		}
		if _, sent := n.st.Sent[key]; sent {
			return
		}
		n.st.Sent[key] = at.UTC()
		r := requestOf(o)
		if typ == RequestExpired {
			r.State = resource.StateExpired
		}
		out = append(out, Event{Key: key, Type: typ, Time: at.UTC(), Cause: cause, Request: r})
	}
	for _, o := range reqs {
		s := o.Spec.(*resource.AccessRequestSpec)
		switch stateOf(o) {
		case resource.StateApproved:
			if s.Start != nil && (s.End == nil || s.Start.Before(*s.End)) {
				fire(o, RequestStarted, startedKey(o.Metadata.Name), "", *s.Start)
			}
			if s.End != nil {
				fire(o, RequestExpired, expiredKey(o.Metadata.Name), CauseWindowEnded, *s.End)
			}
		case resource.StatePending:
			fire(o, RequestExpired, expiredKey(o.Metadata.Name), CauseNotReviewed, o.Metadata.CreatedAt.Add(n.pendingTTL))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Type == RequestStarted && out[j].Type != RequestStarted
	})
	changed := false
	due := map[string]bool{}
	for _, o := range lists {
		s := o.Spec.(*resource.AccessListSpec)
		if !access.ReviewDue(s, now) {
			continue
		}
		name, date := o.Metadata.Name, s.Audit.NextAuditDate.UTC()
		due[name] = true
		if prev, ok := n.st.Lists[name]; ok && prev.Equal(date) {
			continue
		}
		n.st.Lists[name], changed = date, true
		out = append(out, Event{Key: fmt.Sprintf("%s/%s/%s", ListReviewDue, name, date.Format(time.RFC3339)), Type: ListReviewDue,
			Time: date, List: listOf(o)})
	}
	for name := range n.st.Lists {
		if !due[name] {
			delete(n.st.Lists, name) // reviewed (a later date) or deleted
			changed = true
		}
	}
	return out, changed
}

// nextInstant is the earliest time-driven event after now.
func (n *Notifier) nextInstant(reqs, lists []*resource.Object, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, o := range reqs {
		s := o.Spec.(*resource.AccessRequestSpec)
		switch stateOf(o) {
		case resource.StateApproved:
			if s.Start != nil {
				consider(*s.Start)
			}
			if s.End != nil {
				consider(*s.End)
			}
		case resource.StatePending:
			consider(o.Metadata.CreatedAt.Add(n.pendingTTL))
		}
	}
	for _, o := range lists {
		if a := o.Spec.(*resource.AccessListSpec).Audit; a != nil && a.NextAuditDate != nil {
			consider(*a.NextAuditDate)
		}
	}
	return next
}
