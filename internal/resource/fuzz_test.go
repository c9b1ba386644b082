package resource_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/resource"
)

// decodeSeeds are inputs of the tests, the example organisation and the review's findings.
func decodeSeeds(f *testing.F) {
	for _, cases := range badInputs {
		for _, c := range cases {
			f.Add([]byte(c.doc))
		}
	}
	if org, err := os.ReadFile("../../examples/org.yaml"); err == nil {
		f.Add(org)
	}
	for _, s := range []string{
		"kind: user\nmetadata: {name: alice}\nspec: {email: alice@example.com, roles: [dev], traits: {team: [a, b]}}\n",
		`{"kind": "user", "metadata": {"name": "alice"}, "spec": {"email": "alice@example.com"}, "status": {"sync": {"state": "ok"}}}`,
		`[{"kind":"role","metadata":{"name":"r"},"spec":{"allow":{"account_assignments":[{"account":"*","permission_set":"Admin*"}]}}}]`,
		"- kind: access_list\n  metadata: {name: eng}\n  spec: {title: &t Eng, owners: [alice], membership_requires: {traits: {team: [*t]}}}\n",
		"kind: access_list_member\nspec: {list: eng, member: bob, expires: 2027-01-01}\n---\nkind: access_request\nmetadata: {}\nspec: {user: bob, roles: [ops], duration: 2h}\n",
		"kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: P99999999999999999999Y99999999999999999999MT8H}\n",
		"kind: permission_set\nmetadata: {name: Admin}\nspec:\n  inline_policy: |\n    {\"Version\": \"2012-10-17\", \"Statement\": []}\n",
		"kind: user\nmetadata: {name: alice}\nstatus: &a [*a]\n",
		"kind: user\nmetadata: {name: alice}\nstatus: {" + strings.Repeat("a,", 500) + "a}\n",
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(nestedJSON(1 << 16)))
	f.Add([]byte(aliasBomb(999, 999, 7)))
	f.Add([]byte(aliasBomb(100, 150, 20)))
}

// checkRoundTrip: what warden writes of a decoded object (its JSON) decodes again to the same.
func checkRoundTrip(t *testing.T, o *resource.Object) {
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("%s does not encode: %v", o, err)
	}
	again, err := resource.Decode(b)
	if err != nil {
		t.Fatalf("%s encoded as %s does not decode again: %v", o, b, err)
	}
	b2, _ := json.Marshal(again)
	if !bytes.Equal(b, b2) {
		t.Fatalf("%s changed in a round trip:\n%s\n%s", o, b, b2)
	}
}

// checkError: a refused input is a DocumentError that says what is wrong.
func checkError(t *testing.T, err error) {
	var de *resource.DocumentError
	if !errors.As(err, &de) || de.Err == nil || err.Error() == "" {
		t.Fatalf("error %#v is not a DocumentError with a message", err)
	}
}

func FuzzDecodeAll(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var objs []*resource.Object
		var err error
		fuzzcheck.Limit(t, func() { objs, err = resource.DecodeAll("fuzz.yaml", data) })
		if err != nil {
			checkError(t, err)
			return
		}
		for _, o := range objs {
			if verr := resource.Validate(o); verr != nil {
				t.Fatalf("DecodeAll returned %s, which does not validate: %v", o, verr)
			}
			checkRoundTrip(t, o)
		}
	})
}

func FuzzDecode(f *testing.F) {
	decodeSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var o *resource.Object
		var err error
		fuzzcheck.Limit(t, func() { o, err = resource.Decode(data) })
		if err != nil {
			if resource.First(err) == nil {
				t.Fatalf("Decode error %#v names no field problem", err)
			}
			return
		}
		checkRoundTrip(t, o)
		if len(data) < 8<<10 { // within both calls' budgets, DecodeAll agrees
			objs, err := resource.DecodeAll("", data)
			if err != nil || len(objs) != 1 {
				t.Fatalf("Decode accepted what DecodeAll does not: %d objects, %v", len(objs), err)
			}
		}
	})
}

