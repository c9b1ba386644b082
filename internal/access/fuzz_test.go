package access_test

import (
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/resource"
)

var ended = map[string]bool{resource.StateDenied: true, resource.StateExpired: true, resource.StateCancelled: true}

// FuzzRequestLifecycle drives a request through reviews, cancellations, expiries and the passing
// of time, as the fuzzer orders them, through the package's exported rules, and checks what people
// rely on: an ended request never changes again; an approved one has a window no longer than its
// terms allow, starting no earlier than asked; cancelling never extends a window; nothing expires
// before it is due.
func FuzzRequestLifecycle(f *testing.F) {
	f.Add("2h", int64(8*3600), uint8(1), uint8(1), int64(0), []byte{0, 4, 8})
	f.Add("", int64(3600), uint8(2), uint8(1), int64(7200), []byte{0, 0, 2, 3})
	f.Add("90m", int64(12*3600), uint8(2), uint8(2), int64(-60), []byte{1, 0, 1, 255, 3})
	f.Add("9999999h", int64(1), uint8(0), uint8(0), int64(1<<40), []byte{0, 2})
	f.Add("-1h", int64(3600), uint8(1), uint8(1), int64(0), []byte{0})
	f.Add("1ns", int64(3600), uint8(3), uint8(3), int64(0), []byte{0, 128, 0, 128, 0, 2, 3, 3})
	f.Fuzz(func(t *testing.T, duration string, maxSeconds int64, approvals, denials uint8, startIn int64, ops []byte) {
		if maxSeconds <= 0 || maxSeconds > 366*24*3600 || len(ops) > 64 {
			return // terms come from validated roles: a positive max_duration of at most a year
		}
		terms := &access.Terms{MaxDuration: time.Duration(maxSeconds) * time.Second, Approvals: max(1, int(approvals%4)), Denials: max(1, int(denials%4))}
		created := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
		now := created
		req := &resource.AccessRequestSpec{User: "requester", Roles: []string{"role"}, Duration: duration, State: resource.StatePending}
		if startIn != 0 {
			start := created.Add(time.Duration(startIn%(400*24*3600)) * time.Second)
			req.Start = &start
		}
		asked := req.Start
		fuzzcheck.Limit(t, func() {
			for i, op := range ops {
				before := *req
				var err error
				switch op % 4 {
				case 0, 1:
					decision := resource.DecisionApprove
					if op%4 == 1 {
						decision = resource.DecisionDeny
					}
					_, err = access.Review(req, terms, resource.Review{Author: string(rune('a' + i)), Decision: decision}, now)
					if err == nil && before.State != resource.StatePending {
						t.Fatalf("a %s request was reviewed", before.State)
					}
				case 2:
					err = access.Cancel(req, now)
					if err == nil && before.State == resource.StateApproved && req.End != nil && before.End != nil && req.End.After(*before.End) {
						t.Fatalf("cancelling at %s moved the end from %s to %s", now, before.End, req.End)
					}
				case 3:
					expired := access.Expire(req, created, access.DefaultPendingTTL, now)
					if expired && before.State == resource.StatePending && now.Before(created.Add(access.DefaultPendingTTL)) {
						t.Fatalf("a pending request expired at %s, before its TTL", now)
					}
					if expired && before.State == resource.StateApproved && now.Before(*before.End) {
						t.Fatalf("an approved request expired at %s, before its end %s", now, before.End)
					}
				}
				if ended[before.State] && (req.State != before.State || err == nil && op%4 != 3) {
					t.Fatalf("a %s request became %s (err %v)", before.State, req.State, err)
				}
				if req.State == resource.StateApproved {
					if req.Start == nil || req.End == nil || !req.End.After(*req.Start) || req.End.Sub(*req.Start) > terms.MaxDuration {
						t.Fatalf("approved with the window %v..%v under a maximum of %s", req.Start, req.End, terms.MaxDuration)
					}
					if asked != nil && req.Start.Before(asked.Truncate(time.Second)) {
						t.Fatalf("approved from %s, before the asked start %s", req.Start, asked)
					}
				}
				now = now.Add(time.Duration(op>>2) * 7 * time.Minute)
			}
		})
	})
}

// FuzzNextAudit: a list's next review is after the review that sets it, on the day of month asked.
func FuzzNextAudit(f *testing.F) {
	f.Add(int64(1795000000), uint8(0), uint8(0))
	f.Add(int64(1798675200), uint8(1), uint8(3)) // 31 December
	f.Add(int64(-62135596800), uint8(3), uint8(2))
	f.Add(int64(253402300799), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, unix int64, freq, day uint8) {
		if unix < -62135596800 || unix > 253402300799 {
			return // years 1 to 9999
		}
		from := time.Unix(unix, 0).UTC()
		r := resource.Recurrence{Frequency: []int{0, 1, 3, 6, 12}[freq%5], DayOfMonth: resource.DayOfMonth([]string{"", "1", "15", "last"}[day%4])}
		var next time.Time
		fuzzcheck.Limit(t, func() { next = access.NextAudit(r, from) })
		if !next.After(from) {
			t.Fatalf("NextAudit(%+v, %s) = %s, not after it", r, from, next)
		}
		want := map[resource.DayOfMonth]int{"": 1, "1": 1, "15": 15, "last": time.Date(next.Year(), next.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()}[r.DayOfMonth]
		if next.Day() != want {
			t.Fatalf("NextAudit(%+v, %s) = %s, not on day %d", r, from, next, want)
		}
	})
}
