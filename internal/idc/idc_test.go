package idc_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
)

// newClient starts a simulator with the demo organisation and builds a client the way warden serve
// does: the standard AWS chain, with the endpoint from AWS_ENDPOINT_URL.
func newClient(t *testing.T, opts idcsim.Options, cfg idc.Config) (*idc.Client, *idcsim.Sim) {
	t.Helper()
	sim := idcsim.New(opts)
	if err := sim.Update(idcsim.SeedDemo); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.RetryMaxBackoff == 0 {
		cfg.RetryMaxBackoff = 5 * time.Millisecond
	}
	c, err := idc.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

func TestDiscoveryAndReads(t *testing.T) {
	c, sim := newClient(t, idcsim.Options{Seed: 1}, idc.Config{})
	if c.InstanceARN != sim.InstanceARN() || c.IdentityStoreID != sim.IdentityStoreID() {
		t.Fatalf("discovered %s %s", c.InstanceARN, c.IdentityStoreID)
	}
	ctx := context.Background()
	accounts, err := c.Accounts(ctx)
	if err != nil || len(accounts) != 6 {
		t.Fatalf("accounts: %v %v", accounts, err)
	}
	sets, err := c.PermissionSets(ctx)
	if err != nil || len(sets) != 5 {
		t.Fatalf("permission sets: %v %v", sets, err)
	}
	users, err := c.Users(ctx)
	if err != nil || len(users) != 12 {
		t.Fatalf("users: %d %v", len(users), err)
	}
	id, err := c.UserID(ctx, "alice@example.com")
	if err != nil || id == "" {
		t.Fatalf("UserID: %q %v", id, err)
	}
	if id, err := c.UserID(ctx, "nobody@example.com"); err != nil || id != "" {
		t.Fatalf("UserID of nobody: %q %v", id, err)
	}
	gid, err := c.GroupID(ctx, "DevOps")
	if err != nil || gid == "" {
		t.Fatal(err)
	}
	members, err := c.Memberships(ctx, gid)
	if err != nil || len(members) != 3 || members[id] == "" {
		t.Fatalf("DevOps members: %v %v", members, err)
	}
	as, err := c.AssignmentsForPrincipal(ctx, "GROUP", gid)
	if err != nil || len(as) != 4 {
		t.Fatalf("DevOps assignments: %v %v", as, err)
	}
	if c.Calls()["SSO Admin:ListInstances"] != 1 {
		t.Fatalf("calls: %v", c.Calls())
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  idc.Config
		want string
	}{
		{idc.Config{}, "identity_center.region"},
		{idc.Config{Region: "us-east-1", InstanceARN: "ssoins-1"}, "identity_center.instance_arn"},
		{idc.Config{Region: "us-east-1", IdentityStoreID: "store"}, "identity_center.identity_store_id"},
		{idc.Config{Region: "us-east-1", SafetyBrake: 2}, "identity_center.safety_brake"},
		{idc.Config{Region: "us-east-1", Groups: idc.Filter{Include: []string{"("}}}, "identity_center.groups"},
	} {
		err := c.cfg.Validate()
		if err == nil || len(err.Error()) < len(c.want) || err.Error()[:len(c.want)] != c.want {
			t.Errorf("%+v: %v, want an error on %s", c.cfg, err, c.want)
		}
	}
}

// Writes are idempotent where Identity Center allows it, and throttling and propagation conflicts
// are retried.
func TestWritesRetryAndAreIdempotent(t *testing.T) {
	c, sim := newClient(t, idcsim.Options{Seed: 5, ThrottleRate: 0.3, ConflictRate: 0.5}, idc.Config{})
	ctx := context.Background()
	d := c.Dir()
	uid, err := d.CreateUser(ctx, idc.User{UserName: "zoe@example.com", DisplayName: "Zoe Park", GivenName: "Zoe", FamilyName: "Park", Email: "zoe@example.com"}, "")
	if err != nil {
		t.Fatal(err)
	}
	gid, err := d.CreateGroup(ctx, "Data", "", "")
	if err != nil {
		t.Fatal(err)
	}
	m1, err := d.AddMembers(ctx, gid, []string{uid})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := d.AddMembers(ctx, gid, []string{uid})
	if err != nil || m2[0] != m1[0] {
		t.Fatalf("adding a member twice: %q %v, want %q", m2, err, m1)
	}
	if err := d.RemoveMembers(ctx, gid, []idc.Membership{{UserID: uid, ID: m1[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveMembers(ctx, gid, []idc.Membership{{UserID: uid, ID: m1[0]}}); err != nil {
		t.Fatalf("removing a membership twice: %v", err)
	}
	if err := d.UpdateUser(ctx, uid, idc.User{DisplayName: "Zoe P.", GivenName: "Zoe", FamilyName: "P.", Email: "zp@example.com"}); err != nil {
		t.Fatal(err)
	}
	u, err := c.DescribeUser(ctx, uid)
	if err != nil || u.DisplayName != "Zoe P." || u.Email != "zp@example.com" {
		t.Fatalf("after update: %+v %v", u, err)
	}
	if err := d.DeleteUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteUser(ctx, uid); err != nil {
		t.Fatalf("deleting a user twice: %v", err)
	}
	if s := sim.Stats(); s.Throttled == 0 {
		t.Fatalf("no throttles injected (%+v): the test proves nothing", s)
	}
}

// A call Identity Center refused for its rate empties warden's bucket: the next waits a token's time
// instead of being sent at once into the same refusal.
func TestLimiterThrottledEmptiesTheBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := idc.NewLimiter(20, 20)
	idc.SetLimiterNow(l, func() time.Time { return now })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, idc.Priority); err != nil {
		t.Fatalf("a full bucket refused a call: %v", err)
	}
	l.Throttled()
	if err := l.Wait(ctx, idc.Priority); err == nil {
		t.Fatal("after a throttle, a call went at once: the bucket still held the tokens AWS did not have")
	}
	now = now.Add(50 * time.Millisecond) // one token's time at 20 calls/s
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := l.Wait(ctx2, idc.Priority); err != nil {
		t.Fatalf("a token's time after the throttle, the call still waited: %v", err)
	}
}

// A background caller waits while priority callers are waiting.
func TestLimiterLanes(t *testing.T) {
	l := idc.NewLimiter(50, 1)
	ctx := context.Background()
	if err := l.Wait(ctx, idc.Priority); err != nil { // take the only token
		t.Fatal(err)
	}
	// The limiter reads the clock each time a waiter looks for a token: the first read after this
	// one is the background caller's.
	looked := make(chan struct{}, 1)
	idc.SetLimiterNow(l, func() time.Time {
		select {
		case looked <- struct{}{}:
		default:
		}
		return time.Now()
	})
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Wait(ctx, idc.Background)
		mu.Lock()
		order = append(order, "background")
		mu.Unlock()
	}()
	<-looked // the background caller is waiting first
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Wait(ctx, idc.Priority)
			mu.Lock()
			order = append(order, "priority")
			mu.Unlock()
		}()
	}
	wg.Wait()
	if order[len(order)-1] != "background" {
		t.Fatalf("order %v: the background call went before waiting priority calls", order)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := idc.NewLimiter(1, 1).Wait(cctx, idc.Priority); err == nil {
		t.Fatal("Wait on a cancelled context succeeded")
	}
}
