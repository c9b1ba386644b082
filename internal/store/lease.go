package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// LeaseElector elects through a Leaser's expiring leases, renewed every TTL/3. It is the fallback
// for a store shared by processes that can neither lock it nor hold a session lock in it: a leader
// that dies is replaced only once its lease has expired (up to TTL), and its writes are not fenced.
type LeaseElector struct {
	Leaser Leaser
	TTL    time.Duration
}

// Campaign waits until the lease is this holder's. An error taking it is returned (the caller
// campaigns again).
func (l LeaseElector) Campaign(ctx context.Context, name, holder string) (Term, error) {
	for {
		got, err := l.Leaser.AcquireLease(ctx, name, holder, l.TTL)
		if err != nil {
			return nil, fmt.Errorf("taking the %s lease: %w", name, err)
		}
		if got {
			break
		}
		t := time.NewTimer(l.TTL / 3)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := &leaseTerm{l: l, name: name, holder: holder, done: make(chan struct{}), cancel: cancel}
	go t.renew(rctx)
	return t, nil
}

type leaseTerm struct {
	l            LeaseElector
	name, holder string
	cancel       context.CancelFunc
	done         chan struct{}
	once         sync.Once
	err          error
}

// renew renews the lease every TTL/3, each renewal within TTL/3, and ends the term when one fails.
func (t *leaseTerm) renew(ctx context.Context) {
	tick := time.NewTicker(t.l.TTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, t.l.TTL/3)
		ok, err := t.l.Leaser.AcquireLease(rctx, t.name, t.holder, t.l.TTL)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if !ok || err != nil {
			if err == nil {
				err = fmt.Errorf("the %s lease was taken by another holder", t.name)
			}
			t.end(fmt.Errorf("renewing the %s lease: %w", t.name, err))
			return
		}
	}
}

func (t *leaseTerm) end(err error) {
	t.once.Do(func() { t.err = err; t.cancel(); close(t.done) })
}

func (t *leaseTerm) Epoch() int64                              { return 0 }
func (t *leaseTerm) Done() <-chan struct{}                     { return t.done }
func (t *leaseTerm) Fence(ctx context.Context) context.Context { return ctx }

func (t *leaseTerm) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

// Resign stops renewing and releases the lease.
func (t *leaseTerm) Resign(ctx context.Context) error {
	t.end(ErrResigned)
	return t.l.Leaser.ReleaseLease(ctx, t.name, t.holder)
}
