package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/auth/passkey/passkeytest"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

const passkeyOrigin = "https://warden.example.com"

// withPasskeys turns passkeys on in e's server, for the relying party warden.example.com.
func (e *env) withPasskeys() *passkey.Service {
	e.t.Helper()
	svc, err := passkey.New(e.store, passkeyOrigin)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.SetPasskeys(svc)
	return svc
}

// registerPasskey registers a passkey for user directly through the service (the pages' routes
// are tested with them).
func (e *env) registerPasskey(svc *passkey.Service, a *passkeytest.Authenticator, user, label string) *resource.Object {
	e.t.Helper()
	opts, err := svc.BeginRegistration(e.ctx, user, "test:"+user, label)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(opts)
	resp, _, err := a.Create(b)
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := svc.FinishRegistration(e.ctx, nil, user, "test:"+user, resp)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// rawToken issues a token for user and returns it.
func (e *env) rawToken(user string) string {
	e.t.Helper()
	tok, err := e.admin.CreateToken(e.ctx, user, "1h")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Token
}

func (e *env) passkeys(token string) (int, server.PasskeyList) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/auth/passkeys", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out server.PasskeyList
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// A user lists and removes their own passkeys, and only theirs; the listing holds no key material;
// the generic resource API serves none.
func TestPasskeyListAndRemove(t *testing.T) {
	e := newEnv(t)
	e.apply(bossOrg)
	svc := e.withPasskeys()
	alicePK := e.registerPasskey(svc, passkeytest.New(passkeyOrigin), "alice", "laptop")
	e.registerPasskey(svc, passkeytest.New(passkeyOrigin), "boss", "key")
	aliceTok, bossTok := e.rawToken("alice"), e.rawToken("boss")

	code, list := e.passkeys(aliceTok)
	if code != http.StatusOK || len(list.Items) != 1 || list.Items[0].Name != alicePK.Metadata.Name || list.Items[0].Label != "laptop" {
		t.Fatalf("alice's list: %d %+v", code, list)
	}
	raw, _ := json.Marshal(list)
	pk := alicePK.Spec.(*resource.PasskeySpec)
	if strings.Contains(string(raw), pk.PublicKey) || strings.Contains(string(raw), pk.CredentialID) {
		t.Errorf("the listing serves key material: %s", raw)
	}
	// Boss (an administrator) cannot remove alice's passkey through this route.
	if code, _ := e.raw(http.MethodDelete, "/v1/auth/passkeys/"+alicePK.Metadata.Name, bossTok, ""); code != http.StatusNotFound {
		t.Fatalf("boss removing alice's passkey: %d", code)
	}
	// The resource API serves neither kind.
	for _, k := range []string{"passkey", "passkey_ceremony"} {
		if code, _ := e.raw(http.MethodGet, "/v1/"+k, "", ""); code == http.StatusOK {
			t.Errorf("GET /v1/%s: %d", k, code)
		}
		if code, _ := e.raw(http.MethodGet, "/v1/"+k, bossTok, ""); code != http.StatusNotFound {
			t.Errorf("GET /v1/%s as the administrator: %d, want 404", k, code)
		}
	}
	if code, _ := e.raw(http.MethodDelete, "/v1/auth/passkeys/"+alicePK.Metadata.Name, aliceTok, ""); code != http.StatusOK {
		t.Fatalf("alice removing her passkey: %d", code)
	}
	if _, list := e.passkeys(aliceTok); len(list.Items) != 0 {
		t.Fatalf("after removal: %+v", list)
	}
	if _, list := e.passkeys(bossTok); len(list.Items) != 1 {
		t.Fatalf("boss's passkeys: %+v", list)
	}
	if code, _ := e.raw(http.MethodGet, "/v1/auth/passkeys", "", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous listing: %d", code)
	}
}
