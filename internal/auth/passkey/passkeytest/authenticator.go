// Package passkeytest is a software WebAuthn authenticator for tests: ECDSA P-256 credentials,
// attestation "none" or "packed" (self), clientDataJSON and authenticatorData built by hand, as a
// browser and an authenticator would make them, so that warden's ceremonies are checked against
// bytes go-webauthn did not make itself.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

var b64 = base64.RawURLEncoding

// Flags of authenticatorData.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Credential is one key pair the authenticator made.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	UserHandle []byte
	RPID       string
	// Count is the signature counter; each assertion adds one (unless the authenticator keeps none).
	Count uint32
}

// Authenticator answers ceremonies for the origin it is "browsing".
type Authenticator struct {
	Origin string
	// Format is the attestation format: "none" (the default) or "packed" (self attestation).
	Format string
	// UV: the authenticator verifies its user (PIN, biometrics) and says so.
	UV bool
	// NoCounter: the authenticator keeps no counter (sends zero), as synced passkeys do.
	NoCounter bool
	// Backup sets the backup eligible and backed-up flags.
	Backup bool
	AAGUID [16]byte
	Creds  []*Credential
}

// New returns an authenticator that verifies its user, for origin.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, UV: true, AAGUID: [16]byte{0xad, 0xce, 0, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
}

type descriptor struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []descriptor `json:"excludeCredentials"`
		Allow   []descriptor `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (a *Authenticator) flags(at bool) byte {
	f := byte(flagUP)
	if a.UV {
		f |= flagUV
	}
	if a.Backup {
		f |= flagBE | flagBS
	}
	if at {
		f |= flagAT
	}
	return f
}

func authData(rpID string, flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	d := append([]byte{}, h[:]...)
	d = append(d, flags)
	d = binary.BigEndian.AppendUint32(d, count)
	return append(d, attested...)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func sign(key *ecdsa.PrivateKey, authData, clientData []byte) ([]byte, error) {
	cdh := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), cdh[:]...))
	return ecdsa.SignASN1(rand.Reader, key, digest[:])
}

func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	return webauthncbor.Marshal(map[int64]any{1: int64(2), 3: int64(-7), -1: int64(1), -2: raw[1:33], -3: raw[33:65]})
}

// Create answers navigator.credentials.create with the options warden served (JSON), as the
// browser would post them back. It refuses, as a real authenticator does, when it holds a
// credential on the exclude list.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *Credential, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, nil, err
	}
	for _, ex := range o.PublicKey.Exclude {
		for _, c := range a.Creds {
			if ex.ID == b64.EncodeToString(c.ID) {
				return nil, nil, errors.New("InvalidStateError: the authenticator already holds an excluded credential")
			}
		}
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user.id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 32)
	rand.Read(id)
	c := &Credential{ID: id, Key: key, UserHandle: handle, RPID: o.PublicKey.RP.ID}
	pk, err := coseKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	attested := append([]byte{}, a.AAGUID[:]...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(id)))
	attested = append(attested, id...)
	attested = append(attested, pk...)
	ad := authData(c.RPID, a.flags(true), 0, attested)
	cd := a.clientData("webauthn.create", o.PublicKey.Challenge)
	stmt := map[string]any{}
	format := a.Format
	if format == "" {
		format = "none"
	}
	if format == "packed" {
		sig, err := sign(key, ad, cd)
		if err != nil {
			return nil, nil, err
		}
		stmt = map[string]any{"alg": int64(-7), "sig": sig}
	}
	att, err := webauthncbor.Marshal(map[string]any{"fmt": format, "attStmt": stmt, "authData": ad})
	if err != nil {
		return nil, nil, err
	}
	a.Creds = append(a.Creds, c)
	body, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"response": map[string]any{
			"attestationObject": b64.EncodeToString(att),
			"clientDataJSON":    b64.EncodeToString(cd),
			"transports":        []string{"internal"},
		},
	})
	return body, c, err
}

// Get answers navigator.credentials.get with the options warden served. c names the credential to
// sign with; nil picks the first of the authenticator's credentials the options allow (any of the
// relying party's, when they list none: a discoverable sign-in).
func (a *Authenticator) Get(optionsJSON []byte, c *Credential) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, err
	}
	rpID := o.PublicKey.RPID
	if c == nil {
		for _, cand := range a.Creds {
			if cand.RPID != rpID {
				continue
			}
			if len(o.PublicKey.Allow) == 0 {
				c = cand
				break
			}
			for _, al := range o.PublicKey.Allow {
				if al.ID == b64.EncodeToString(cand.ID) {
					c = cand
				}
			}
			if c != nil {
				break
			}
		}
		if c == nil {
			return nil, errors.New("NotAllowedError: no credential for these options")
		}
	}
	if !a.NoCounter {
		c.Count++
	}
	return a.Assert(c, rpID, o.PublicKey.Challenge, c.Count)
}

// Assert signs an assertion by c for rpID and challenge with the given counter (a test may send
// any counter, a clone's say).
func (a *Authenticator) Assert(c *Credential, rpID, challenge string, count uint32) ([]byte, error) {
	ad := authData(rpID, a.flags(false), count, nil)
	cd := a.clientData("webauthn.get", challenge)
	sig, err := sign(c.Key, ad, cd)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"response": map[string]any{
			"authenticatorData": b64.EncodeToString(ad),
			"clientDataJSON":    b64.EncodeToString(cd),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
	})
}

// Challenge reads the challenge out of served options.
func Challenge(optionsJSON []byte) string {
	var o options
	json.Unmarshal(optionsJSON, &o)
	return o.PublicKey.Challenge
}
