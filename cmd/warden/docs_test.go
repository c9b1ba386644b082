package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardenhq/warden/internal/config"
)

// The documentation's commands: every warden command line README.md and docs/*.md show in a fenced
// code block must name commands and flags this warden has, and `warden <command> --help` must
// succeed for each. A line counts when it runs warden (`warden ...`, `go run ./cmd/warden ...`,
// inside `$(...)`, after VAR=value assignments, after a `$ ` prompt). Reference synopses are checked
// too: [optional] parts, (a | b) alternatives and `-o table|json` are read as such.

// docFiles are the documents whose commands are checked: the README and every page under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../../README.md"}
	more, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(more) == 0 {
		t.Fatal("no docs/*.md found")
	}
	return append(files, more...)
}

// docCommand is one run of warden a document shows.
type docCommand struct {
	where string   // file:line
	line  string   // the line as written
	args  []string // what follows warden
}

func (c docCommand) String() string { return c.where + ": " + c.line }

// docCommands extracts the warden command lines of a Markdown document's fenced code blocks.
func docCommands(name, text string) []docCommand {
	var out []docCommand
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		fence, lang, ok := openFence(lines[i])
		if !ok {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[end]), fence) {
			end++
		}
		i = end
		if !shellBlock(lang) {
			continue
		}
		block := lines[start:min(end, len(lines))]
		prompted := slices.ContainsFunc(block, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "$ ") })
		for j := 0; j < len(block); j++ {
			lineNo := start + j + 1
			l := strings.TrimSpace(block[j])
			if prompted {
				// A console transcript: the commands follow "$ "; the other lines are their output.
				var ok bool
				if l, ok = strings.CutPrefix(l, "$ "); !ok {
					continue
				}
			}
			for strings.HasSuffix(l, `\`) && j+1 < len(block) {
				j++
				l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(block[j])
			}
			if funcDef.MatchString(l) {
				continue // warden() { go run ./cmd/warden "$@"; } defines what the next lines call
			}
			for _, args := range wardenRuns(scanShell(l)) {
				out = append(out, docCommand{where: fmt.Sprintf("%s:%d", name, lineNo), line: l, args: args})
			}
		}
	}
	return out
}

var (
	fenceRE    = regexp.MustCompile("^\\s*(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	funcDef    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\(\)\s*\{`)
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

func openFence(line string) (fence, lang string, ok bool) {
	m := fenceRE.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], strings.ToLower(m[2]), true
}

// shellBlock: blocks of commands (and unlabelled ones, which hold commands or their output), not
// YAML, JSON or Go.
func shellBlock(lang string) bool {
	switch lang {
	case "", "sh", "bash", "shell", "console", "zsh", "text":
		return true
	}
	return false
}

// shellToken is a word of a command line, or a $(...) substitution holding commands of its own.
type shellToken struct {
	word  string
	sub   [][]shellToken
	isSub bool
	glued bool // a substitution glued to the word before it (--data-dir=$(mktemp -d))
}

// scanShell splits a command line into commands (split at |, ;, &&, ||) of words, as far as the
// documentation's lines need: quotes, backslashes, $(...), comments, and the synopsis notation of
// the reference ([optional], (a | b), a|b within a word).
func scanShell(s string) [][]shellToken {
	sc := &shellScanner{s: s}
	return sc.commands(false)
}

type shellScanner struct {
	s string
	i int
}

