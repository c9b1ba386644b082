package local

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// CompleteWithPasskey completes an enrolment whose second factor is a passkey (package passkey
// registered it for e.User during this enrolment): the password, ten recovery codes, no TOTP. A user
// with no passkey is refused (ErrNoSecondFactor), checked in the transaction. Like the other
// completions: the invitation is used once, the credential replaced whole, audited, in one
// transaction.
func (s *Service) CompleteWithPasskey(ctx context.Context, e *Enrolment) (*Enrolled, error) {
	if !e.PasswordSet {
		return nil, errors.New("set the password first")
	}
	now := s.clock.Now().UTC()
	codes, hashes := secret.NewRecoveryCodes()
	cred := &resource.CredentialSpec{User: e.User, PasswordHash: e.spec.PasswordHash, Enrolled: now, InvitedBy: e.InvitedBy,
		RecoveryHashes: hashes}
	o := &resource.Object{Kind: resource.KindCredential, Version: resource.Version, Metadata: resource.Metadata{Name: e.User}, Spec: cred}
	if err := resource.Validate(o); err != nil {
		return nil, err
	}
	err := s.store.Txn(ctx, func(tx store.Tx) error {
		if _, err := tx.Delete(ctx, resource.KindAuthFlow, e.ID, e.obj.Metadata.Revision); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				return ErrInvalidLink
			}
			return err
		}
		if err := userExists(ctx, tx, e.User); err != nil {
			return err
		}
		pks, err := tx.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexUser, e.User), Limit: 1})
		if err != nil {
			return err
		}
		if len(pks) == 0 {
			return ErrNoSecondFactor
		}
		old, err := tx.Get(ctx, resource.KindCredential, e.User)
		switch {
		case err == nil:
			o.Metadata.Revision = old.Metadata.Revision
			err = tx.Update(ctx, o)
		case errors.Is(err, store.ErrNotFound):
			err = tx.Create(ctx, o)
		}
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("%s enrolled a local account (password, a passkey and ten recovery codes), invited by %s", e.User, e.InvitedBy)
		if old != nil {
			detail += "; it replaces the earlier credential"
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: e.User, Action: "enrol", Kind: resource.KindCredential, Name: e.User, Detail: detail, Time: now})
	})
	if err != nil {
		return nil, err
	}
	return &Enrolled{User: e.User, RecoveryCodes: codes}, nil
}
