package idcsim

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSignInEndpoints sends arbitrary bodies, queries and headers to SSO OIDC, the portal API, the
// portal's device and authorize pages and STS: no answer is a 500 (503 is the portal's page for no identity source), none panics, and every error of
// SSO OIDC and the portal API names its exception in x-amzn-ErrorType.
func FuzzSignInEndpoints(f *testing.F) {
	s := New(Options{Seed: 1})
	if err := s.Update(SeedDemo); err != nil {
		f.Fatal(err)
	}
	paths := []string{"/client/register", "/device_authorization", "/token", "/assignment/accounts", "/assignment/roles",
		"/federation/credentials", "/logout", "/", "/start/device", "/start/device/decide", "/authorize"}
	for i := range paths {
		f.Add(uint8(i), "POST", `{"clientName":"c","clientType":"public","scopes":["sso:account:access"]}`, "", "")
		f.Add(uint8(i), "GET", "Action=GetCallerIdentity&Version=2011-06-15", "max_result=1&next_token=MjA6YWJj&account_id=058264527036&role_name=Admin", "AWS4-HMAC-SHA256 Credential=ASIAX/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	}
	f.Add(uint8(2), "POST", `{"clientId":"x","clientSecret":"y","grantType":"authorization_code","code":"c","redirectUri":"http://127.0.0.1/","codeVerifier":"`+strings.Repeat("a", 50)+`"}`, "", "")
	f.Add(uint8(7), "POST", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::637423191929:role/x&RoleSessionName=ab&DurationSeconds=900", "", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	f.Fuzz(func(t *testing.T, pi uint8, method, body, query, auth string) {
		path := paths[int(pi)%len(paths)]
		if method != "GET" {
			method = "POST"
		}
		req := httptest.NewRequest(method, "http://sim.test"+path, strings.NewReader(body))
		req.URL.RawQuery = strings.ToValidUTF8(query, "")
		if path == "/" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("x-amz-sso_bearer_token", auth)
		rec := httptest.NewRecorder()
		LimitAlloc(t, func() { s.ServeHTTP(rec, req) })
		if rec.Code >= 500 && rec.Code != 503 { // 503: the portal's page "no identity source"
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && (oidcPaths[path] || portalAPIPaths[path]) && rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("%s %s: %d without x-amzn-ErrorType", method, path, rec.Code)
		}
	})
}
