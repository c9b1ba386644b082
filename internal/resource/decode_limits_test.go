package resource_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/resource"
)

// What one call of Decode may allocate at most, whatever its input of at most a megabyte (the API's
// limit for one resource): the input is read into a tree of at most resource.MaxValues nodes.
const decodeAllocBound = 24 << 20

// nestedJSON is the attack of a megabyte of [[[[...]]]] in status.
func nestedJSON(size int) string {
	head := `{"kind":"user","metadata":{"name":"alice"},"status":`
	n := (size - len(head) - 1) / 2
	return head + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"
}

// aliasBomb is a YAML list of one user with traits traits that are each the same list of values
// values, then repeats more items that are aliases of the first (`- *r`).
func aliasBomb(traits, values, repeats int) string {
	var b strings.Builder
	b.WriteString("- &r\n  kind: user\n  metadata: {name: alice}\n  spec:\n    traits:\n      t0: &l [")
	for i := 0; i < values; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("v")
	}
	b.WriteString("]\n")
	for i := 1; i < traits; i++ {
		fmt.Fprintf(&b, "      t%d: *l\n", i)
	}
	for i := 0; i < repeats; i++ {
		b.WriteString("- *r\n")
	}
	return b.String()
}

// decodeBounded runs Decode and fails the test when it allocated more than decodeAllocBound.
func decodeBounded(t *testing.T, in string) error {
	t.Helper()
	var err error
	if n := fuzzcheck.Allocated(func() { _, err = resource.Decode([]byte(in)) }); n > decodeAllocBound {
		t.Errorf("Decode of %d bytes allocated %d MB; want at most %d MB", len(in), n>>20, decodeAllocBound>>20)
	}
	return err
}

func wantField(t *testing.T, err error, field, msg string) {
	t.Helper()
	fe := resource.First(err)
	if fe == nil || !strings.HasPrefix(fe.Field, field) || !strings.Contains(fe.Message, msg) {
		t.Fatalf("error = %v; want %s...: ...%s...", err, field, msg)
	}
}

// Issue item 1: a megabyte of nested lists in status took ~900 MB and ~2 s to decode. Nesting is
// bounded: the error names the field where the nesting went too deep, in JSON and in YAML.
func TestDecodeNestingIsBounded(t *testing.T) {
	err := decodeBounded(t, nestedJSON(1<<20))
	wantField(t, err, "status[0][0]", fmt.Sprintf("nested more than %d levels deep", resource.MaxDepth))

	// YAML nests as deeply as the parser allows (10,000), or through aliases deeper still.
	yamlNested := "kind: user\nmetadata: {name: alice}\nstatus: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	wantField(t, decodeBounded(t, yamlNested), "status[0][0]", "nested more than")
	var chain strings.Builder
	chain.WriteString("kind: user\nmetadata: {name: alice}\nstatus:\n  a0: &a0 [x]\n")
	for i := 1; i <= resource.MaxDepth; i++ {
		fmt.Fprintf(&chain, "  a%d: &a%d [*a%d]\n", i, i, i-1)
	}
	wantField(t, decodeBounded(t, chain.String()), "status.a", "nested more than")
	// An anchor whose value contains itself is endless; it ends at the depth limit.
	wantField(t, decodeBounded(t, "kind: user\nmetadata: {name: alice}\nstatus: &a [*a]\n"), "status[0]", "nested more than")

	// Resources nest 6 deep: well within the limit.
	if _, err := resource.Decode([]byte("kind: role\nmetadata: {name: r}\nspec: {allow: {request: {account_assignments: [{account: '*', permission_set: Admin}]}}}\n")); err != nil {
		t.Fatal(err)
	}
}

// A megabyte of one flat list is half a million values: reading stops at resource.MaxValues.
func TestDecodeValuesAreBounded(t *testing.T) {
	flat := `{"kind":"user","metadata":{"name":"alice"},"status":[` + strings.Repeat("1,", 1<<19) + "1]}"
	err := decodeBounded(t, flat)
	wantField(t, err, "status[", fmt.Sprintf("a resource has at most %d values", resource.MaxValues))
	if strings.Contains(err.Error(), "YAML") {
		t.Errorf("a JSON input over the limit was retried as YAML: %v", err)
	}

	// YAML's parser builds the whole document before anything can be counted: the input is
	// bounded before it is parsed.
	for name, in := range map[string]string{
		"flow list":    "kind: user\nmetadata: {name: alice}\nstatus: [" + strings.Repeat("1,", 1<<19) + "1]\n",
		"flow mapping": "kind: user\nmetadata: {name: alice}\nstatus: {" + strings.Repeat("a,", 1<<19) + "a}\n",
		"block list":   "kind: user\nmetadata: {name: alice}\nstatus:\n" + strings.Repeat("- 1\n", 1<<18),
	} {
		t.Run(name, func(t *testing.T) {
			wantField(t, decodeBounded(t, in), "", "input too large")
		})
	}
}

// Found by FuzzParseISODuration: the ISO duration parser's time and garbage grow with the square of
// a number's length (100,000 digits: 3.5 s and 5 GB). A session_duration is at most 100 characters.
func TestDecodeLongDurationIsBounded(t *testing.T) {
	doc := "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: P" + strings.Repeat("1", 100000) + "Y}\n"
	wantField(t, decodeBounded(t, doc), "spec.session_duration", "is not an ISO-8601 duration like PT8H")
}

// A resource of thousands of problems is answered with the first hundred, not all of them.
func TestDecodeProblemsAreCapped(t *testing.T) {
	in := "kind: user\nmetadata: {name: alice}\nstatus: {" + strings.Repeat("a,", 5000) + "a}\n"
	_, err := resource.Decode([]byte(in))
	var es resource.Errors
	if !errors.As(err, &es) || len(es) != 101 || es[0].Field != "status.a" || es[100].Message != "more problems (only the first 100 are listed)" {
		t.Fatalf("Decode = %v (%d problems); want 100 and a last one saying there are more", err, len(es))
	}
}

