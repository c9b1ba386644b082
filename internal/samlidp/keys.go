package samlidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Signing keys: RSA 2048 with a self-signed SHA-256 certificate valid for ten years. Identity
// Center takes RSA 2048 and up and checks no chain (the certificate only carries the key); the
// rotation steps, not the certificate's expiry, are how a key is replaced, so the certificate
// outlives any sensible rotation schedule. RSA 2048 rather than 3072: each response carries two
// signatures, and 2048 signs about four times as fast (see the package doc's figures); NIST
// counts it acceptable through 2030, and a rotation moves to a larger key when that is due
// (KeyBits).
const (
	KeyBits     = 2048
	KeyValidity = 10 * 365 * 24 * time.Hour
	// KeySetName is the name of the saml_key object holding the set.
	KeySetName = "signing"
)

// ErrRotation: a rotation step that does not apply now (a next key already published, none to
// finish with, no old key to drop).
var ErrRotation = errors.New("saml key rotation")

// Key is one signing key of the set, its certificate parsed.
type Key struct {
	ID, State         string
	Certificate       *x509.Certificate
	Created, NotAfter time.Time
}

// KeySet is the signing keys in force: the active one (with its private key), and the next and
// old ones when there are.
type KeySet struct {
	Active    Key
	Signer    *rsa.PrivateKey
	Next, Old *Key
	revision  int64
}

// Keys keeps the signing key set in the store (kind saml_key), private keys sealed with the auth
// key, so that every replica signs with the same key and a copy of the database alone holds no
// private key.
type Keys struct {
	st  store.Store
	box *secret.Box
	now func() time.Time

	mu     sync.Mutex
	cached *KeySet
}

// NewKeys keeps the signing keys in st, sealed with box.
func NewKeys(st store.Store, box *secret.Box, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{st: st, box: box, now: now}
}

func keyAAD(id string) []byte { return []byte("saml_key\x00" + id) }

// newKey makes a key and its self-signed certificate.
func (k *Keys) newKey(state string) (resource.SAMLKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return resource.SAMLKey{}, err
	}
	now := k.now().UTC().Truncate(time.Second)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return resource.SAMLKey{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "warden SAML signing " + now.Format("2006-01-02")},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(KeyValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return resource.SAMLKey{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return resource.SAMLKey{}, err
	}
	sum := sha256.Sum256(der)
	id := hex.EncodeToString(sum[:8])
	return resource.SAMLKey{ID: id, State: state, Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		SealedKey: k.box.Seal(pkcs8, keyAAD(id)), Created: now, NotAfter: tmpl.NotAfter}, nil
}

func keyObject(spec *resource.SAMLKeySpec) *resource.Object {
	o := resource.New(resource.KindSAMLKey, KeySetName)
	o.Spec = spec
	return o
}

// Ensure makes the set with one active key when there is none (warden's first start). Replicas
// starting together make one set: the one whose write lands first.
func (k *Keys) Ensure(ctx context.Context) (created bool, err error) {
	if _, err := k.st.Get(ctx, resource.KindSAMLKey, KeySetName); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	key, err := k.newKey(resource.SAMLKeyActive)
	if err != nil {
		return false, err
	}
	o := keyObject(&resource.SAMLKeySpec{Keys: []resource.SAMLKey{key}})
	err = k.st.Txn(ctx, func(tx store.Tx) error {
		if err := tx.Create(ctx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: "warden", Action: "saml.key.create", Kind: resource.KindSAMLKey, Name: KeySetName,
			Detail: "made the SAML signing key " + key.ID + " (RSA 2048, certificate until " + key.NotAfter.Format("2006-01-02") + ")"})
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return false, nil
	}
	return err == nil, err
}