func (sc *shellScanner) commands(inSub bool) [][]shellToken {
	var (
		cmds   [][]shellToken
		cur    []shellToken
		w      strings.Builder
		inWord bool
		depth  int // synopsis brackets and parentheses
	)
	flush := func() {
		if inWord {
			cur = append(cur, shellToken{word: w.String()})
			w.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	isWordByte := func(b byte) bool {
		return b != ' ' && b != '\t' && b != '|' && b != ';' && b != '&' && b != ')' && b != ']'
	}
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '\'':
			j := strings.IndexByte(sc.s[sc.i+1:], '\'')
			if j < 0 {
				j = len(sc.s) - sc.i - 1
			}
			w.WriteString(sc.s[sc.i+1 : sc.i+1+j])
			inWord = true
			sc.i += j + 2
			continue
		case c == '"':
			sc.i++
			for sc.i < len(sc.s) && sc.s[sc.i] != '"' {
				if sc.s[sc.i] == '\\' && sc.i+1 < len(sc.s) {
					sc.i++
				}
				w.WriteByte(sc.s[sc.i])
				sc.i++
			}
			inWord = true
		case c == '\\' && sc.i+1 < len(sc.s):
			sc.i++
			w.WriteByte(sc.s[sc.i])
			inWord = true
		case c == '$' && sc.i+1 < len(sc.s) && sc.s[sc.i+1] == '(':
			glued := inWord
			flush()
			sc.i += 2
			cur = append(cur, shellToken{isSub: true, sub: sc.commands(true), glued: glued})
			continue // commands stopped after the closing parenthesis
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			sc.i = len(sc.s) // a comment
			continue
		case c == '|' && inWord && sc.i+1 < len(sc.s) && isWordByte(sc.s[sc.i+1]):
			w.WriteByte(c) // table|yaml|json: the values a flag takes
		case c == '|' && depth > 0:
			flush() // (--approve | --deny): alternatives
		case c == '|' || c == ';' || c == '&':
			end()
			for sc.i+1 < len(sc.s) && (sc.s[sc.i+1] == '|' || sc.s[sc.i+1] == '&') {
				sc.i++
			}
		case (c == '[' || c == '(') && !inWord:
			depth++
		case (c == ']' || c == ')') && depth > 0:
			flush()
			depth--
		case c == ')' && inSub:
			end()
			sc.i++
			return cmds
		default:
			w.WriteByte(c)
			inWord = true
		}
		sc.i++
	}
	end()
	return cmds
}

// wardenRuns returns the arguments of every run of warden in the commands, substitutions included.
func wardenRuns(cmds [][]shellToken) [][]string {
	var out [][]string
	for _, cmd := range cmds {
		var words []string
		started := false
		for _, t := range cmd {
			if t.isSub {
				out = append(out, wardenRuns(t.sub)...)
				if started && !t.glued {
					words = append(words, "$(...)")
				}
				continue
			}
			if !started && assignment.MatchString(t.word) {
				continue // VAR=value before the command
			}
			started = true
			words = append(words, t.word)
		}
		switch {
		case len(words) >= 1 && words[0] == "warden":
			out = append(out, words[1:])
		case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/warden":
			out = append(out, words[3:])
		}
	}
	return out
}

// docRoot is warden's command tree as the binary has it, help and completion commands included.
func docRoot() *cobra.Command {
	root := newRoot()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// resolve finds the command args name and checks every flag they use exists on it, taking the
// values of flags that have one. It returns the command and the flags used (long names).
func resolve(root *cobra.Command, args []string) (*cobra.Command, []string, error) {
	c := root
	var used []string
	positional := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			short := !strings.HasPrefix(a, "--")
			if short && len(name) != 1 {
				return c, used, fmt.Errorf("%s: a short flag is one letter", a)
			}
			f := findFlag(c, name, short)
			if f == nil {
				return c, used, fmt.Errorf("unknown flag %s for %q", a, c.CommandPath())
			}
			used = append(used, f.name)
			if !hasValue && !f.noValue {
				if i+1 >= len(args) {
					return c, used, fmt.Errorf("flag %s of %q needs a value", a, c.CommandPath())
				}
				i++
			}
			continue
		}
		if positional == 0 {
			if sub := findSub(c, a); sub != nil {
				c = sub
				continue
			}
		}
		// A command that groups others (warden, warden request) takes no arguments of its own.
		if c.HasSubCommands() && (!c.Runnable() || c.ValidateArgs([]string{a}) != nil) {
			return c, used, fmt.Errorf("unknown command %q for %q", a, c.CommandPath())
		}
		positional++
	}
	return c, used, nil
}

