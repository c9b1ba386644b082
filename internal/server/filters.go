package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// RequestStates are the states an access request can be in.
var RequestStates = []string{resource.StatePending, resource.StateApproved, resource.StateDenied, resource.StateExpired, resource.StateCancelled}

// ParseRequestState reads a request state in any case ("approved" is APPROVED); anything else is an
// error listing the states, since a filter on a state that cannot exist would match nothing.
func ParseRequestState(s string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(s))
	for _, st := range RequestStates {
		if up == st {
			return st, nil
		}
	}
	return "", fmt.Errorf("%q is not a request state (%s; any case)", s, strings.Join(RequestStates, ", "))
}

// ParseAuditKind reads the kind an audit entry is about: a resource kind as warden get takes it
// (short names and plurals too), or one of warden's own records (api_token, sync_record).
func ParseAuditKind(s string) (resource.Kind, error) {
	if k, err := resource.ParseKind(s); err == nil {
		return k, nil
	}
	if k := resource.Kind(s); resource.Known(k) {
		return k, nil
	}
	var kinds []string
	for _, k := range resource.PublicKinds() {
		kinds = append(kinds, string(k))
	}
	kinds = append(kinds, string(resource.KindAPIToken), string(resource.KindSyncRecord))
	return "", fmt.Errorf("%q is not a kind (%s)", s, strings.Join(kinds, ", "))
}

// checkListFilters refuses filter values that could match nothing because they name nothing: a
// request state that does not exist, an access list or member that does not exist, a member kind
// other than user or list. Values are normalised on the way (a state's case). The errors name the
// query parameter.
func (s *Server) checkListFilters(ctx context.Context, k resource.Kind, filters []resource.IndexEntry) error {
	memberKind := ""
	for i, f := range filters {
		switch {
		case k == resource.KindAccessRequest && f.Key == resource.IndexState:
			st, err := ParseRequestState(f.Value)
			if err != nil {
				return &resource.FieldError{Field: f.Key, Message: err.Error()}
			}
			filters[i].Value = st
		case k == resource.KindAccessListMember && f.Key == resource.IndexMemberKind:
			if f.Value != resource.MemberUser && f.Value != resource.MemberList {
				return &resource.FieldError{Field: f.Key, Message: fmt.Sprintf("%q is not user or list", f.Value)}
			}
			memberKind = f.Value
		case k == resource.KindAccessListMember && f.Key == resource.IndexList:
			if err := s.mustExist(ctx, f.Key, resource.KindAccessList, f.Value); err != nil {
				return err
			}
		}
	}
	for _, f := range filters {
		if k != resource.KindAccessListMember || f.Key != resource.IndexMember {
			continue
		}
		kinds := []resource.Kind{resource.KindUser, resource.KindAccessList}
		switch memberKind {
		case resource.MemberUser:
			kinds = kinds[:1]
		case resource.MemberList:
			kinds = kinds[1:]
		}
		var err error
		for _, mk := range kinds {
			if err = s.mustExist(ctx, f.Key, mk, f.Value); err == nil {
				break
			}
		}
		if err != nil && len(kinds) == 2 {
			return &resource.FieldError{Field: f.Key, Message: fmt.Sprintf("no user or access list is named %q", f.Value)}
		}
		return err
	}
	return nil
}

// mustExist is a FieldError on field unless the resource exists.
func (s *Server) mustExist(ctx context.Context, field string, k resource.Kind, name string) error {
	_, err := s.store.Get(ctx, k, name)
	if errors.Is(err, store.ErrNotFound) {
		return &resource.FieldError{Field: field, Message: fmt.Sprintf("%s %q does not exist", strings.ReplaceAll(string(k), "_", " "), name)}
	}
	return err
}
