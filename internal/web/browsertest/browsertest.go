// Package browsertest drives a headless Chromium for the tests of warden's web pages, through the
// DevTools protocol (github.com/chromedp/chromedp).
//
// New(t) starts a browser of its own for the test (a fresh profile in a temporary directory, so no
// cookie is shared between tests), bounded by a timeout, and ends it when the test ends. The helpers
// (Navigate, Fill, Click, Submit, Text, URL, WaitVisible, Eval...) fail the test at once on an error.
// Every message the page writes to its console is collected: a JavaScript error (an uncaught
// exception, a rejected promise nobody handled, console.error) or a Content Security Policy
// violation fails the test, checked after each helper and when the test ends. A test that expects
// such messages takes them with TakeConsoleErrors. When the test has failed, a screenshot of the
// page is written into t.TempDir() and its path logged.
//
// Chromium is found as WARDEN_TEST_CHROMIUM names it, else as chromium, chromium-browser or
// google-chrome on PATH. When there is none, the test is skipped, except under CI=true, where it
// fails: .ci/run installs Debian's chromium, so CI always runs these tests.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/wardenhq/warden/internal/testenv"
)

// EnvChromium names the environment variable that gives Chromium's path, before PATH is searched.
const EnvChromium = "WARDEN_TEST_CHROMIUM"

// DefaultTimeout bounds a browser's whole life in a test, unless WithTimeout says otherwise or the
// test's own deadline is nearer.
const DefaultTimeout = 2 * time.Minute

// DefaultActionTimeout bounds one helper's action (a navigation, a wait for an element...).
const DefaultActionTimeout = 30 * time.Second

// names are the executables looked up on PATH, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome"}

// Find returns the path of the Chromium to run: WARDEN_TEST_CHROMIUM when set (it must exist),
// else the first of chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvChromium, p, err)
		}
		return path, nil
	}
	for _, n := range names {
		if path, err := exec.LookPath(n); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: none of %s on PATH and %s unset", ErrNoChromium, strings.Join(names, ", "), EnvChromium)
}

// Require finds Chromium or ends the test: skipped locally, failed when CI=true.
func Require(t testing.TB) string {
	t.Helper()
	path, err := Find()
	if err == nil {
		return path
	}
	testenv.Need(t, fmt.Errorf("browsertest: %w (install chromium, or set %s)", err, EnvChromium))
	return ""
}

// Option changes how New starts the browser.
type Option func(*options)

type options struct {
	timeout time.Duration
	action  time.Duration
	width   int
	height  int
	extra   []chromedp.ExecAllocatorOption
}

// WithTimeout bounds the browser's life (DefaultTimeout otherwise).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithActionTimeout bounds each helper's action, a wait included (DefaultActionTimeout otherwise),
// so that a page that never shows what a test waits for fails the test soon.
func WithActionTimeout(d time.Duration) Option { return func(o *options) { o.action = d } }

// WithWindowSize sets the window's size in CSS pixels (1280×800 otherwise).
func WithWindowSize(w, h int) Option { return func(o *options) { o.width, o.height = w, h } }

// WithFlag passes a command line flag to Chromium.
func WithFlag(name string, value any) Option {
	return func(o *options) { o.extra = append(o.extra, chromedp.Flag(name, value)) }
}

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	t testing.TB
	// Ctx is the chromedp context of the tab: pass it to chromedp's own actions for what the
	// helpers do not cover (runAction(b, ...)).
	Ctx context.Context

	actionTimeout time.Duration

	mu        sync.Mutex
	errs      []string // console errors not yet reported
	capturing int      // > 0: inside ExpectConsoleErrors, errors are kept, not reported
	all       []chromedp.ConsoleMessage
	marks     map[string]chan struct{}
	markSeq   atomic.Int64
	collector chan struct{} // closed when the collector ends
}