type flagInfo struct {
	name    string
	noValue bool // a bool flag: --force, not --force VALUE
}

// findFlag looks a flag up on c, its own or inherited, by its long name or (short) its shorthand.
func findFlag(c *cobra.Command, name string, short bool) *flagInfo {
	for _, fs := range []*pflag.FlagSet{c.Flags(), c.InheritedFlags()} {
		var f *pflag.Flag
		if short {
			f = fs.ShorthandLookup(name)
		} else {
			f = fs.Lookup(name)
		}
		if f != nil {
			return &flagInfo{name: f.Name, noValue: f.NoOptDefVal != ""}
		}
	}
	return nil
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// commandPath is the words after "warden" that name c.
func commandPath(c *cobra.Command) []string {
	p := strings.Fields(c.CommandPath())
	return p[1:]
}

func TestDocsCommandsParse(t *testing.T) {
	root := docRoot()
	paths := map[string][]string{} // command path -> where the docs show it
	total := 0
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../../")
		cmds := docCommands(name, string(b))
		total += len(cmds)
		for _, dc := range cmds {
			c, _, err := resolve(root, dc.args)
			if err != nil {
				t.Errorf("%s\n\t%v", dc, err)
				continue
			}
			key := strings.Join(commandPath(c), " ")
			paths[key] = append(paths[key], dc.where)
		}
	}
	if total < 50 {
		t.Fatalf("found only %d warden commands in the documentation's code blocks: is the extraction broken?", total)
	}
	// warden <command> --help, as a user would run it, for every command the documentation shows.
	for key, where := range paths {
		args := append(strings.Fields(key), "--help")
		cmd := exec.Command(wardenBin, args...)
		cmd.Env = cleanEnv(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("warden %s (shown at %s): %v\n%s", strings.Join(args, " "), where[0], err, out)
		}
	}
}

