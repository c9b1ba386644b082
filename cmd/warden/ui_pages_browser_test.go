package main

// Every page of the web UI, in Chromium, against `warden demo`: shown to the people it is for, each
// is checked at a desktop width and at 360 px (a small phone): it renders (not an error page), it is
// accessible (axe-core: no serious or critical violation), it does not scroll sideways, and it
// writes no JavaScript error or CSP violation. The main pages are photographed: the pictures in
// docs/screenshots/ that the README shows. WARDEN_UPDATE_SCREENSHOTS=1 writes them there; without
// it the test checks that each is there and that the README shows it, so a page added to the set
// without its picture fails.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// uiPage is one page to visit: its path, who it is shown to, what proves it rendered, and the name
// of its picture in docs/screenshots/ (none: not photographed).
type uiPage struct {
	path, who, ready, shot string
}

func TestUIEveryPage(t *testing.T) {
	e := newUIEnv(t)
	// A request of dan's, pending, for the request page and the review inbox.
	dan := strings.TrimSpace(mustRun(t, e.cli, "", "token", "create", "--user", demoRequester, "--ttl", "1h"))
	out := mustRun(t, append(e.cli, "WARDEN_TOKEN="+dan), "", "request", "create", "--roles", demoTarget, "--reason", "the screenshots need one", "--duration", "1h", "-o", "name")
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	if id == "" {
		t.Fatalf("no request id in:\n%s", out)
	}
	pages := []uiPage{
		{"/", demoRequester, "main h1", "my-access"},
		{"/request", demoRequester, "main h1", "request-catalog"},
		{"/requests/" + id, demoRequester, "main h1", "request-page"},
		{"/reviews", demoReviewer, "main h1", "review-inbox"},
		{"/lists", demoOwner, "main h1", "access-lists"},
		{"/lists/" + demoReviewList, demoOwner, "main h1", "access-list"},
		{"/audit", demoOwner, "main h1", "audit"},
		{"/admin", demoOwner, "main h1", "administration"},
		{"/admin/users", demoOwner, "main h1", ""},
		{"/admin/identity", demoOwner, "main h1", ""},
		{"/admin/setup", demoOwner, "main h1", "guided-integration"},
		{"/account", demoRequester, "#home-title", ""},
	}
	update := os.Getenv("WARDEN_UPDATE_SCREENSHOTS") == "1"
	shots := filepath.Join("..", "..", "docs", "screenshots")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1280, 360} {
		browsers := map[string]*browsertest.Browser{}
		for _, pg := range pages {
			b := browsers[pg.who]
			if b == nil {
				b = e.browser(browsertest.WithWindowSize(width, 800))
				inTokyo(t, b) // times are shown in the browser's time zone, UTC on hover
				e.signIn(b, pg.who)
				browsers[pg.who] = b
			}
			what := fmt.Sprintf("%s as %s at %d px", pg.path, pg.who, width)
			b.Navigate(e.base + pg.path)
			b.WaitVisible(pg.ready)
			if b.Count("#error-title") != 0 {
				t.Errorf("%s: an error page: %s", what, b.Text("main"))
				continue
			}
			e.page(b, what)
			if over := string(b.Eval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); over != "0" {
				wide := b.Eval(`Array.from(document.querySelectorAll("body *")).filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !(el.closest(".table-wrap") && el.closest(".table-wrap") !== el)).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " " + Math.round(el.getBoundingClientRect().right) + "px: " + el.textContent.trim().slice(0, 40))`)
				wider := b.Eval(`Array.from(document.querySelectorAll("body, body *")).filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto").slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " " + el.scrollWidth + "/" + el.clientWidth)`)
				t.Errorf("%s: the page scrolls sideways by %s px; too wide: %s; overflowing: %s", what, over, wide, wider)
			}
			var times []struct{ Text, Title, Datetime string }
			if err := json.Unmarshal(b.Eval(`Array.from(document.querySelectorAll("time[data-local]")).map(t => ({Text: t.textContent, Title: t.title, Datetime: t.getAttribute("datetime")}))`), &times); err != nil {
				t.Fatal(err)
			}
			for _, tm := range times {
				at, err := time.Parse(time.RFC3339, tm.Datetime)
				if err != nil {
					t.Errorf("%s: a <time> with datetime %q", what, tm.Datetime)
					continue
				}
				tokyo := at.In(time.FixedZone("JST", 9*3600)).Format("2006-01-02 15:04")
				if tm.Text != tokyo+" Asia/Tokyo" || tm.Title != at.UTC().Format("2006-01-02 15:04 UTC") {
					t.Errorf("%s: the time %s reads %q (hover %q), want %q (hover in UTC)", what, tm.Datetime, tm.Text, tm.Title, tokyo+" Asia/Tokyo")
				}
			}
			if pg.shot == "" || width != 1280 {
				continue
			}
			file := filepath.Join(shots, pg.shot+".png")
			if update {
				// What a person sees first: the window, 1280×800, not the whole page.
				png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				os.MkdirAll(shots, 0o755)
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if _, err := os.Stat(file); err != nil {
				t.Errorf("%s: no picture %s (run with WARDEN_UPDATE_SCREENSHOTS=1)", what, file)
			}
			if !strings.Contains(string(readme), "docs/screenshots/"+pg.shot+".png") {
				t.Errorf("the README does not show docs/screenshots/%s.png", pg.shot)
			}
		}
	}
	timeInputsInTheBrowsersZone(t, e)
}

// inTokyo puts browser b in Tokyo's time zone (UTC+9, no daylight saving time).
func inTokyo(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatal(err)
	}
}

// timeInputsInTheBrowsersZone: a time typed into a form is the browser's local time (the label
// names the zone), and warden receives it in UTC; what warden sends back to the form is shown in
// local time again. (Part of TestUIEveryPage, to share its demo.)
func timeInputsInTheBrowsersZone(t *testing.T, e *uiEnv) {
	b := e.browser()
	inTokyo(t, b)
	e.signIn(b, demoOwner)
	b.Navigate(e.base + "/lists/" + demoReviewList)
	b.WaitVisible("#add-member")
	if got := b.Text("label[for=expires]"); !strings.Contains(got, "Asia/Tokyo") {
		t.Fatalf("the expiry's label: %q", got)
	}
	// 09:30 in Tokyo on 2 January 2031 is 00:30 UTC.
	b.Fill("#member", demoRequester)
	b.Eval(`document.querySelector("#expires").value = "2031-01-02T09:30"`)
	b.Fill("#reason", "time zones")
	b.ClickAndWait("#add-submit") // a click, as a person sends it: the page's script sees the form go
	b.WaitVisible("#flash")
	if n := b.Count(`time[datetime="2031-01-02T00:30:00Z"]`); n != 1 {
		t.Fatalf("the new member's expiry is not 2031-01-02 00:30 UTC:\n%s", b.Text("main"))
	}
	e.page(b, "the list with a member added")
	// A refused form comes back with the time as typed, in local time.
	b.Fill("#member", "nobody-at-all@example.com")
	b.Eval(`document.querySelector("#expires").value = "2031-03-04T18:45"`)
	b.ClickAndWait("#add-submit")
	b.WaitVisible("#member-error")
	if got := b.Value("#expires"); got != "2031-03-04T18:45" {
		t.Fatalf("the refused form's expiry reads %q, want the local time typed", got)
	}
}