// isoDuration is ISO 8601's duration as AWS takes it: designators in order, each at most once.
var isoDuration = regexp.MustCompile(`^(-?)P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT1H", "PT12H", "PT8H", "PT30M", "PT13H", "P1D", "8h", "eight hours", "PT1H30M", "P1Y2M3W4DT5H6M7.5S", "-PT8H",
		"P99999999999999999999Y99999999999999999999MT8H", "PT100000000000000000000H", "PT8H8H", "PPT8H", "PT", "P", "PT8HT1H", "PT.5H",
		"P" + strings.Repeat("1", 100000) + "Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d time.Duration
		var err error
		fuzzcheck.Limit(t, func() { d, err = resource.ParseISODuration(s) })
		if err != nil {
			return
		}
		m := isoDuration.FindStringSubmatch(s)
		if m == nil || strings.HasSuffix(s, "P") || strings.HasSuffix(s, "T") {
			t.Fatalf("ParseISODuration(%q) = %s; want an error: not an ISO 8601 duration", s, d)
		}
		// What it means, in float64 seconds (which do not wrap round).
		secs := 0.0
		for i, unit := range []float64{365 * 86400, 365.0 / 12 * 86400, 7 * 86400, 86400, 3600, 60, 1} {
			if m[i+2] != "" {
				v, _ := strconv.ParseFloat(m[i+2], 64)
				secs += v * unit
			}
		}
		if m[1] == "-" {
			secs = -secs
		}
		if math.Abs(d.Seconds()-secs) > 1e-6*math.Abs(secs)+1e-6 {
			t.Fatalf("ParseISODuration(%q) = %s; it means %gs", s, d, secs)
		}
	})
}

// matchGlob is a plain dynamic-programming glob match over bytes: * any run, ? any one byte.
func matchGlob(pattern, name string) bool {
	// m[j]: pattern[:i] matches name[:j]
	m := make([]bool, len(name)+1)
	m[0] = true
	for i := 0; i < len(pattern); i++ {
		next := make([]bool, len(name)+1)
		switch pattern[i] {
		case '*':
			for j := 0; j <= len(name); j++ {
				next[j] = m[j] || (j > 0 && next[j-1])
			}
		default:
			for j := 1; j <= len(name); j++ {
				next[j] = m[j-1] && (pattern[i] == '?' || pattern[i] == name[j-1])
			}
		}
		m = next
	}
	return m[len(name)]
}

func FuzzMatchGlob(f *testing.F) {
	for _, c := range [][2]string{{"*", ""}, {"Admin*", "AdministratorAccess"}, {"*-on-*", "Admin-on-prod"}, {"a?c", "abc"}, {"a*b*c", "aXbYbc"},
		{"**", "x"}, {"*a", "*a"}, {"prod", "prod"}, {"058264527036", "058264527036"}, {"*?*?", "ab"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 256 || len(name) > 256 {
			return // names and globs are short; the reference is quadratic
		}
		var got bool
		fuzzcheck.Limit(t, func() { got = resource.MatchGlob(pattern, name) })
		if want := matchGlob(pattern, name); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v; want %v", pattern, name, got, want)
		}
		if !resource.IsGlob(pattern) && got != (pattern == name) {
			t.Fatalf("MatchGlob(%q, %q) = %v for a pattern without wildcards", pattern, name, got)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2027-01-01T00:00:00Z", "2026-01-02", "2026-01-02T15:04:05.123456789+02:00", "9999-12-31T23:59:59Z", "0000-01-01", "2026-02-30", "2026-01-02T25:00:00Z", "1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var tm time.Time
		var err error
		fuzzcheck.Limit(t, func() { tm, err = resource.ParseTime(s) })
		if err != nil {
			return
		}
		again, err := resource.ParseTime(tm.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(tm) {
			t.Fatalf("ParseTime(%q) = %v, which reads back as %v, %v", s, tm, again, err)
		}
	})
}