// New starts a headless Chromium for t (or skips t when there is none; see Require), and ends it
// when t ends.
func New(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	path := Require(t)
	o := options{timeout: DefaultTimeout, action: DefaultActionTimeout, width: 1280, height: 800}
	for _, opt := range opts {
		opt(&o)
	}
	timeout := o.timeout
	if dl, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dl.Deadline(); ok {
			if left := time.Until(d) - 5*time.Second; left > 0 && left < timeout {
				timeout = left
			}
		}
	}

	// The profile's directory: removed by the test's cleanup, which runs after the browser's
	// (cleanups run last registered first).
	profile := t.TempDir()
	alloc := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(o.width, o.height),
		chromedp.Flag("disable-gpu", true),
		// No network beyond the test's servers: no component updates, no field trials.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-field-trial-config", true),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		alloc = append(alloc, chromedp.NoSandbox)
	}
	alloc = append(alloc, o.extra...)

	base, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, alloc...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(func(string, ...any) {}))
	b := &Browser{t: t, Ctx: ctx, actionTimeout: o.action, marks: map[string]chan struct{}{}, collector: make(chan struct{})}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		<-b.collector
	})

	// The first action starts the browser, bound to ctx (and so to the timeout).
	if err := chromedp.Do(ctx); err != nil {
		close(b.collector)
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	messages := chromedp.Console(ctx)
	go b.collect(messages)

	t.Cleanup(func() {
		// Runs before the browser ends: the last console check, and the screenshot of a failure.
		if ctx.Err() == nil {
			b.sync()
		}
		b.reportConsole()
		if t.Failed() && ctx.Err() == nil {
			b.screenshotOnFailure()
		}
	})
	return b
}

// collect reads the console until the tab ends.
func (b *Browser) collect(messages func(func(chromedp.ConsoleMessage, error) bool)) {
	defer close(b.collector)
	for m, err := range messages {
		if err != nil {
			return
		}
		b.mu.Lock()
		b.all = append(b.all, m)
		if m.Type == chromedp.ConsoleDebug && strings.HasPrefix(m.Text, markPrefix) {
			if ch, ok := b.marks[m.Text]; ok {
				close(ch)
				delete(b.marks, m.Text)
			}
		} else if msg, bad := consoleError(m); bad {
			b.errs = append(b.errs, msg)
		}
		b.mu.Unlock()
	}
}

// consoleError says whether m is a JavaScript error or a CSP violation, and describes it.
// Messages of the network (a 4xx answer is "Failed to load resource") and warnings are not errors
// of the page: a page answered 401 is what a test of a wrong password expects.
func consoleError(m chromedp.ConsoleMessage) (string, bool) {
	where := ""
	if m.URL != "" {
		where = fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	switch {
	case m.IsException():
		return "JavaScript exception: " + m.Text + where, true
	case m.Source == "" && m.Type == chromedp.ConsoleError:
		return "console.error: " + m.Text + where, true
	case m.Source == "security" || strings.Contains(m.Text, "Content Security Policy"):
		return "security (CSP): " + m.Text + where, true
	case m.Source == "javascript" && m.Type == chromedp.ConsoleError:
		return "JavaScript error: " + m.Text + where, true
	}
	return "", false
}

const markPrefix = "browsertest-sync-"

// sync waits until every console message the page wrote before now has reached the collector: it
// writes a marker through the same console and waits for it.
func (b *Browser) sync() {
	mark := fmt.Sprintf("%s%d", markPrefix, b.markSeq.Add(1))
	ch := make(chan struct{})
	b.mu.Lock()
	b.marks[mark] = ch
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", mark))); err != nil {
		b.mu.Lock()
		delete(b.marks, mark)
		b.mu.Unlock()
		return // the page is navigating or gone: the next check or the cleanup sees its messages
	}
	select {
	case <-ch:
	case <-ctx.Done():
	case <-b.collector:
	}
}

// reportConsole fails the test for each console error not yet reported.
func (b *Browser) reportConsole() {
	b.t.Helper()
	b.mu.Lock()
	if b.capturing > 0 {
		b.mu.Unlock()
		return
	}
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
	for _, e := range errs {
		b.t.Errorf("browsertest: the page logged an error: %s", e)
	}
}

// CheckConsole fails the test when the page has logged a JavaScript error or a CSP violation since
// the last check. The helpers call it after their action.
func (b *Browser) CheckConsole() {
	b.t.Helper()
	b.sync()
	b.reportConsole()
}

// ExpectConsoleErrors runs f, in which the page is expected to log errors, and returns the errors
// logged (those before f included, and not yet reported) instead of failing the test with them.
func (b *Browser) ExpectConsoleErrors(f func()) []string {
	b.mu.Lock()
	b.capturing++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.capturing--
		b.mu.Unlock()
	}()
	f()
	return b.TakeConsoleErrors()
}

// TakeConsoleErrors returns the console errors not yet reported, and forgets them, so that they
// do not fail the test.
func (b *Browser) TakeConsoleErrors() []string {
	b.sync()
	b.mu.Lock()
	defer b.mu.Unlock()
	errs := b.errs
	b.errs = nil
	return errs
}

