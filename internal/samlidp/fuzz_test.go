package samlidp_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/fuzzcheck"
	"github.com/wardenhq/warden/internal/samlidp"
)

// FuzzReadRequest: whatever a browser brings to /saml/sso, with either binding, ReadRequest
// answers (a BadRequest, or a request checked against the configured service provider) without
// panicking, and one call allocates within fuzzcheck's bound (no DEFLATE bomb, no entity
// expansion gets through).
func FuzzReadRequest(f *testing.F) {
	fx := newFixture(f, samlidp.Config{})
	good := authnRequest("_f", spEntity, spACS, time.Now())
	f.Add([]byte(good), false)
	f.Add(deflate(good), true)
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`), false)
	f.Add(deflate(string(make([]byte, 1<<20))), true)
	f.Add([]byte("<samlp:AuthnRequest"), false)
	f.Fuzz(func(t *testing.T, data []byte, redirect bool) {
		fuzzcheck.Limit(t, func() {
			q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(data)}}
			var err error
			if redirect {
				_, err = fx.idp.ReadRequest(httptest.NewRequest("GET", "/saml/sso?"+q.Encode(), nil))
			} else {
				_, err = fx.idp.Check(context.Background(), data, "")
			}
			_ = err
		})
	})
}
