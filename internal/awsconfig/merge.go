package awsconfig

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// File is an AWS config file split around warden's block for one sso-session: Before, Block and
// After are its bytes (Before+Block+After is the file); Block is empty when there is none.
type File struct {
	Before, Block, After []byte
	HasBlock             bool
	// BlockLine is the 1-based line of the block's begin marker.
	BlockLine int
	// NL is the line ending of warden's block: the one it has, else the file's ("\r\n" when its
	// first line ends so).
	NL string
	// Profiles and Sessions are the profile and sso-session names defined outside the block, with
	// the line of their header.
	Profiles, Sessions map[string]int
}

var (
	profileHeader = regexp.MustCompile(`^\[\s*profile\s+([^\]]*?)\s*\]`)
	defaultHeader = regexp.MustCompile(`^\[\s*default\s*\]`)
	sessionHeader = regexp.MustCompile(`^\[\s*sso-session\s+([^\]]*?)\s*\]`)
)

const beginPrefix = "# >>> warden sso-session "

// Parse splits data around warden's block for session. A begin marker without its end marker, an
// end marker without a begin, or two blocks for the session, are errors naming the line: nothing is
// to be written over a file warden cannot tell its part of.
func Parse(data []byte, session string) (*File, error) {
	if len(data) > MaxFile {
		return nil, fmt.Errorf("the config file is larger than %d bytes", MaxFile)
	}
	f := &File{NL: "\n", Profiles: map[string]int{}, Sessions: map[string]int{}}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		f.NL = "\r\n"
	}
	end := EndMarker(session)
	begin, stop := -1, -1
	lineNo := 0
	for off := 0; off < len(data); {
		lineNo++
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		line := strings.TrimSpace(string(data[off:next]))
		switch {
		case strings.HasPrefix(line, beginPrefix) && markerSession(line) == session:
			switch {
			case begin >= 0 && stop < 0:
				return nil, fmt.Errorf("line %d: warden's block for sso-session %s begins again inside the block that begins at line %d; its end marker (%s) is missing or broken: fix or remove the block, nothing was written", lineNo, session, f.BlockLine, end)
			case begin >= 0:
				return nil, fmt.Errorf("line %d: a second warden block for sso-session %s (the first begins at line %d): remove one, nothing was written", lineNo, session, f.BlockLine)
			}
			begin, f.BlockLine = off, lineNo
		case line == end:
			if begin < 0 || stop >= 0 {
				return nil, fmt.Errorf("line %d: the end marker of warden's block for sso-session %s has no begin marker before it: fix or remove it, nothing was written", lineNo, session)
			}
			stop = next
		case begin >= 0 && stop < 0:
			// inside warden's block
		default:
			if m := profileHeader.FindStringSubmatch(line); m != nil {
				if _, ok := f.Profiles[m[1]]; !ok {
					f.Profiles[m[1]] = lineNo
				}
			} else if defaultHeader.MatchString(line) {
				if _, ok := f.Profiles["default"]; !ok {
					f.Profiles["default"] = lineNo
				}
			} else if m := sessionHeader.FindStringSubmatch(line); m != nil {
				if _, ok := f.Sessions[m[1]]; !ok {
					f.Sessions[m[1]] = lineNo
				}
			}
		}
		off = next
	}
	if begin >= 0 && stop < 0 {
		return nil, fmt.Errorf("line %d: warden's block for sso-session %s has no end marker (%s), or a broken one: fix or remove the block, nothing was written", f.BlockLine, session, end)
	}
	if begin < 0 {
		f.Before = data
		return f, nil
	}
	f.HasBlock = true
	f.Before, f.Block, f.After = data[:begin], data[begin:stop], data[stop:]
	// The block keeps the line ending it was written with, so that a second run changes nothing
	// (a user's lone "\r" before a block appended with "\n" is not a CRLF file).
	if i := bytes.IndexByte(f.Block, '\n'); i > 0 && f.Block[i-1] == '\r' {
		f.NL = "\r\n"
	} else {
		f.NL = "\n"
	}
	return f, nil
}