// Console returns every console message collected so far (errors or not).
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.sync()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []chromedp.ConsoleMessage
	for _, m := range b.all {
		if !(m.Type == chromedp.ConsoleDebug && strings.HasPrefix(m.Text, markPrefix)) {
			out = append(out, m)
		}
	}
	return out
}

// runAction runs a within the action timeout.
func runAction[T any](b *Browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, b.actionTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

func (b *Browser) doActions(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.Ctx, b.actionTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

func (b *Browser) runResponse(a chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, b.actionTimeout)
	defer cancel()
	return chromedp.RunResponse(ctx, a)
}

// do runs actions and fails the test on an error, describing what was being done.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.doActions(actions...); err != nil {
		b.t.Fatalf("browsertest: %s: %v", what, err)
	}
	b.CheckConsole()
}

// Navigate loads url and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("navigate to "+url, chromedp.Navigate(url))
}

// Fill sets the value of the field selector (CSS) to value, as typed: the field is cleared, then
// the keys are sent.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	b.do(fmt.Sprintf("fill %s", selector),
		chromedp.WaitVisible(chromedp.CSS(selector)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.querySelector(%q).value = ''", selector)),
		chromedp.SendKeys(chromedp.CSS(selector), value),
	)
}

// Click clicks the element selector (CSS). When the click navigates, the helpers that follow wait
// for what they read (WaitVisible, Text), or use ClickAndWait.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.do("click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// ClickAndWait clicks the element selector (CSS) and waits for the page it leads to to load.
func (b *Browser) ClickAndWait(selector string) {
	b.t.Helper()
	if _, err := b.runResponse(chromedp.Click(chromedp.CSS(selector))); err != nil {
		b.t.Fatalf("browsertest: click %s and wait for the next page: %v", selector, err)
	}
	b.CheckConsole()
}

// Submit submits the form selector (CSS) names, or the form of the element it names, and waits for
// the page the answer is. Like the DOM's form.submit(), it fires no submit event (the page's
// scripts do not see it) and skips the browser's validation: ClickAndWait on the submit button is
// what a person's click does.
func (b *Browser) Submit(selector string) {
	b.t.Helper()
	if _, err := b.runResponse(chromedp.Submit(chromedp.CSS(selector))); err != nil {
		b.t.Fatalf("browsertest: submit %s: %v", selector, err)
	}
	b.CheckConsole()
}

// WaitVisible waits until the element selector (CSS) is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.do("wait for "+selector+" to be visible", chromedp.WaitVisible(chromedp.CSS(selector)))
}

// WaitNotPresent waits until no element matches selector (CSS).
func (b *Browser) WaitNotPresent(selector string) {
	b.t.Helper()
	b.do("wait for "+selector+" to go", chromedp.WaitNotPresent(chromedp.CSS(selector)))
}

// Text returns the visible text of the element selector (CSS), waiting for it to be visible.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	s, err := runAction(b, chromedp.Text(chromedp.CSS(selector), chromedp.AtLeast(1)))
	if err != nil {
		b.t.Fatalf("browsertest: text of %s: %v", selector, err)
	}
	return s
}

