package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// LoginToken describes a token `warden login` receives (package auth/clilogin).
type LoginToken struct {
	User string
	// Flow is how the login went: resource.CLIFlowLoopback or resource.CLIFlowDevice.
	Flow string
	TTL  time.Duration
	// Session is the browser session that confirmed the login, and SecondFactorAt that session's
	// latest second factor (copied onto the token, for step-up).
	Session        string
	SecondFactorAt time.Time
}

// IssueLogin issues, inside tx, the token a person's own `warden login` receives: acting as
// l.User, issued by l.User (not on behalf of anyone), marked with the login flow, for l.TTL capped
// at MaxTTL. Its creation is audited in tx with the user as actor, the flow and the session. The
// caller checks, in the same tx, that the login was confirmed and consumes it.
func (t *Tokens) IssueLogin(ctx context.Context, tx store.Tx, l LoginToken) (string, *resource.Object, error) {
	ttl := min(l.TTL, t.maxTTL)
	if ttl <= 0 {
		return "", nil, fmt.Errorf("login token TTL %s: must be positive", ttl)
	}
	spec := &resource.APITokenSpec{User: l.User, Issuer: l.User, Login: l.Flow}
	if !l.SecondFactorAt.IsZero() {
		spec.SecondFactorAt = l.SecondFactorAt.UTC()
	}
	token, o, err := t.newToken(spec, ttl)
	if err != nil {
		return "", nil, err
	}
	e := created(o, ttl)
	e.Actor = l.User
	e.Detail = fmt.Sprintf("%s, received by warden login (%s)", e.Detail, l.Flow)
	if l.Session != "" {
		e.Detail += " confirmed in a browser session"
	}
	if err := t.put(ctx, tx, o, e); err != nil {
		return "", nil, err
	}
	return token, o, nil
}
