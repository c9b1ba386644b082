package idc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/testenv"
)

// The SCIM client is also tested against a service provider no one here wrote: SCIMMY (npm scimmy
// 1.x), served by testdata/scimmy-sp.mjs. SCIMMY parses the requests, applies the PATCH operations
// and formats the answers; the script stores the resources in memory. .ci/run installs scimmy
// under WARDEN_TEST_NPM (default $HOME/.cache/warden-test-npm):
//
//	npm install --prefix "$HOME/.cache/warden-test-npm" scimmy@1

// scimmySP is testdata/scimmy-sp.mjs running.
type scimmySP struct {
	base  string // the SCIM base URL, http://127.0.0.1:<port>/scim/v2
	token string
	hc    *http.Client

	mu  sync.Mutex
	log strings.Builder // the script's stderr: a line per request
}

func (sp *scimmySP) Write(b []byte) (int, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.log.Len() < 1<<20 {
		sp.log.Write(b)
	}
	return len(b), nil
}

func (sp *scimmySP) output() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.log.String()
}

// scimmyDir finds scimmy 1.x under WARDEN_TEST_NPM (or its default); an error wrapping
// errMissingPeer when it is not installed.
func scimmyDir() (string, error) {
	prefix := os.Getenv("WARDEN_TEST_NPM")
	if prefix == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%w: no WARDEN_TEST_NPM and no home directory", errMissingPeer)
		}
		prefix = filepath.Join(home, ".cache", "warden-test-npm")
	}
	dir := filepath.Join(prefix, "node_modules", "scimmy")
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("%w: scimmy is not installed under %s (npm install --prefix %q scimmy@1)", errMissingPeer, prefix, prefix)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || !strings.HasPrefix(pkg.Version, "1.") {
		return "", fmt.Errorf("%s holds scimmy %q; the test needs 1.x (npm install --prefix %q scimmy@1)", dir, pkg.Version, prefix)
	}
	return dir, nil
}

var errMissingPeer = errors.New("no SCIMMY service provider to test against")

// startSCIMMY starts the SCIMMY service provider accepting token, stopped (the node process killed)
// when t ends. Without node or scimmy it stops t through testenv.Need: a skip locally, a failure
// under CI=true.
func startSCIMMY(t *testing.T, token string) *scimmySP {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Need(t, fmt.Errorf("%w: node is not installed", errMissingPeer))
	}
	dir, err := scimmyDir()
	if errors.Is(err, errMissingPeer) {
		testenv.Need(t, err)
	} else if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "scimmy-sp.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	sp := &scimmySP{token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "SCIMMY_DIR="+dir, "SCIM_TOKEN="+token)
	cmd.Stderr = sp
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting node %s: %v", script, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel() // kills node
		<-exited
		if t.Failed() {
			t.Logf("the SCIMMY service provider's log:\n%s", sp.output())
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "listening" {
				port <- f[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	select {
	case p := <-port:
		sp.base = "http://127.0.0.1:" + p + "/scim/v2"
	case <-exited:
		t.Fatalf("node scimmy-sp.mjs ended before serving: %s", sp.output())
	case <-timer.C:
		t.Fatalf("node scimmy-sp.mjs did not serve within 60 s: %s", sp.output())
	}
	return sp
}

// get reads path from the service provider with its token, decoding the answer into out when it is
// 200; it answers the status.
func (sp *scimmySP) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sp.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sp.token)
	req.Header.Set("Accept", "application/scim+json")
	resp, err := sp.hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, b)
		}
	}
	return resp.StatusCode
}

type spUser struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Name        struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Emails []struct {
		Value   string `json:"value"`
		Type    string `json:"type"`
		Primary bool   `json:"primary"`
	} `json:"emails"`
	Active bool `json:"active"`
	Meta   struct {
		ResourceType string `json:"resourceType"`
		Location     string `json:"location"`
	} `json:"meta"`
}

