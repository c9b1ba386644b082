package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"

	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"golang.org/x/sync/errgroup"
)

// demoPasswordsFile keeps, in the demo's data directory (0600), the password the demo gave each
// sample person, so a second run prints the same ones.
const demoPasswordsFile = "demo-passwords.json"

// demoPerson is one sample person who can sign in to the demo's pages.
type demoPerson struct {
	User, Password string
}

// newDemoPassword is a random password people can type: four groups of four lowercase letters and
// digits (about 80 bits), never a common one.
func newDemoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	rand.Read(b)
	out := make([]byte, 0, 19)
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// demoPeople gives every sample person a local credential with a demo password (kept in the data
// directory), unless they have one already from an earlier run, and returns them all.
func demoPeople(ctx context.Context, srv *server.Server, dataDir string) ([]demoPerson, error) {
	la := srv.LocalAuth()
	if la == nil {
		return nil, errors.New("demo: local accounts are off")
	}
	path := filepath.Join(dataDir, demoPasswordsFile)
	saved := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &saved); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	users, err := srv.Store().List(ctx, resource.KindUser, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var people, fresh []demoPerson
	for _, u := range users {
		name := u.Metadata.Name
		acct, err := la.Accounts.Lookup(ctx, name)
		if err != nil {
			return nil, err
		}
		pw, ok := saved[name]
		switch {
		case acct == nil: // no credential yet
			p := demoPerson{User: name, Password: newDemoPassword()}
			fresh = append(fresh, p)
			people = append(people, p)
		case ok:
			people = append(people, demoPerson{User: name, Password: pw})
		default: // enrolled by an invitation: their own password, not printed
		}
	}
	// Hashing (argon2id) takes a while each: two at a time, the two cores of a small machine.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, p := range fresh {
		g.Go(func() error {
			if err := la.Accounts.SetCredential(gctx, local.Actor{User: resource.BootstrapAdmin}, p.User, p.Password); err != nil {
				return fmt.Errorf("giving %s a demo password: %w", p.User, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, p := range fresh {
		saved[p.User] = p.Password
	}
	changed := len(fresh) > 0
	if changed {
		b, _ := json.MarshalIndent(saved, "", "  ")
		if err := writePrivate(path, b); err != nil {
			return nil, err
		}
	}
	sort.Slice(people, func(i, j int) bool { return people[i].User < people[j].User })
	return people, nil
}

// printPeople writes each sample person's sign-in link and demo password.
func printPeople(w io.Writer, addr string, people []demoPerson) {
	if len(people) == 0 {
		return
	}
	fmt.Fprintf(w, "\nSign in to warden's pages as any sample person, with the password alone: the demo sets\n")
	fmt.Fprintf(w, "auth.second_factor to optional (the default, outside the demo, requires an authenticator\n")
	fmt.Fprintf(w, "app or a passkey). The passwords are kept in %s.\n\n", demoPasswordsFile)
	width := 0
	for _, p := range people {
		width = max(width, len(p.User))
	}
	for _, p := range people {
		fmt.Fprintf(w, "    %-*s  %s  %s/login?user=%s\n", width, p.User, p.Password, addr, url.QueryEscape(p.User))
	}
}