// TestDocsCoverTheCLI: docs/cli.md shows every command in a code block, with every flag it has
// (--addr and --token, which every client command takes, are described once).
func TestDocsCoverTheCLI(t *testing.T) {
	root := docRoot()
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	shown := map[*cobra.Command]map[string]bool{}
	for _, dc := range docCommands("docs/cli.md", string(b)) {
		c, used, err := resolve(root, dc.args)
		if err != nil {
			continue // TestDocsCommandsParse reports it
		}
		if shown[c] == nil {
			shown[c] = map[string]bool{}
		}
		for _, u := range used {
			shown[c][u] = true
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.HasSubCommands() || c.Name() == "help" || c.Name() == "completion" || (c.Parent() != nil && c.Parent().Name() == "completion") {
			return
		}
		if c == root {
			return
		}
		flags, ok := shown[c]
		if !ok {
			t.Errorf("docs/cli.md shows no %q in a code block", c.CommandPath())
			return
		}
		for _, name := range flagNames(c) {
			switch name {
			case "help", "addr", "token":
				continue
			}
			if !flags[name] {
				t.Errorf("docs/cli.md shows %q without its flag --%s", c.CommandPath(), name)
			}
		}
	}
	walk(root)
}

func flagNames(c *cobra.Command) []string {
	var names []string
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// TestDocsCheckCatchesMistakes: the check above fails on a misspelt command or flag, wherever the
// line stands; and reads the notation of the reference and of shell lines as they are meant.
func TestDocsCheckCatchesMistakes(t *testing.T) {
	root := docRoot()
	bad := []struct{ doc, want string }{
		{"```sh\nwarden request craete --roles x\n```", `unknown command "craete"`},
		{"```sh\nwarden tokens create --user bob\n```", `unknown command "tokens"`},
		{"```sh\ngo run ./cmd/warden dmeo\n```", `unknown command "dmeo"`},
		{"```sh\nwarden sync plan --delete-in-aw\n```", "unknown flag --delete-in-aw"},
		{"```sh\nwarden sync status --delete-in-aws\n```", "unknown flag --delete-in-aws"},
		{"```sh\nwarden integration preview [--delete-in-aws]   # a synopsis\n```", "unknown flag --delete-in-aws"},
		{"```sh\nwarden get role -x yaml\n```", "unknown flag -x"},
		{"```sh\nREQ=$(WARDEN_TOKEN=$DAN warden request create --role X -o name)\n```", "unknown flag --role"},
		{"```sh\nWARDEN_TOKEN=$BOB warden request reveiw $REQ --approve\n```", `unknown command "reveiw"`},
		{"```\n$ warden audit verfy\naudit log intact\n```", `unknown command "verfy"`},
		{"```sh\nwarden list members add LIST MEMBER [--expire T]\n```", "unknown flag --expire"},
		{"```sh\nwarden request review ID (--approve | --deni) [--reason T]\n```", "unknown flag --deni"},
		{"```sh\nwarden sim --seed demo \\\n  --quota aws\n```", "unknown flag --quota"},
		{"```sh\nwarden token create --user\n```", "needs a value"},
		{"```sh\nwarden sync plan && warden sync aply\n```", `unknown command "aply"`},
	}
	for _, tc := range bad {
		cmds := docCommands("bad.md", tc.doc)
		var errs []string
		for _, dc := range cmds {
			if _, _, err := resolve(root, dc.args); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%q: errors %q, want one with %q (commands found: %v)", tc.doc, errs, tc.want, cmds)
		}
	}
	good := []struct {
		doc  string
		want []string // the command paths found, in order
	}{
		{"```sh\nwarden request create (--roles R1,R2 | --resource account=A,permission_set=P) [--reason T] [--duration 2h] [--start TIME] [-o table|yaml|json|name]\n```", []string{"request create"}},
		{"```sh\nDAN=$(warden token create --user dan@example.com --ttl 8h)\nREQ=$(WARDEN_TOKEN=$DAN warden request create --roles A --duration 2h --reason \"hotfix 42\" -o name)\n```", []string{"token create", "request create"}},
		{"```sh\ncd /x\nwarden() { go run ./cmd/warden \"$@\"; }\nwarden get access_list\n```", []string{"get"}},
		{"```sh\nwarden sync plan [--delete-in-aws]            # what would change (exit 0: none, 2: pending)\n```", []string{"sync plan"}},
		{"```sh\ngo run ./cmd/warden demo --data-dir $(mktemp -d) --listen 127.0.0.1:0\n```", []string{"demo"}},
		{"```\n$ warden audit head\n1234:5f1c…e0\n$ warden audit verify --expect-head 1234:5f1c…e0\nwarden is not a command here\n```", []string{"audit head", "audit verify"}},
		{"```yaml\nwarden: not a command\n```\n```sh\nwarden list review LIST [--remove MEMBER ...] --notes TEXT [-o table|yaml|json|name]\n```", []string{"list review"}},
		{"```sh\nwarden integration aws-policy --format explained   # the IAM policy\nsimaws() { aws \"$@\"; }\nsimaws sso-admin list-instances --query \"X[?a=='b']\"\n```", []string{"integration aws-policy"}},
	}
	for _, tc := range good {
		var got []string
		for _, dc := range docCommands("good.md", tc.doc) {
			c, _, err := resolve(root, dc.args)
			if err != nil {
				t.Errorf("%s: %v", dc, err)
				continue
			}
			got = append(got, strings.Join(commandPath(c), " "))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: commands %q, want %q", tc.doc, got, tc.want)
		}
	}
}

// TestDocsLinks: every relative link of README.md, SECURITY.md and docs/*.md leads to a file or
// directory of the repository, and a #fragment to a heading of the page it names.
func TestDocsLinks(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := append(docFiles(t), "../../SECURITY.md")
	links := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../../")
		for _, l := range mdLinks(string(b)) {
			target := l.target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			path, frag, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
			}
			abs, err := filepath.Abs(dest)
			if err != nil {
				t.Fatal(err)
			}
			if abs != repo && !strings.HasPrefix(abs, repo+string(filepath.Separator)) {
				t.Errorf("%s:%d: link %q leads outside the repository", name, l.line, target)
				continue
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s:%d: link %q: %v", name, l.line, target, err)
				continue
			}
			if frag != "" {
				if !strings.HasSuffix(dest, ".md") {
					t.Errorf("%s:%d: link %q: a fragment of a page that is not Markdown", name, l.line, target)
					continue
				}
				page, err := os.ReadFile(dest)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(mdAnchors(string(page)), frag) {
					t.Errorf("%s:%d: link %q: %s has no heading #%s (it has %v)", name, l.line, target, path, frag, mdAnchors(string(page)))
				}
			}
		}
	}
	if links < 30 {
		t.Fatalf("found only %d relative links: is the extraction broken?", links)
	}
}