// Value returns the value of the form field selector (CSS).
func (b *Browser) Value(selector string) string {
	b.t.Helper()
	s, err := runAction(b, chromedp.Value(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browsertest: value of %s: %v", selector, err)
	}
	return s
}

// Attr returns the attribute name of the element selector (CSS), and whether it has it.
func (b *Browser) Attr(selector, name string) (string, bool) {
	b.t.Helper()
	attrs, err := runAction(b, chromedp.Attributes(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browsertest: attributes of %s: %v", selector, err)
	}
	v, ok := attrs[name]
	return v, ok
}

// Count returns how many elements match selector (CSS) now, without waiting.
func (b *Browser) Count(selector string) int {
	b.t.Helper()
	n, err := runAction(b, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
	if err != nil {
		b.t.Fatalf("browsertest: count %s: %v", selector, err)
	}
	return n
}

// URL returns the address of the page shown.
func (b *Browser) URL() string {
	b.t.Helper()
	u, err := runAction(b, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: location: %v", err)
	}
	return u
}

// Title returns the page's title.
func (b *Browser) Title() string {
	b.t.Helper()
	s, err := runAction(b, chromedp.Title())
	if err != nil {
		b.t.Fatalf("browsertest: title: %v", err)
	}
	return s
}

// HTML returns the page's whole HTML, for a test's failure message.
func (b *Browser) HTML() string {
	b.t.Helper()
	s, err := runAction(b, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("browsertest: html: %v", err)
	}
	return s
}

// Eval evaluates the JavaScript expression in the page and returns its result as JSON (a promise
// is awaited).
func (b *Browser) Eval(expr string) []byte {
	b.t.Helper()
	raw, err := runAction(b, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browsertest: evaluate: %v", err)
	}
	return raw
}

// WaitFor waits until the JavaScript expression is truthy in the page (polled on each animation
// frame, bounded by the browser's timeout).
func (b *Browser) WaitFor(expr string) {
	b.t.Helper()
	if _, err := runAction(b, chromedp.Poll[chromedp.Void](expr)); err != nil {
		b.t.Fatalf("browsertest: wait for %s: %v", expr, err)
	}
}

// Screenshot captures the whole page as a PNG into t.TempDir() and returns the file's path.
func (b *Browser) Screenshot(name string) (string, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	path := filepath.Join(b.t.TempDir(), sanitize(name)+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

func (b *Browser) screenshotOnFailure() {
	path, err := b.Screenshot(b.t.Name())
	if err != nil {
		b.t.Logf("browsertest: no screenshot of the failure: %v", err)
		return
	}
	// The test's temporary directory is removed when it ends: a copy into WARDEN_TEST_ARTIFACTS
	// (when set, as CI may) outlives it.
	if dir := os.Getenv("WARDEN_TEST_ARTIFACTS"); dir != "" {
		if data, err := os.ReadFile(path); err == nil && os.MkdirAll(dir, 0o755) == nil {
			kept := filepath.Join(dir, filepath.Base(path))
			if os.WriteFile(kept, data, 0o644) == nil {
				path = kept
			}
		}
	}
	url := ""
	if u, err := runAction(b, chromedp.Location()); err == nil {
		url = " of " + u
	}
	b.t.Logf("browsertest: screenshot%s at the failure: %s", url, path)
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}

// ErrNoChromium is what Find's error wraps when no browser is found.
var ErrNoChromium = errors.New("no Chromium")

// EnvNPM names the environment variable of the npm prefix where .ci/run installs the tests' npm
// packages (axe-core among them); $HOME/.cache/warden-test-npm otherwise.
const EnvNPM = "WARDEN_TEST_NPM"

// AxeViolation is one rule of axe-core that the page breaks.
type AxeViolation struct {
	ID          string `json:"id"`
	Impact      string `json:"impact"`
	Description string `json:"description"`
	HelpURL     string `json:"helpUrl"`
	Nodes       []struct {
		Target         []any  `json:"target"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

func axeSource(t testing.TB) string {
	t.Helper()
	prefix := os.Getenv(EnvNPM)
	if prefix == "" {
		home, _ := os.UserHomeDir()
		prefix = filepath.Join(home, ".cache", "warden-test-npm")
	}
	path := filepath.Join(prefix, "node_modules", "axe-core", "axe.min.js")
	src, err := os.ReadFile(path)
	if err != nil {
		testenv.Need(t, fmt.Errorf("browsertest: axe-core: %w (npm install --prefix %s axe-core@4)", err, prefix))
	}
	return string(src)
}

// Axe runs axe-core (npm axe-core 4, from WARDEN_TEST_NPM) on the page shown and returns the
// violations of the rules of WCAG 2.x A and AA and of best practice. The script is evaluated
// through DevTools, which the page's Content Security Policy does not govern.
func (b *Browser) Axe() []AxeViolation {
	b.t.Helper()
	src := axeSource(b.t)
	has, err := runAction(b, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		b.t.Fatalf("browsertest: axe: %v", err)
	}
	if !has {
		if err := b.doActions(chromedp.Evaluate[chromedp.Void](src)); err != nil {
			b.t.Fatalf("browsertest: injecting axe-core: %v", err)
		}
	}
	var out []AxeViolation
	raw, err := runAction(b, chromedp.Evaluate[[]byte](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
		resultTypes: ["violations"],
	}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browsertest: axe.run: %v", err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatalf("browsertest: axe.run's result: %v", err)
	}
	return out
}

// CheckAccessibility runs axe-core on the page shown and fails the test on every serious or
// critical violation (the others are logged).
func (b *Browser) CheckAccessibility() {
	b.t.Helper()
	url := b.URL()
	for _, v := range b.Axe() {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		msg := fmt.Sprintf("axe %s (%s) on %s: %s at %s (%s)", v.ID, v.Impact, url, v.Description, strings.Join(where, ", "), v.HelpURL)
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("browsertest: %s", msg)
		} else {
			b.t.Logf("browsertest: %s", msg)
		}
	}
}