// Current is the key set in force, read from the store (its parsed keys cached while the set is
// unchanged).
func (k *Keys) Current(ctx context.Context) (*KeySet, error) {
	o, err := k.st.Get(ctx, resource.KindSAMLKey, KeySetName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("the SAML signing keys are not made yet (warden serve makes them at its start)")
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	c := k.cached
	k.mu.Unlock()
	if c != nil && c.revision == o.Metadata.Revision {
		return c, nil
	}
	set, err := k.parse(o)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.cached = set
	k.mu.Unlock()
	return set, nil
}

func parseCert(p string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func (k *Keys) parse(o *resource.Object) (*KeySet, error) {
	spec := o.Spec.(*resource.SAMLKeySpec)
	set := &KeySet{revision: o.Metadata.Revision}
	found := false
	for _, sk := range spec.Keys {
		cert, err := parseCert(sk.Certificate)
		if err != nil {
			return nil, fmt.Errorf("saml key %s: %w", sk.ID, err)
		}
		key := Key{ID: sk.ID, State: sk.State, Certificate: cert, Created: sk.Created, NotAfter: sk.NotAfter}
		switch sk.State {
		case resource.SAMLKeyActive:
			plain, err := k.box.Open(sk.SealedKey, keyAAD(sk.ID))
			if err != nil {
				return nil, fmt.Errorf("saml key %s: %w", sk.ID, err)
			}
			pk, err := x509.ParsePKCS8PrivateKey(plain)
			if err != nil {
				return nil, fmt.Errorf("saml key %s: %w", sk.ID, err)
			}
			rk, ok := pk.(*rsa.PrivateKey)
			if !ok || !rk.PublicKey.Equal(cert.PublicKey) {
				return nil, fmt.Errorf("saml key %s: the private key is not the certificate's", sk.ID)
			}
			set.Active, set.Signer, found = key, rk, true
		case resource.SAMLKeyNext:
			set.Next = &key
		case resource.SAMLKeyOld:
			set.Old = &key
		}
	}
	if !found {
		return nil, errors.New("the SAML key set has no active key")
	}
	return set, nil
}

// change runs one rotation step in a transaction, audited as actor.
func (k *Keys) change(ctx context.Context, actor manage.Actor, action string, step func(spec *resource.SAMLKeySpec) (string, error)) (string, error) {
	var detail string
	err := k.st.Txn(ctx, func(tx store.Tx) error {
		o, err := tx.Get(ctx, resource.KindSAMLKey, KeySetName)
		if err != nil {
			return err
		}
		spec := o.Spec.(*resource.SAMLKeySpec)
		if detail, err = step(spec); err != nil {
			return err
		}
		if err := resource.Validate(o); err != nil {
			return err
		}
		if err := tx.Update(ctx, o); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{Actor: actor.User, Token: actor.Token, TokenIssuer: actor.TokenIssuer, Action: action,
			Kind: resource.KindSAMLKey, Name: KeySetName, Detail: detail})
	})
	return detail, err
}

// Rotate publishes a new key as next, beside the active one: upload the metadata (or the new
// certificate) to Identity Center, then Finish.
func (k *Keys) Rotate(ctx context.Context, actor manage.Actor) (string, error) {
	key, err := k.newKey(resource.SAMLKeyNext)
	if err != nil {
		return "", err
	}
	return k.change(ctx, actor, "saml.key.rotate", func(spec *resource.SAMLKeySpec) (string, error) {
		for _, sk := range spec.Keys {
			if sk.State == resource.SAMLKeyNext {
				return "", fmt.Errorf("%w: key %s is already published as next: finish with warden saml rotate --finish", ErrRotation, sk.ID)
			}
			if sk.State == resource.SAMLKeyOld {
				return "", fmt.Errorf("%w: the old key %s is still kept: drop it first with warden saml rotate --cleanup", ErrRotation, sk.ID)
			}
		}
		spec.Keys = append(spec.Keys, key)
		return "published the next SAML signing key " + key.ID + " beside the active one", nil
	})
}

// Finish makes the next key active; the active one becomes old (no longer signing, no longer
// published), kept until Cleanup.
func (k *Keys) Finish(ctx context.Context, actor manage.Actor) (string, error) {
	return k.change(ctx, actor, "saml.key.finish", func(spec *resource.SAMLKeySpec) (string, error) {
		next := -1
		for i, sk := range spec.Keys {
			if sk.State == resource.SAMLKeyNext {
				next = i
			}
		}
		if next < 0 {
			return "", fmt.Errorf("%w: there is no next key to switch to: publish one first with warden saml rotate", ErrRotation)
		}
		var was string
		for i := range spec.Keys {
			switch spec.Keys[i].State {
			case resource.SAMLKeyActive:
				spec.Keys[i].State, was = resource.SAMLKeyOld, spec.Keys[i].ID
			case resource.SAMLKeyNext:
				spec.Keys[i].State = resource.SAMLKeyActive
			}
		}
		return "signing with SAML key " + spec.Keys[next].ID + "; " + was + " is old (warden saml rotate --cleanup drops it)", nil
	})
}

// Cleanup drops the old key.
func (k *Keys) Cleanup(ctx context.Context, actor manage.Actor) (string, error) {
	return k.change(ctx, actor, "saml.key.cleanup", func(spec *resource.SAMLKeySpec) (string, error) {
		kept := spec.Keys[:0]
		var dropped string
		for _, sk := range spec.Keys {
			if sk.State == resource.SAMLKeyOld {
				dropped = sk.ID
				continue
			}
			kept = append(kept, sk)
		}
		if dropped == "" {
			return "", fmt.Errorf("%w: there is no old key to drop", ErrRotation)
		}
		spec.Keys = kept
		return "dropped the old SAML signing key " + dropped + " (delete its certificate in Identity Center too)", nil
	})
}