type mdLink struct {
	line   int
	target string
}

var (
	mdLinkRE   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	inlineCode = regexp.MustCompile("`[^`]*`")
)

// mdLinks are the link targets of a Markdown text, outside code blocks and code spans.
func mdLinks(text string) []mdLink {
	var out []mdLink
	inFence := ""
	for i, l := range strings.Split(text, "\n") {
		if fence, _, ok := openFence(l); ok && (inFence == "" || strings.HasPrefix(strings.TrimSpace(l), inFence)) {
			if inFence == "" {
				inFence = fence
			} else {
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			continue
		}
		for _, m := range mdLinkRE.FindAllStringSubmatch(inlineCode.ReplaceAllString(l, ""), -1) {
			out = append(out, mdLink{line: i + 1, target: m[1]})
		}
	}
	return out
}

// mdAnchors are the fragments GitHub gives a Markdown page's headings: lower case, punctuation
// dropped, spaces made hyphens.
func mdAnchors(text string) []string {
	var out []string
	inFence := ""
	for _, l := range strings.Split(text, "\n") {
		if fence, _, ok := openFence(l); ok && (inFence == "" || strings.HasPrefix(strings.TrimSpace(l), inFence)) {
			if inFence == "" {
				inFence = fence
			} else {
				inFence = ""
			}
			continue
		}
		if inFence != "" || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestDocsREADMETourIsThePrintedOne: the tour in the README's code blocks is, line for line, what
// warden demo prints on its default addresses and data directory, with the identifiers it fills in
// shown as "…".
func TestDocsREADMETourIsThePrintedOne(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## A five-minute tour")
	end := strings.Index(readme, "Beyond the printed tour")
	if start < 0 || end < start {
		t.Fatal(`README.md has no "## A five-minute tour" ending with "Beyond the printed tour"`)
	}
	var shown []string
	inBlock := false
	for _, l := range strings.Split(readme[start:end], "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inBlock = !inBlock
		case inBlock:
			shown = append(shown, l)
		}
	}
	var out strings.Builder
	tour{addr: "http://" + config.DefaultListen, dataDir: demoDataDir(), simURL: "http://" + DefaultSimListen,
		storeID: "d-…", instance: "arn:aws:sso:::instance/ssoins-…", psARN: "arn:aws:sso:::permissionSet/ssoins-…/ps-…"}.print(&out)
	printed := tourSteps(out.String())
	if !slices.Equal(shown, printed) {
		t.Errorf("the README's tour is not the one warden demo prints.\nREADME:\n\t%s\nprinted:\n\t%s",
			strings.Join(shown, "\n\t"), strings.Join(printed, "\n\t"))
	}
}