type spGroup struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId"`
	DisplayName string `json:"displayName"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
}

func (sp *scimmySP) user(t *testing.T, id string) spUser {
	t.Helper()
	var u spUser
	if st := sp.get(t, "/Users/"+url.PathEscape(id), &u); st != http.StatusOK {
		t.Fatalf("GET /Users/%s: %d", id, st)
	}
	return u
}

// members reads a group's members from the service provider: their ids, sorted, each once, and
// how many entries the group lists.
func (sp *scimmySP) members(t *testing.T, gid string) (ids []string, entries int) {
	t.Helper()
	var g spGroup
	if st := sp.get(t, "/Groups/"+url.PathEscape(gid), &g); st != http.StatusOK {
		t.Fatalf("GET /Groups/%s: %d", gid, st)
	}
	for _, m := range g.Members {
		ids = append(ids, m.Value)
	}
	slices.Sort(ids)
	return slices.Compact(ids), len(g.Members)
}

// count answers how many resources of type ("Users", "Groups") filter matches.
func (sp *scimmySP) count(t *testing.T, typ, filter string) int {
	t.Helper()
	var list struct {
		TotalResults int               `json:"totalResults"`
		Resources    []json.RawMessage `json:"Resources"`
	}
	if st := sp.get(t, "/"+typ+"?"+url.Values{"filter": {filter}}.Encode(), &list); st != http.StatusOK {
		t.Fatalf("GET /%s?filter=%s: %d", typ, filter, st)
	}
	if list.TotalResults != len(list.Resources) {
		t.Fatalf("GET /%s?filter=%s: totalResults %d with %d resources", typ, filter, list.TotalResults, len(list.Resources))
	}
	return list.TotalResults
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Warden's SCIM client against SCIMMY: users created with their externalId, a second user of a
// name refused as a conflict, a user updated, a group created, members added in one PATCH and
// removed by value filter (idempotently), the group renamed, deleted, a user deleted (twice), the
// connection test, and a wrong token refused with the error saying how to set one. Every write is
// checked by reading the service provider's state over plain HTTP.
func TestSCIMClientAgainstSCIMMY(t *testing.T) {
	const token = "scimmy-test-token"
	sp := startSCIMMY(t, token)
	c, _ := newClient(t, idcsim.Options{Seed: 11}, idc.Config{})
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: sp.base}, idc.StaticTokens{token}, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := c.Dir()

	if n, err := d.(*idc.SCIMDirectory).TestConnection(ctx); err != nil || n != 1 {
		t.Fatalf("connection test: token %d, %v", n, err)
	}

	// Users, with warden's externalId.
	people := []idc.User{
		{UserName: "ann@example.com", DisplayName: "Ann A", GivenName: "Ann", FamilyName: "A", Email: "ann@example.com"},
		{UserName: "bob@example.com", DisplayName: "Bob B", GivenName: "Bob", FamilyName: "B", Email: "bob@example.com"},
		{UserName: "cat@example.com", DisplayName: "Cat C", GivenName: "Cat", FamilyName: "C"},
		{UserName: "dan@example.com", DisplayName: "Dan D", GivenName: "Dan", FamilyName: "D", Email: "dan@example.com"},
	}
	ids := make([]string, len(people))
	for i, p := range people {
		id, err := d.CreateUser(ctx, p, "warden:user:"+p.UserName)
		if err != nil {
			t.Fatalf("creating %s: %v", p.UserName, err)
		}
		ids[i] = id
		got := sp.user(t, id)
		if got.ID != id || got.UserName != p.UserName || got.ExternalID != "warden:user:"+p.UserName || got.DisplayName != p.DisplayName ||
			got.Name.GivenName != p.GivenName || got.Name.FamilyName != p.FamilyName || !got.Active || got.Meta.ResourceType != "User" ||
			got.Meta.Location != sp.base+"/Users/"+id {
			t.Fatalf("%s as SCIMMY stores it: %+v", p.UserName, got)
		}
		switch {
		case p.Email == "" && len(got.Emails) != 0:
			t.Fatalf("%s: emails %+v, none sent", p.UserName, got.Emails)
		case p.Email != "" && (len(got.Emails) != 1 || got.Emails[0].Value != p.Email || !got.Emails[0].Primary || got.Emails[0].Type != "work"):
			t.Fatalf("%s: emails %+v, want one primary work email %s", p.UserName, got.Emails, p.Email)
		}
	}
	ann, bob, cat, dan := ids[0], ids[1], ids[2], ids[3]

	// A second user of a name. SCIMMY's User schema declares userName's uniqueness ("server") but
	// does not enforce it: its ingress handler, the service provider's code, must. The script's
	// does, answering with SCIMMY's error message: 409, scimType uniqueness (RFC 7644 §3.12). Warden
	// maps that to the code identitystore gives the same condition.
	_, err := d.CreateUser(ctx, idc.User{UserName: "ann@example.com", DisplayName: "Ann Again", GivenName: "Ann", FamilyName: "Again"}, "warden:user:ann-again")
	var se *idc.SCIMError
	if idc.ErrorCode(err) != "ConflictException" || !errors.As(err, &se) || se.Status != http.StatusConflict || se.ScimType != "uniqueness" {
		t.Fatalf("a second user named ann@example.com: %v (code %q), want 409 uniqueness, ConflictException", err, idc.ErrorCode(err))
	}
	if n := sp.count(t, "Users", `userName eq "ann@example.com"`); n != 1 {
		t.Fatalf("%d users named ann@example.com after the refused duplicate", n)
	}

	// An update: the names and the email replaced, the rest kept.
	if err := d.UpdateUser(ctx, ann, idc.User{DisplayName: "Ann Zulu", GivenName: "Ann", FamilyName: "Zulu", Email: "az@example.com"}); err != nil {
		t.Fatal(err)
	}
	got := sp.user(t, ann)
	if got.UserName != "ann@example.com" || got.ExternalID != "warden:user:ann@example.com" || got.DisplayName != "Ann Zulu" ||
		got.Name.GivenName != "Ann" || got.Name.FamilyName != "Zulu" || !got.Active ||
		len(got.Emails) != 1 || got.Emails[0].Value != "az@example.com" || !got.Emails[0].Primary {
		t.Fatalf("after the update: %+v", got)
	}
	// Without an email, the update leaves the one stored.
	if err := d.UpdateUser(ctx, bob, idc.User{DisplayName: "Robert B", GivenName: "Robert", FamilyName: "B"}); err != nil {
		t.Fatal(err)
	}
	if got := sp.user(t, bob); got.DisplayName != "Robert B" || got.Name.GivenName != "Robert" || len(got.Emails) != 1 || got.Emails[0].Value != "bob@example.com" {
		t.Fatalf("after an update without email: %+v", got)
	}

	// A group, with warden's externalId.
	gid, err := d.CreateGroup(ctx, "Ann's team", "warden access list ann", "warden:group:ann")
	if err != nil {
		t.Fatal(err)
	}
	var g spGroup
	if st := sp.get(t, "/Groups/"+gid, &g); st != http.StatusOK || g.DisplayName != "Ann's team" || g.ExternalID != "warden:group:ann" || len(g.Members) != 0 {
		t.Fatalf("the group as SCIMMY stores it: %d %+v", st, g)
	}

	// Four members added in one PATCH.
	before := c.Calls()["scim:PATCH /Groups/{id}"]
	mids, err := d.AddMembers(ctx, gid, ids)
	if err != nil || len(mids) != 4 || mids[0] != idc.MembershipUnknown {
		t.Fatalf("adding 4 members: %v %v", mids, err)
	}
	if n := c.Calls()["scim:PATCH /Groups/{id}"] - before; n != 1 {
		t.Fatalf("4 members added in %d PATCH requests, want 1", n)
	}
	if m, n := sp.members(t, gid); !slices.Equal(m, sorted(ids...)) || n != 4 {
		t.Fatalf("members after adding 4: %v (%d entries), want %v", m, n, sorted(ids...))
	}

	// Two removed, each by a value filter (members[value eq "<id>"], RFC 7644 §3.5.2.2), in one
	// PATCH.
	before = c.Calls()["scim:PATCH /Groups/{id}"]
	if err := d.RemoveMembers(ctx, gid, []idc.Membership{{UserID: bob}, {UserID: dan}}); err != nil {
		t.Fatal(err)
	}
	if n := c.Calls()["scim:PATCH /Groups/{id}"] - before; n != 1 {
		t.Fatalf("2 members removed in %d PATCH requests, want 1", n)
	}
	if m, n := sp.members(t, gid); !slices.Equal(m, sorted(ann, cat)) || n != 2 {
		t.Fatalf("members after removing bob and dan: %v (%d entries), want %v", m, n, sorted(ann, cat))
	}
	// Removing a member already gone is no error: a filter matching nothing removes nothing
	// (SCIMMY answers 204, nothing changed).
	if err := d.RemoveMembers(ctx, gid, []idc.Membership{{UserID: bob}}); err != nil {
		t.Fatalf("removing a member already removed: %v", err)
	}
	// Adding a member already there is no error. SCIMMY appends the value a second time, where RFC
	// 7644 §3.5.2.1 says a server SHOULD make no change; warden's removal by value filter takes out
	// every entry of the member, so the membership still ends with one removal.
	if _, err := d.AddMembers(ctx, gid, []string{cat}); err != nil {
		t.Fatalf("adding a member already there: %v", err)
	}
	if m, n := sp.members(t, gid); !slices.Equal(m, sorted(ann, cat)) {
		t.Fatalf("members after adding cat again: %v (%d entries), want %v", m, n, sorted(ann, cat))
	} else if n != 2 {
		t.Logf("SCIMMY lists cat %d times after the second add", n-1)
	}
	if err := d.RemoveMembers(ctx, gid, []idc.Membership{{UserID: cat}}); err != nil {
		t.Fatal(err)
	}
	if m, n := sp.members(t, gid); !slices.Equal(m, []string{ann}) || n != 1 {
		t.Fatalf("members after removing cat: %v (%d entries), want [%s]", m, n, ann)
	}

	// Renamed: the members stay.
	if err := d.RenameGroup(ctx, gid, "Ann's crew"); err != nil {
		t.Fatal(err)
	}
	if n := sp.count(t, "Groups", `displayName eq "Ann's crew"`); n != 1 {
		t.Fatalf("%d groups named Ann's crew after the rename", n)
	}
	if n := sp.count(t, "Groups", `displayName eq "Ann's team"`); n != 0 {
		t.Fatalf("%d groups still named Ann's team after the rename", n)
	}
	if m, _ := sp.members(t, gid); !slices.Equal(m, []string{ann}) {
		t.Fatalf("members after the rename: %v", m)
	}

	// Deleted, and deleted again: not an error.
	if err := d.DeleteGroup(ctx, gid); err != nil {
		t.Fatal(err)
	}
	if st := sp.get(t, "/Groups/"+gid, nil); st != http.StatusNotFound {
		t.Fatalf("GET the deleted group: %d, want 404", st)
	}
	if err := d.DeleteGroup(ctx, gid); err != nil {
		t.Fatalf("deleting a group already gone: %v", err)
	}
	if err := d.DeleteUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if st := sp.get(t, "/Users/"+bob, nil); st != http.StatusNotFound {
		t.Fatalf("GET the deleted user: %d, want 404", st)
	}
	if err := d.DeleteUser(ctx, bob); err != nil {
		t.Fatalf("deleting a user already gone: %v", err)
	}
	if n := sp.count(t, "Users", `userName pr`); n != 3 {
		t.Fatalf("%d users left, want 3", n)
	}

	// A wrong token: refused, the error says how to set one, nothing is written.
	if err := c.UseSCIM(idc.SCIMConfig{Endpoint: sp.base}, idc.StaticTokens{"wrong-token"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Dir().CreateGroup(ctx, "G-bad", "", "")
	if err == nil || !strings.Contains(err.Error(), "warden integration scim-token set") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("with a wrong token: %v", err)
	}
	if _, err := c.Dir().(*idc.SCIMDirectory).TestConnection(ctx); err == nil || !strings.Contains(err.Error(), "warden integration scim-token set") {
		t.Fatalf("connection test with a wrong token: %v", err)
	}
	if n := sp.count(t, "Groups", `displayName eq "G-bad"`); n != 0 {
		t.Fatalf("a group was created with a wrong token")
	}
}
