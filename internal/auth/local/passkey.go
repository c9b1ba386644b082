package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// CompleteWithPasskey completes an enrolment whose second factor is a passkey (package passkey
// registered it for e.User during this enrolment, passkey.DuringEnrolment): the password, ten
// recovery codes, no TOTP. Without a passkey registered during this enrolment it is refused
// (ErrNoSecondFactor), checked in the transaction; the user's other passkeys are removed. Like the other
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
		pks, err := tx.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexUser, e.User)})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(pks, func(o *resource.Object) bool { return o.Spec.(*resource.PasskeySpec).Enrolment == e.ID }) {
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
		if err := audit.Append(ctx, tx, audit.Entry{Actor: e.User, Action: "enrol", Kind: resource.KindCredential, Name: e.User, Detail: detail, Time: now}); err != nil {
			return err
		}
		return dropEarlierPasskeys(ctx, tx, e, now)
	})
	if err != nil {
		return nil, err
	}
	return &Enrolled{User: e.User, RecoveryCodes: codes}, nil
}

// dropEarlierPasskeys removes, in the transaction completing enrolment e, the user's passkeys not
// registered during it: a new invitation (a reset) starts the user's factors afresh, as their
// password, TOTP secret and recovery codes are. Each removal is audited.
func dropEarlierPasskeys(ctx context.Context, tx store.Tx, e *Enrolment, now time.Time) error {
	pks, err := tx.List(ctx, resource.KindPasskey, store.ListOptions{Filters: store.Filter(resource.IndexUser, e.User)})
	if err != nil {
		return err
	}
	for _, o := range pks {
		if o.Spec.(*resource.PasskeySpec).Enrolment == e.ID {
			continue
		}
		if _, err := tx.Delete(ctx, o.Kind, o.Metadata.Name, 0); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, audit.Entry{Actor: e.User, Action: "passkey.remove", Before: o, Time: now,
			Detail: fmt.Sprintf("passkey %s of %s removed: a new enrolment (invited by %s) replaces the earlier factors", o.Metadata.Name, e.User, e.InvitedBy)}); err != nil {
			return err
		}
	}
	return nil
}
