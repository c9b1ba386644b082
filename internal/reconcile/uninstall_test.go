package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/reconcile"
)

// Uninstall removes every assignment warden made (standing grants of lists and users), deletes the
// groups it made when asked, touches nothing else, and stops the sync for good, restarts included.
func TestUninstall(t *testing.T) {
	e := newEnv(t, idcsim.Options{Seed: 4})
	withRole := strings.Replace(org, "spec: {display_name: Carol Jensen, email: carol@example.com, roles: [requester]}",
		"spec: {display_name: Carol Jensen, email: carol@example.com, roles: [requester, staging-admin]}", 1)
	if withRole == org {
		t.Fatal("the fixture changed: carol's spec was not found to give her staging-admin")
	}
	e.apply(withRole)
	e.sync(true)
	_, before := e.state()
	if !before["carol@example.com 058264527036 admin"] || !before["Platform 058264527036 admin"] {
		t.Fatalf("not synced: %v", before)
	}
	// Uninstall runs while the loop runs, as in a server.
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.waitFor("the loop leading", 10*time.Second, e.engine.Leading)
	dry, err := e.engine.Uninstall(e.ctx, true, true)
	if err != nil {
		t.Fatal(err)
	}
	// Platform's admin on Staging, Everyone's read-only on the four accounts (the management
	// account too), carol's admin on Staging.
	if len(dry.Assignments) != 6 || !slices.Contains(dry.Assignments, "AdministratorAccess on Staging (058264527036) for USER carol@example.com") || !slices.Equal(dry.Groups, []string{"Everyone", "Platform"}) || dry.Done {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, after := e.state(); len(after) != len(before) {
		t.Fatal("a dry run changed Identity Center")
	}
	if res, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false); err != nil || res.Plan.Changes() != 0 {
		t.Fatalf("a dry run stopped or disturbed the sync: %v", err)
	}

	got, err := e.engine.Uninstall(e.ctx, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || len(got.Errors) != 0 {
		t.Fatalf("uninstall: %+v", got)
	}
	groups, after := e.state()
	want := []string{"Contractors 637423191929 ro", "ghost@example.com 637423191929 admin"}
	var have []string
	for a := range after {
		have = append(have, a)
	}
	slices.Sort(have)
	if !slices.Equal(have, want) {
		t.Errorf("assignments after uninstall: %v, want only the hand-made %v", have, want)
	}
	if _, ok := groups["Platform"]; ok {
		t.Error("the group warden made is still there")
	}
	if strings.Join(groups["Contractors"], ",") != "ghost@example.com" {
		t.Errorf("the hand-made group changed: %v", groups["Contractors"])
	}
	e.sim.Update(func(d *idcsim.Directory) error {
		if _, ok := d.UserID("carol@example.com"); !ok {
			t.Error("uninstall deleted a user")
		}
		return nil
	})
	// The sync stays off, in this process and after a restart.
	if _, err := e.engine.Sync(e.ctx, reconcile.PlanOptions{Full: true}, false); !errors.Is(err, reconcile.ErrUninstalled) {
		t.Fatalf("sync after uninstall: %v", err)
	}
	_, restarted := e.newEngine(e.client.Endpoint(), e.engine.Config())
	if _, _, _, err := restarted.Plan(e.ctx, reconcile.PlanOptions{Full: true}); !errors.Is(err, reconcile.ErrUninstalled) {
		t.Fatalf("plan after a restart: %v", err)
	}
	// Again: nothing left to do, nothing fails.
	again, err := e.engine.Uninstall(e.ctx, true, false)
	if err != nil || len(again.Assignments) != 0 || len(again.Groups) != 0 || !again.Done {
		t.Fatalf("second uninstall: %+v %v", again, err)
	}
}
