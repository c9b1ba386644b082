package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// SCIMTokenName is the one object holding Identity Center's SCIM tokens.
const SCIMTokenName = resource.IDCSCIMTokenName

// SCIMTokenLife is how long Identity Center's SCIM tokens last: a year.
const SCIMTokenLife = 365 * 24 * time.Hour

// SCIMTokenWarning is how long before a token expires warden warns about it.
const SCIMTokenWarning = resource.IDCSCIMTokenWarning

// MaxSCIMToken bounds a token's length (Identity Center's are about 1 KB).
const MaxSCIMToken = 8 << 10

// SCIMTokenInfo is what may be shown of a token: never the token.
type SCIMTokenInfo struct {
	ID         string    `json:"id"`
	SetAt      time.Time `json:"set_at"`
	SetBy      string    `json:"set_by"`
	Expires    time.Time `json:"expires"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	// Expiring: it expires within 30 days (or has).
	Expiring bool `json:"expiring,omitempty"`
}

func tokenID(token string) string {
	sum := sha256.Sum256([]byte("warden scim token\x00" + token))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

func aad(id string) []byte { return []byte("idc-scim-token\x00" + id) }

// SetSCIMToken stores a new SCIM token (sealed with box) as the one to try first, keeping the
// previous one until Identity Center accepts the new one (see SCIMTokens.Accepted); with two held
// already, the older goes. It is audited as by actor, without the token.
func SetSCIMToken(ctx context.Context, st store.Store, box *secret.Box, actor, token string, expires, now time.Time) (SCIMTokenInfo, error) {
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return SCIMTokenInfo{}, errors.New("token: empty; paste the token Identity Center's console showed when you generated it")
	case len(token) > MaxSCIMToken:
		return SCIMTokenInfo{}, fmt.Errorf("token: %d bytes; a SCIM token is at most %d", len(token), MaxSCIMToken)
	case strings.ContainsAny(token, " \t\r\n"):
		return SCIMTokenInfo{}, errors.New("token: contains white space; give the token alone")
	}
	if expires.IsZero() {
		expires = now.Add(SCIMTokenLife)
	}
	if !expires.After(now) {
		return SCIMTokenInfo{}, fmt.Errorf("expires: %s is past", expires.UTC().Format(time.RFC3339))
	}
	t := resource.IDCSCIMToken{ID: tokenID(token), SetAt: now.UTC(), SetBy: actor, Expires: expires.UTC()}
	t.Sealed = box.Seal([]byte(token), aad(t.ID))
	err := st.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindIDCSCIMToken, SCIMTokenName)
		create := errors.Is(err, store.ErrNotFound)
		if err != nil && !create {
			return err
		}
		if create {
			o = &resource.Object{Kind: resource.KindIDCSCIMToken, Version: resource.Version, Metadata: resource.Metadata{Name: SCIMTokenName}, Spec: &resource.IDCSCIMTokenSpec{}}
		}
		spec := o.Spec.(*resource.IDCSCIMTokenSpec)
		var kept []resource.IDCSCIMToken
		for _, old := range spec.Tokens {
			if old.ID != t.ID {
				kept = append(kept, old)
			}
		}
		spec.Tokens = append([]resource.IDCSCIMToken{t}, kept...)
		var dropped []string
		for len(spec.Tokens) > resource.MaxIDCSCIMTokens {
			dropped = append(dropped, spec.Tokens[len(spec.Tokens)-1].ID)
			spec.Tokens = spec.Tokens[:len(spec.Tokens)-1]
		}
		if create {
			err = tx.Create(ctx, o)
		} else {
			err = tx.Update(ctx, o)
		}
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("set Identity Center's SCIM token %s (expires %s); tried first from now on", t.ID, t.Expires.Format(time.DateOnly))
		if len(dropped) > 0 {
			detail += "; dropped " + strings.Join(dropped, ", ") + " (at most two are kept)"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: "integration.scim_token_set", Detail: detail,
			Kind: resource.KindIDCSCIMToken, Name: SCIMTokenName})
	})
	return info(t, now), err
}

func info(t resource.IDCSCIMToken, now time.Time) SCIMTokenInfo {
	return SCIMTokenInfo{ID: t.ID, SetAt: t.SetAt, SetBy: t.SetBy, Expires: t.Expires, AcceptedAt: t.AcceptedAt,
		Expiring: !t.Expires.After(now.Add(SCIMTokenWarning))}
}

// SCIMTokenInfos lists the stored tokens, the newest first.
func SCIMTokenInfos(ctx context.Context, st store.Reader, now time.Time) ([]SCIMTokenInfo, error) {
	o, err := st.Get(ctx, resource.KindIDCSCIMToken, SCIMTokenName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []SCIMTokenInfo
	for _, t := range o.Spec.(*resource.IDCSCIMTokenSpec).Tokens {
		out = append(out, info(t, now))
	}
	return out, nil
}

// SCIMTokens gives the SCIM client its tokens: those set with `warden integration scim-token set`
// (newest first), then those of the config (environment, token file). It reads the store at most
// every few seconds. When Identity Center accepts the newest stored token, the older stored one is
// dropped: rotation with overlap.
type SCIMTokens struct {
	st     store.Store
	box    *secret.Box
	static idc.StaticTokens
	now    func() time.Time

	mu       sync.Mutex
	cached   []string
	ids      map[string]string // token -> id
	cachedAt time.Time
}

// NewSCIMTokens returns the token source of a server.
func NewSCIMTokens(st store.Store, box *secret.Box, static idc.StaticTokens, now func() time.Time) *SCIMTokens {
	if now == nil {
		now = time.Now
	}
	return &SCIMTokens{st: st, box: box, static: static, now: now}
}

const scimTokenCache = 5 * time.Second

func (s *SCIMTokens) Tokens(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.now().Sub(s.cachedAt) < scimTokenCache {
		return s.cached, nil
	}
	o, err := s.st.Get(ctx, resource.KindIDCSCIMToken, SCIMTokenName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var out []string
	ids := map[string]string{}
	if err == nil {
		for _, t := range o.Spec.(*resource.IDCSCIMTokenSpec).Tokens {
			plain, err := s.box.Open(t.Sealed, aad(t.ID))
			if err != nil {
				return nil, fmt.Errorf("SCIM token %s: %w", t.ID, err)
			}
			out = append(out, string(plain))
			ids[string(plain)] = t.ID
		}
	}
	out = append(out, s.static...)
	if len(out) == 0 {
		return nil, fmt.Errorf("no SCIM token: set one with `warden integration scim-token set`, in %s, or in identity_center.scim.token_file", idc.SCIMTokenEnv)
	}
	s.cached, s.ids, s.cachedAt = out, ids, s.now()
	return out, nil
}

// Accepted records that Identity Center took token; if it is the newest stored one, the older
// stored token is dropped (Identity Center's console is where it is deleted: the audit says so).
func (s *SCIMTokens) Accepted(ctx context.Context, token string) {
	s.mu.Lock()
	id := s.ids[token]
	s.mu.Unlock()
	if id == "" {
		return // a configured token
	}
	now := s.now().UTC()
	err := s.st.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindIDCSCIMToken, SCIMTokenName)
		if err != nil {
			return err
		}
		spec := o.Spec.(*resource.IDCSCIMTokenSpec)
		i := -1
		for j, t := range spec.Tokens {
			if t.ID == id {
				i = j
			}
		}
		if i < 0 {
			return nil
		}
		changed := false
		if spec.Tokens[i].AcceptedAt.IsZero() {
			spec.Tokens[i].AcceptedAt, changed = now, true
		}
		var retired []string
		if i == 0 && len(spec.Tokens) > 1 {
			for _, t := range spec.Tokens[1:] {
				retired = append(retired, t.ID)
			}
			spec.Tokens, changed = spec.Tokens[:1], true
		}
		if !changed {
			return nil
		}
		if err := tx.Update(ctx, o); err != nil {
			return err
		}
		detail := fmt.Sprintf("Identity Center accepted SCIM token %s", id)
		if len(retired) > 0 {
			detail += "; warden no longer uses " + strings.Join(retired, ", ") + " (delete it in Identity Center's console)"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: "warden:sync", Action: "integration.scim_token_accepted", Detail: detail,
			Kind: resource.KindIDCSCIMToken, Name: SCIMTokenName})
	})
	if err == nil {
		s.mu.Lock()
		s.cached = nil // read again
		s.mu.Unlock()
	}
}
