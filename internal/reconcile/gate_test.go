package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/reconcile"
)

// gate fronts the simulator and holds the calls of the operations it is told to, until opened:
// a test holds an observation or an apply where it wants it, rather than hoping it is slow enough.
type gate struct {
	next    http.Handler
	mu      sync.Mutex
	hold    map[string]bool   // ".Operation" -> held
	open    chan struct{}     // closed when the held calls may go on
	held    int               // calls waiting at the gate now
	swallow map[string]string // ".Operation" -> the answer it gets, without reaching the simulator
	fail    map[string]string // ".Operation" -> the AWS error code it gets
}

// target names the Identity Center operation a request makes: its X-Amz-Target, or for a SCIM
// request the identitystore operation it stands for ("SCIM.CreateUser"; a PATCH of a group's
// members is CreateGroupMembership or DeleteGroupMembership, of its name UpdateGroup).
func target(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	if !ok {
		return r.Header.Get("X-Amz-Target")
	}
	typ, id, _ := strings.Cut(rest, "/")
	switch {
	case typ == "Users" && r.Method == http.MethodPost:
		return "SCIM.CreateUser"
	case typ == "Users" && id != "" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		return "SCIM.UpdateUser"
	case typ == "Users" && id != "" && r.Method == http.MethodDelete:
		return "SCIM.DeleteUser"
	case typ == "Groups" && r.Method == http.MethodPost:
		return "SCIM.CreateGroup"
	case typ == "Groups" && id != "" && r.Method == http.MethodDelete:
		return "SCIM.DeleteGroup"
	case typ == "Groups" && id != "" && r.Method == http.MethodPatch:
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var p struct {
			Operations []struct{ Op, Path string }
		}
		json.Unmarshal(body, &p)
		for _, op := range p.Operations {
			switch {
			case strings.EqualFold(op.Op, "add") && op.Path == "members":
				return "SCIM.CreateGroupMembership"
			case strings.EqualFold(op.Op, "remove") && strings.HasPrefix(op.Path, "members"):
				return "SCIM.DeleteGroupMembership"
			}
		}
		return "SCIM.UpdateGroup"
	}
	return "SCIM." + r.Method + " " + typ
}

// writeFault answers a request with an AWS error code: as the JSON protocol does, or for SCIM as a
// SCIM error of the status the code stands for.
func writeFault(w http.ResponseWriter, r *http.Request, code string) {
	if strings.HasPrefix(r.URL.Path, "/scim/v2/") {
		status := map[string]int{"ConflictException": 409, "ResourceNotFoundException": 404, "ThrottlingException": 429,
			"AccessDeniedException": 403, "InternalServerException": 500}[code]
		if status == 0 {
			status = 400
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"injected by the test (%s)"}`, status, code)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":"injected by the test"}`, code)
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := target(r)
	g.mu.Lock()
	var wait chan struct{}
	for suffix := range g.hold {
		if strings.HasSuffix(target, suffix) {
			wait = g.open
			g.held++
		}
	}
	for suffix, body := range g.swallow {
		if strings.HasSuffix(target, suffix) {
			g.mu.Unlock()
			if strings.HasPrefix(target, "SCIM.") {
				w.WriteHeader(http.StatusNoContent) // a PATCH or DELETE answered as done
				return
			}
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, body)
			return
		}
	}
	for suffix, code := range g.fail {
		if strings.HasSuffix(target, suffix) {
			g.mu.Unlock()
			writeFault(w, r, code)
			return
		}
	}
	g.mu.Unlock()
	if wait != nil {
		<-wait
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
	}
	g.next.ServeHTTP(w, r)
}

// Hold makes calls of these operations ("CreateAccountAssignment", ...) wait until Release.
func (g *gate) Hold(ops ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, op := range ops {
		g.hold["."+op] = true
	}
}

// Swallow answers calls of op with body, as if done, without passing them on (an Identity Center
// that says it did what it did not).
func (g *gate) Swallow(op, body string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.swallow["."+op] = body
}

// Fail answers calls of op with the AWS error code, until Heal.
func (g *gate) Fail(op, code string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail["."+op] = code
}

// Heal ends every Swallow and Fail.
func (g *gate) Heal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.swallow, g.fail = map[string]string{}, map[string]string{}
}

// Release lets every held call go on, and holds nothing more.
func (g *gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.open)
	g.open = make(chan struct{})
	g.hold = map[string]bool{}
}

// Held counts the calls waiting at the gate.
func (g *gate) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// useGate points the env's engine at a gate in front of its simulator (released when the test ends).
func (e *env) useGate() *gate {
	g := &gate{next: e.sim, hold: map[string]bool{}, open: make(chan struct{}), swallow: map[string]string{}, fail: map[string]string{}}
	hs := httptest.NewServer(g)
	e.t.Cleanup(hs.Close)
	e.t.Cleanup(g.Release) // before the server closes: cleanups run last first
	e.client, e.engine = e.newEngine(hs.URL, idc.Config{Region: "us-east-1", RateLimit: 1000, RetryMaxBackoff: 5 * time.Millisecond})
	return g
}

// jumping runs f, and while it waits on the clock (polling an assignment operation the simulator
// provisions in clock time), moves the clock to the end of the wait, so that f takes no real time
// waiting. The clock moves: only for work with no loop running and no grant ending meanwhile.
func (e *env) jumping(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	for {
		select {
		case <-done:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Millisecond)
		if e.clock.WaitTimers(ctx, 1) {
			if at, ok := e.clock.Next(); ok {
				e.clock.Set(at)
			}
		}
		cancel()
	}
}

// syncJumping syncs engine while jumping the clock over its waits (see jumping).
func (e *env) syncJumping(engine *reconcile.Engine, opts reconcile.PlanOptions, force bool) (res *reconcile.Result, err error) {
	e.jumping(func() { res, err = engine.Sync(e.ctx, opts, force) })
	return res, err
}

// waitHeld waits for a call held at the gate: until then, a test using the gate proves nothing.
func (e *env) waitHeld(g *gate, what string) {
	e.t.Helper()
	e.waitFor(what+" held at the gate", 20*time.Second, func() bool { return g.Held() > 0 })
}
