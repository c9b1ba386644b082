package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// newKeyedEnv is newEnv with the audit log keyed as warden serve keys it; raw is the store without
// the key, as someone with only the database has it.
func newKeyedEnv(t *testing.T) (e *env, raw store.Store) {
	t.Helper()
	e = newEnv(t)
	raw = e.store
	keyed := audit.Keyed(raw, bytes.Repeat([]byte{3}, audit.KeySize))
	if err := audit.Init(e.ctx, keyed); err != nil {
		t.Fatal(err)
	}
	srv := server.New(keyed, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(e.ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	token, err := readToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	e.url, e.store, e.srv, e.admin = hs.URL, keyed, srv, client.New(hs.URL, token)
	return e, raw
}

// The head is exported through the API and checked against later: cutting the log back past it
// (entries deleted, the head record moved back) is found, though the cut chain verifies on its own.
func TestAuditTruncationDetectedThroughTheAPI(t *testing.T) {
	e, raw := newKeyedEnv(t)
	e.apply(base)
	exported, err := e.admin.AuditHead(e.ctx)
	if err != nil || exported.Seq < 2 || exported.Alg != audit.AlgHMAC || !strings.HasPrefix(exported.Head, fmt.Sprintf("%d:%s", exported.Seq, exported.Hash)) {
		t.Fatalf("head: %+v %v", exported, err)
	}
	if res, err := e.admin.AuditVerifyHead(e.ctx, exported.Head); err != nil || !res.OK || res.ExpectedHead != exported.Head {
		t.Fatalf("verify against the head just exported: %+v %v", res, err)
	}
	// Cut the newest entries and move the head back, as someone with the database can.
	cut := exported.Seq - 1
	if _, err := raw.Delete(e.ctx, resource.KindAuditEntry, audit.EntryName(exported.Seq), 0); err != nil {
		t.Fatal(err)
	}
	prev, _ := raw.Get(e.ctx, resource.KindAuditEntry, audit.EntryName(cut))
	head, _ := raw.Get(e.ctx, resource.KindAuditEntry, "head")
	hs := head.Spec.(*resource.AuditEntrySpec)
	hs.Seq, hs.Hash = cut, prev.Spec.(*resource.AuditEntrySpec).Hash
	if err := raw.Update(e.ctx, head); err != nil {
		t.Fatal(err)
	}
	if res, err := e.admin.AuditVerify(e.ctx); err != nil || !res.OK {
		t.Fatalf("the cut log on its own: %+v %v (a consistent chain)", res, err)
	}
	res, err := e.admin.AuditVerifyHead(e.ctx, exported.Head)
	if err != nil || res.OK || !strings.Contains(res.Error, "no longer holds entry") {
		t.Fatalf("verify against the exported head after the cut: %+v %v", res, err)
	}
	if code, body := e.raw("GET", "/v1/audit/verify?expect_head=12:abc", e.admin.Token, ""); code != 400 || body["field"] != "expect_head" {
		t.Fatalf("a malformed head: %d %v", code, body)
	}
}

// A chain edited and rebuilt without the key (every entry from the edit on rehashed with SHA-256
// and linked again, the head moved) does not verify through the API.
func TestRebuiltChainWithoutKeyDetectedThroughTheAPI(t *testing.T) {
	e, raw := newKeyedEnv(t)
	e.apply(base)
	last, err := audit.Last(e.ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	prev, from := "", int64(0) // from: the entry after the first keyed one (the seal)
	for seq := int64(1); seq <= last; seq++ {
		o, err := raw.Get(e.ctx, resource.KindAuditEntry, audit.EntryName(seq))
		if err != nil {
			t.Fatal(err)
		}
		s := o.Spec.(*resource.AuditEntrySpec)
		if from == 0 && s.Alg != "" {
			from = seq + 1
		}
		if seq == from {
			s.Actor = "someone-else"
		}
		if from > 0 && seq >= from {
			s.Alg, s.Prev, s.Hash = "", prev, ""
			b, _ := json.Marshal(s)
			sum := sha256.Sum256(b)
			s.Hash = hex.EncodeToString(sum[:])
			if err := raw.Update(e.ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		prev = s.Hash
	}
	head, _ := raw.Get(e.ctx, resource.KindAuditEntry, "head")
	head.Spec.(*resource.AuditEntrySpec).Hash = prev
	head.Spec.(*resource.AuditEntrySpec).Alg = ""
	if err := raw.Update(e.ctx, head); err != nil {
		t.Fatal(err)
	}
	res, err := e.admin.AuditVerify(e.ctx)
	if want := fmt.Sprintf("entry %d is not keyed but follows keyed entries", from); err != nil || res.OK || !strings.Contains(res.Error, want) {
		t.Fatalf("verify after a rebuild without the key: %+v %v", res, err)
	}
}
