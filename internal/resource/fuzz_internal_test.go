package resource

import (
	"bytes"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/wardenhq/warden/internal/fuzzcheck"
)

// yamlNodes counts the nodes yaml.v3 makes of the documents of data it parses.
func yamlNodes(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	total := 0
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		total++
		for _, c := range n.Content {
			walk(c)
		}
	}
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return total
		}
		walk(&n)
	}
}

// The bound the decoder puts on YAML before parsing it is never below what the parser makes.
func FuzzYAMLNodeBound(f *testing.F) {
	for _, s := range []string{
		"", "a", "---", "---\n---\n", "...\na\n...\nb\n", "[]", "{}", "[:]", "[: ]", "[:, :, :]", "[? ]", "{a}", "{a, b}", "{:}", "{: , : }",
		"- \n- \n-\n", "- - - -\n", ":\n", ": \n: \n", "? \n? \n", "a:\nb:\n", "? a\n: b\n", "[a: b, c: d]", "'' : \"\"",
		"a: &x\nb: *x\n", "!t\n", "a: !t\n", "&a\n", "|\n  x\n", "a: |\n  b: [1,2]\n", "a\u2028b: c", "a\u0085- b", "\ufeffa: b",
		"%YAML 1.1\n---\na", "- ? : \n  : ", "[[[[[]]]]]", "{a: {b: {c: [d, {e: f}]}}}",
		"kind: user\nmetadata: {name: alice}\nspec: {traits: {a: [x, y]}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var real int
		fuzzcheck.Limit(t, func() { real = yamlNodes(data) })
		if bound := yamlNodeBound(data); real > bound {
			t.Fatalf("yaml.v3 made %d nodes of %q; the bound says at most %d", real, data, bound)
		}
	})
}

func TestYAMLNodeBoundIsTightForDenseInput(t *testing.T) {
	// The densest YAML: a key and an empty value for every two bytes.
	in := []byte("{" + strings.Repeat("a,", 1000) + "a}")
	if real, bound := yamlNodes(in), yamlNodeBound(in); bound > 2*real {
		t.Errorf("%d nodes estimated at %d", real, bound)
	}
}
