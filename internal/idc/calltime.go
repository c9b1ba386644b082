package idc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Every call is bounded in time: from its first attempt, a call has CallTimeout for all its
// attempts (the SDK retryer's backoffs included); an attempt still unanswered then is cut off, and
// no attempt starts after it. The wait for the shared limiter before the first attempt is not
// counted: a revocation queued behind a burst of others is late, not failed.

// callState follows one call through its attempts.
type callState struct {
	first    time.Time // when the first attempt was sent
	attempts int
	last     error // the last attempt's error
}

type callStateKey struct{}

// TimeoutError: a call was still failing, or unanswered, when its CallTimeout ran out. It wraps the
// last attempt's error, so ErrorCode and IsNotFound see it.
type TimeoutError struct {
	Operation string
	Timeout   time.Duration
	Attempts  int
	Last      error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: gave up after %s and %d attempts: %v", e.Operation, e.Timeout, e.Attempts, e.Last)
}

func (e *TimeoutError) Unwrap() error { return e.Last }

// noRetryPastTimeout stops the retryer once a call's time is spent.
func noRetryPastTimeout(err error) aws.Ternary {
	var te *TimeoutError
	if errors.As(err, &te) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// timeCalls adds the two halves: one around the whole call (Initialize: it runs once, before the
// retry loop), and one around each attempt (Finalize, after the limiter's wait).
func (c *Client) timeCalls(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("wardenCallState",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			st := &callState{}
			out, md, err := next.HandleInitialize(context.WithValue(ctx, callStateKey{}, st), in)
			if err != nil && st.last != nil && !errors.Is(err, st.last) {
				// Ended by the caller's context during a backoff: say what was failing.
				err = fmt.Errorf("%w (last attempt: %v)", err, st.last)
			}
			return out, md, err
		}), middleware.Before); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("wardenCallTimeout",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			st, _ := ctx.Value(callStateKey{}).(*callState)
			if st == nil || c.callTimeout <= 0 {
				return next.HandleFinalize(ctx, in)
			}
			now := time.Now()
			if st.first.IsZero() {
				st.first = now
			} else if now.Sub(st.first) >= c.callTimeout {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, &TimeoutError{
					Operation: awsmw.GetServiceID(ctx) + " " + awsmw.GetOperationName(ctx), Timeout: c.callTimeout, Attempts: st.attempts, Last: st.last}
			}
			st.attempts++
			actx, cancel := context.WithDeadline(ctx, st.first.Add(c.callTimeout))
			defer cancel()
			out, md, err := next.HandleFinalize(actx, in)
			if err != nil && actx.Err() != nil && ctx.Err() == nil { // cut off by the call's timeout
				err = &TimeoutError{Operation: awsmw.GetServiceID(ctx) + " " + awsmw.GetOperationName(ctx), Timeout: c.callTimeout, Attempts: st.attempts, Last: err}
			}
			if err != nil {
				err = &attemptError{err, st}
			}
			st.last = err
			return out, md, err
		}), middleware.After)
}

// attemptError carries an attempt's error, unchanged to whoever reads it, together with its call,
// so that the backoff after it can be cut to the call's remaining time.
type attemptError struct {
	error
	call *callState
}

func (e *attemptError) Unwrap() error { return e.error }

// remaining is how much of its call's time is left after the attempt that failed with err (and
// false when err is not an attempt's).
func remaining(err error, timeout time.Duration) (time.Duration, bool) {
	var ae *attemptError
	if timeout <= 0 || !errors.As(err, &ae) || ae.call.first.IsZero() {
		return 0, false
	}
	return max(0, time.Until(ae.call.first.Add(timeout))), true
}
