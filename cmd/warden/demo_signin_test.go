package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The demo prints, for each sample person, a sign-in link and a demo password; a browser signs in
// with them alone (second factors are optional in the demo), and warden's page says who it is; a
// second run prints the same passwords.
func TestDemoSignIn(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	out := d.stdout.String()
	people := regexp.MustCompile(`(?m)^    (\S+@example\.com) +(\S+)  (http://\S+/login\?user=\S+)$`).FindAllStringSubmatch(out, -1)
	if len(people) != 12 || !strings.Contains(out, "with the password alone") {
		t.Fatalf("%d people printed:\n%s", len(people), out)
	}
	var dan []string
	for _, p := range people {
		if p[1] == "dan@example.com" {
			dan = p
		}
	}
	if dan == nil || !strings.HasPrefix(dan[3], d.addr+"/login?user=") {
		t.Fatalf("dan's line: %v\n%s", dan, out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) string {
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	form := get(dan[3])
	if !strings.Contains(form, `value="dan@example.com"`) {
		t.Fatalf("the link does not fill in the user name:\n%s", form)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("no csrf:\n%s", form)
	}
	res, err := c.PostForm(d.addr+"/login", url.Values{"csrf": {csrf[1]}, "user": {dan[1]}, "password": {dan[2]}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Signed in as <strong>dan@example.com</strong>") {
		t.Fatalf("signing in as dan: %d\n%s", res.StatusCode, b)
	}
	d.stop(t)

	// A second run prints the same passwords.
	d = startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions, again")
	again := d.stdout.String()
	if !strings.Contains(again, dan[1]) || !strings.Contains(again, "  "+dan[2]+"  ") {
		t.Fatalf("the second run does not print dan's password %s:\n%s", dan[2], again)
	}
	d.stop(t)
}