// markerSession is the session a begin marker names.
func markerSession(line string) string {
	rest := strings.TrimPrefix(line, beginPrefix)
	if i := strings.IndexAny(rest, ": \t"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// Merge puts the configuration of entries into data (an AWS config file, possibly empty): warden's
// block replaced where it is, or appended. The rest of data is kept byte for byte; profile names
// defined outside the block are not used (Config.Warnings says which profiles were renamed).
func Merge(data []byte, o Options, entries []Entry) ([]byte, *Config, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	f, err := Parse(data, o.Session)
	if err != nil {
		return nil, nil, err
	}
	if line, ok := f.Sessions[o.Session]; ok {
		return nil, nil, fmt.Errorf("line %d: [sso-session %s] is yours (outside warden's block): choose another session name (--session-name), nothing was written", line, o.Session)
	}
	reserved := make(map[string]bool, len(f.Profiles))
	for n := range f.Profiles {
		reserved[n] = true
	}
	cfg, err := Build(o, entries, reserved)
	if err != nil {
		return nil, nil, err
	}
	block := cfg.Block(f.NL)
	out := make([]byte, 0, len(f.Before)+len(block)+len(f.After)+4)
	out = append(out, f.Before...)
	if !f.HasBlock && len(f.Before) > 0 {
		if f.Before[len(f.Before)-1] != '\n' {
			out = append(out, f.NL...)
		}
		out = append(out, f.NL...)
	}
	out = append(out, block...)
	out = append(out, f.After...)
	return out, cfg, nil
}

// Diff describes, for --dry-run, what changes from old to new (two versions of a config file), by
// section: sections added (+), removed (-), and the lines changed within the others. Empty when
// nothing changes.
func Diff(old, new []byte, label string) string {
	if bytes.Equal(old, new) {
		return ""
	}
	ol, nl := lines(old), lines(new)
	p := 0
	for p < len(ol) && p < len(nl) && ol[p] == nl[p] {
		p++
	}
	s := 0
	for s < len(ol)-p && s < len(nl)-p && ol[len(ol)-1-s] == nl[len(nl)-1-s] {
		s++
	}
	os, ns := sections(ol[p:len(ol)-s]), sections(nl[p:len(nl)-s])
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s (after warden aws config)\n", label, label)
	oldBy := map[string]section{}
	for _, sec := range os {
		oldBy[sec.key] = sec
	}
	newKeys := map[string]bool{}
	same := 0
	for _, sec := range ns {
		newKeys[sec.key] = true
		o, ok := oldBy[sec.key]
		switch {
		case !ok:
			for _, l := range sec.lines {
				b.WriteString("+" + l + "\n")
			}
		case slices.Equal(o.lines, sec.lines):
			same++
		default:
			if sec.key != "" {
				b.WriteString(" " + sec.key + "\n")
			}
			for _, l := range o.lines {
				if !slices.Contains(sec.lines, l) {
					b.WriteString("-" + l + "\n")
				}
			}
			for _, l := range sec.lines {
				if !slices.Contains(o.lines, l) {
					b.WriteString("+" + l + "\n")
				}
			}
		}
	}
	for _, sec := range os {
		if !newKeys[sec.key] {
			for _, l := range sec.lines {
				b.WriteString("-" + l + "\n")
			}
		}
	}
	if same > 0 {
		fmt.Fprintf(&b, "(%d other sections unchanged)\n", same)
	}
	return b.String()
}

func lines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type section struct {
	key   string // the header line ("" before any)
	lines []string
}

// sections groups lines by section header; comment and blank lines just before a header belong to
// its section.
func sections(ls []string) []section {
	var out []section
	cur := section{}
	var pending []string
	for _, l := range ls {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "["):
			if cur.key != "" || len(cur.lines) > 0 {
				out = append(out, cur)
			}
			cur = section{key: t, lines: append(pending, l)}
			pending = nil
		case t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";"):
			pending = append(pending, l)
		default:
			cur.lines = append(cur.lines, pending...)
			cur.lines = append(cur.lines, l)
			pending = nil
		}
	}
	cur.lines = append(cur.lines, pending...)
	if cur.key != "" || len(cur.lines) > 0 {
		out = append(out, cur)
	}
	return out
}
