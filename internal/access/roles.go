package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Roles returns the roles a user holds at now, by name: what policy.Holdings says they hold (the
// sync's own definition), read from the store: only what concerns the user.
func Roles(ctx context.Context, st store.Reader, user string, now time.Time) (map[string]*resource.Object, error) {
	h, err := Holdings(ctx, st, user, now)
	if err != nil {
		return nil, err
	}
	out := map[string]*resource.Object{}
	for _, n := range h.Roles {
		r, err := st.Get(ctx, resource.KindRole, n)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out[n] = r
	}
	return out, nil
}

// Holdings reads from the store what a user holds at now.
func Holdings(ctx context.Context, st store.Reader, user string, now time.Time) (*policy.Holding, error) {
	uo, err := st.Get(ctx, resource.KindUser, user)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", user, err)
	}
	return policy.Holdings(storeMembership{ctx, st}, user, uo.Spec.(*resource.UserSpec), now)
}

// storeMembership lets policy.Holdings read the store.
type storeMembership struct {
	ctx context.Context
	st  store.Reader
}

func (m storeMembership) MembersNaming(name string) ([]*resource.AccessListMemberSpec, error) {
	objs, err := m.st.List(m.ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, name)})
	if err != nil {
		return nil, err
	}
	out := make([]*resource.AccessListMemberSpec, len(objs))
	for i, o := range objs {
		out[i] = o.Spec.(*resource.AccessListMemberSpec)
	}
	return out, nil
}

func (m storeMembership) AccessList(name string) (*resource.AccessListSpec, error) {
	o, err := m.st.Get(m.ctx, resource.KindAccessList, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return o.Spec.(*resource.AccessListSpec), nil
}
