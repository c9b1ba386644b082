package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/auth/oidc"
)

// The flow's state opens only with the key the browser's secret derives, for the flow and the
// connector it was sealed for; the store's copy alone reveals nothing.
func TestSealedFlowState(t *testing.T) {
	st := oidc.State{State: "s", Nonce: "n", Verifier: "v"}
	id, key := flowKeys("secret-a")
	otherID, otherKey := flowKeys("secret-b")
	if id == otherID || string(key) == string(otherKey) || len(id) != 32 {
		t.Fatalf("flow keys: %q %q", id, otherID)
	}
	sealed, err := sealFlow(key, id+"\x00corp", st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openFlow(key, id+"\x00corp", sealed)
	if err != nil || got != st {
		t.Fatalf("open: %+v %v", got, err)
	}
	for name, c := range map[string]struct {
		key    []byte
		aad    string
		sealed string
	}{
		"another browser's key": {otherKey, id + "\x00corp", sealed},
		"another connector":     {key, id + "\x00other", sealed},
		"another flow":          {key, otherID + "\x00corp", sealed},
		"truncated":             {key, id + "\x00corp", sealed[:10]},
		"altered":               {key, id + "\x00corp", sealed[:len(sealed)-2] + "AA"},
		"not base64":            {key, id + "\x00corp", "!!!"},
	} {
		if _, err := openFlow(c.key, c.aad, c.sealed); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if strings.Contains(sealed, "verifier") || strings.Contains(sealed, "nonce") {
		t.Fatalf("sealed state %q is readable", sealed)
	}
}

func TestAuthTime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		claim any
		want  time.Time
	}{
		{nil, now},
		{json.Number("1799999000"), time.Unix(1799999000, 0)},
		{json.Number("1799999000.5"), time.Unix(1799999000, 0)},
		{float64(1799999990), time.Unix(1799999990, 0)},
		{json.Number("1800000100"), now}, // in the future
		{json.Number("-5"), now},
		{"1799999000", now},
		{json.Number("x"), now},
	} {
		if got := authTime(c.claim, now); !got.Equal(c.want) {
			t.Errorf("authTime(%v) = %v, want %v", c.claim, got, c.want)
		}
	}
}
