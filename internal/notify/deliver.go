package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Headers of every delivery.
const (
	HeaderEvent    = "X-Warden-Event"
	HeaderDelivery = "X-Warden-Delivery"
	// HeaderTimestamp is the delivery attempt's time in Unix seconds, part of what is signed.
	HeaderTimestamp = "X-Warden-Timestamp"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the webhook's secret, of the
	// timestamp header's value, a ".", and the body as sent.
	HeaderSignature = "X-Warden-Signature"
)

// delivery is one event for one webhook, kept in the outbox until it is made or given up.
type delivery struct {
	ID      string    `json:"id"`
	Webhook string    `json:"webhook"`
	Created time.Time `json:"created"`
	Event   Event     `json:"event"`
}

// Sign is the signature of a body sent at timestamp with secret, as in HeaderSignature.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// queue holds one webhook's deliveries in order; one worker sends them, one at a time.
type queue struct {
	mu    sync.Mutex
	items []*delivery
	wake  chan struct{}
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(d *delivery) {
	q.mu.Lock()
	q.items = append(q.items, d)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) pop(ctx context.Context) (*delivery, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			d := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return d, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-q.wake:
		}
	}
}

// worker sends a webhook's deliveries until ctx ends; one interrupted by ctx stays in the outbox.
func (n *Notifier) worker(ctx context.Context, h *hook, q *queue) {
	for {
		d, ok := q.pop(ctx)
		if !ok {
			return
		}
		n.deliver(ctx, h, d)
		if ctx.Err() != nil {
			return
		}
		n.done(d)
	}
}

// deliver sends d, retrying network errors, redirects, 5xx and 429 with exponential backoff (or
// after the Retry-After the receiver asks for) until it succeeds, MaxAttempts are spent or the next
// attempt would come after MaxAge; any other answer is final. What it logs names the webhook and its
// scheme and host only: never the URL's path or query, nor a header's value.
func (n *Notifier) deliver(ctx context.Context, h *hook, d *delivery) {
	b, err := body(h.Format, d.ID, &d.Event, n.baseURL)
	log := n.log.With("webhook", h.Name, "endpoint", h.endpoint, "event", d.Event.Type, "delivery", d.ID)
	if err != nil {
		log.Error("notification: cannot render; dropped", "err", err)
		return
	}
	for attempt := 1; ; attempt++ {
		res, err := n.attempt(ctx, h, d, b)
		if ctx.Err() != nil {
			return
		}
		status := res.status
		if err == nil && status >= 200 && status < 300 {
			n.count(h.Name, "delivered")
			log.Debug("notification delivered", "attempts", attempt)
			return
		}
		failure := fmt.Sprintf("HTTP %d", status)
		redirect := status >= 300 && status < 400
		switch {
		case err != nil:
			failure = h.sanitize(err)
		case redirect && res.location != "":
			failure += ", a redirect to " + res.location + " (not followed)"
		case redirect:
			failure += ", a redirect (not followed)"
		}
		if err == nil && !redirect && status != http.StatusTooManyRequests && status < 500 {
			n.count(h.Name, "refused")
			log.Warn("notification refused by the webhook; not retried", "answer", failure, "attempts", attempt)
			return
		}
		wait := n.backoff(attempt)
		if res.retryAfter > 0 {
			wait = res.retryAfter
		}
		if age := n.now().Sub(d.Created); attempt >= n.maxAttempts || age+wait > n.maxAge {
			n.count(h.Name, "given_up")
			log.Error("notification given up", "answer", failure, "attempts", attempt, "age", age.Round(time.Second))
			return
		}
		log.Info("notification failed; retrying", "answer", failure, "attempt", attempt, "in", wait)
		t := n.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// backoff is the pause after a failed attempt: RetryBase, doubling, at most MaxBackoff.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.retryBase
	for i := 1; i < attempt && d < n.maxBackoff; i++ {
		d *= 2
	}
	return min(d, n.maxBackoff)
}

// answer is what an attempt got back.
type answer struct {
	status     int
	retryAfter time.Duration
	// location is where a redirect pointed, scheme and host only.
	location string
}

// attempt POSTs the body once. The client follows no redirect: a 3xx comes back as it is.
func (n *Notifier) attempt(ctx context.Context, h *hook, d *delivery, b []byte) (answer, error) {
	actx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, h.URL, bytes.NewReader(b))
	if err != nil {
		return answer{}, err
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "warden-notify/1")
	}
	req.Header.Set(HeaderEvent, d.Event.Type)
	req.Header.Set(HeaderDelivery, d.ID)
	if h.secret != nil {
		ts := strconv.FormatInt(n.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(h.secret, ts, b))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), n.now())}
	if loc, err := resp.Location(); err == nil {
		a.location = redact(loc.String())
	}
	return a, nil
}

// maxLoggedError bounds an error as logged.
const maxLoggedError = 300

// sanitize is err as it may be logged: without the URL the http package wraps around it (url.Error
// holds the whole URL, path and query), without anything secret of h's that it quotes, and short.
func (h *hook) sanitize(err error) string {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			break
		}
		err = ue.Err
	}
	msg := err.Error()
	for _, s := range h.sensitive {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	if len(msg) > maxLoggedError {
		cut := maxLoggedError
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