// Issue item 15: each item of a YAML list was decoded with a budget of its own while anchors are
// shared, so each `- *r` repeated a whole resource for 5 bytes: 17 KB allocated ~1 GB. The budget is
// one per call, and Decode stops at the second item.
func TestDecodeAliasesShareOneBudget(t *testing.T) {
	bomb := aliasBomb(999, 999, 7)
	if err := decodeBounded(t, bomb); err == nil || err.Error() != "expected one resource, found more than one" {
		t.Errorf("Decode = %v; want expected one resource, found more than one", err)
	}
	var err error
	if n := fuzzcheck.Allocated(func() { _, err = resource.DecodeAll("bomb.yaml", []byte(bomb)) }); n > decodeAllocBound {
		t.Errorf("DecodeAll of %d bytes allocated %d MB", len(bomb), n>>20)
	}
	wantField(t, err, "spec.traits.t", "input too large or too deeply aliased")

	// Items each within a resource's limit repeat only as far as the call's budget goes (a
	// resource's worth and two values per byte): the second item here is over it.
	small := aliasBomb(100, 150, 20)
	if n := fuzzcheck.Allocated(func() { _, err = resource.DecodeAll("small.yaml", []byte(small)) }); n > decodeAllocBound {
		t.Errorf("DecodeAll of %d bytes allocated %d MB", len(small), n>>20)
	}
	wantField(t, err, "spec.traits.t", "input too large or too deeply aliased")
	if !strings.HasPrefix(err.Error(), "small.yaml: document 2 (user") {
		t.Errorf("err = %v; want it on document 2", err)
	}
	// One such item alone is fine.
	if objs, err := resource.DecodeAll("one.yaml", []byte(aliasBomb(100, 150, 0))); err != nil || len(objs[0].Spec.(*resource.UserSpec).Traits["t99"]) != 150 {
		t.Fatalf("DecodeAll of one item: %v", err)
	}
}

// The limits leave real input alone: the largest inline policy, a role of a thousand account
// assignments (in YAML and JSON), and files of many thousand resources.
func TestDecodeLimitsLeaveRealInputAlone(t *testing.T) {
	var policy strings.Builder
	policy.WriteString("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n")
	for i := 0; policy.Len() < 32000; i++ {
		fmt.Fprintf(&policy, "    {\"Sid\": \"S%d\", \"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:ListBucket\"], \"Resource\": \"arn:aws:s3:::bucket-%d/*\"},\n", i, i)
	}
	policy.WriteString("    {\"Effect\": \"Deny\", \"Action\": \"iam:*\", \"Resource\": \"*\"}\n  ]\n}")
	if policy.Len() > 32768 {
		t.Fatalf("policy of %d bytes", policy.Len())
	}
	block := "kind: permission_set\nmetadata: {name: Big}\nspec:\n  inline_policy: |\n    " + strings.ReplaceAll(policy.String(), "\n", "\n    ") + "\n"
	if _, err := resource.Decode([]byte(block)); err != nil {
		t.Errorf("a 32 KB inline policy as a YAML block: %v", err)
	}
	quoted, _ := json.Marshal(policy.String())
	if _, err := resource.Decode([]byte("kind: permission_set\nmetadata: {name: Big}\nspec: {inline_policy: " + string(quoted) + "}\n")); err != nil {
		t.Errorf("a 32 KB inline policy as a YAML string: %v", err)
	}

	var yml, js strings.Builder
	yml.WriteString("kind: role\nmetadata: {name: everywhere}\nspec:\n  allow:\n    account_assignments:\n")
	js.WriteString(`{"kind": "role", "metadata": {"name": "everywhere"}, "spec": {"allow": {"account_assignments": [`)
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&yml, "      - {account: \"%012d\", permission_set: AdministratorAccess}\n", 100000000000+i)
		if i > 0 {
			js.WriteString(", ")
		}
		fmt.Fprintf(&js, `{"account": "%012d", "permission_set": "AdministratorAccess"}`, 100000000000+i)
	}
	js.WriteString("]}}}")
	for name, in := range map[string]string{"YAML": yml.String(), "JSON": js.String()} {
		o, err := resource.Decode([]byte(in))
		if err != nil || len(o.Spec.(*resource.RoleSpec).Allow.AccountAssignments) != 1000 {
			t.Errorf("a role of 1,000 account assignments in %s: %v", name, err)
		}
	}

	// 20,000 users are over a hundred thousand values: a file's budget grows with its size.
	const users = 20000
	var ymlFile, jsFile strings.Builder
	jsFile.WriteString("[")
	for i := 0; i < users; i++ {
		fmt.Fprintf(&ymlFile, "---\nkind: user\nmetadata: {name: user%05d@example.com}\nspec: {display_name: User %d, email: user%05d@example.com, traits: {team: [a, b]}}\n", i, i, i)
		if i > 0 {
			jsFile.WriteString(",\n")
		}
		fmt.Fprintf(&jsFile, `{"kind":"user","metadata":{"name":"user%05d@example.com"},"spec":{"display_name":"User %d","email":"user%05d@example.com","traits":{"team":["a","b"]}}}`, i, i, i)
	}
	jsFile.WriteString("]")
	for name, in := range map[string]string{"YAML": ymlFile.String(), "JSON": jsFile.String()} {
		objs, err := resource.DecodeAll("users", []byte(in))
		if err != nil || len(objs) != users {
			t.Errorf("%d users in %s: %d decoded, %v", users, name, len(objs), err)
		}
	}
}
