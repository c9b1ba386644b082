package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/wardenhq/warden/internal/auth/oidc"
)

func goodConfig() oidc.Config {
	return oidc.Config{Name: "okta", Issuer: "https://company.okta.com", ClientID: "0oa1b2c3", ClientSecretEnv: "OKTA_CLIENT_SECRET",
		Scopes: []string{"openid", "email", "groups"}, AllowedDomains: []string{"example.com", "example.org"}, CreateUsers: true,
		Traits: map[string]string{"department": "department"},
		Roles:  []oidc.ClaimRule{{Claim: "groups", Value: "aws-admins", Role: "admin-role"}},
		Lists:  []oidc.ClaimRule{{Claim: "groups", Value: "sre", List: "sre"}}}
}

// The config file's auth.oidc items decode with the documented snake_case keys.
func TestConfigYAML(t *testing.T) {
	doc := `
name: okta
issuer: https://company.okta.com
client_id: 0oa1b2c3
client_secret_env: OKTA_CLIENT_SECRET
scopes: [openid, email, groups]
user_name_claim: email
allowed_domains: [example.com, example.org]
create_users: true
link_existing: false
traits: {department: department}
roles: [{claim: groups, value: aws-admins, role: admin-role}]
lists: [{claim: groups, value: sre, list: sre}]
`
	var c oidc.Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := goodConfig()
	want.UserNameClaim = "email"
	got, _ := json.Marshal(c)
	w, _ := json.Marshal(want)
	if string(got) != string(w) {
		t.Errorf("decoded\n got %s\nwant %s", got, w)
	}
	if err := c.Validate("auth.oidc[0]"); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *oidc.Config)
		want   string
	}{
		{"no name", func(c *oidc.Config) { c.Name = "" }, "auth.oidc[0].name: required"},
		{"name with capitals", func(c *oidc.Config) { c.Name = "Okta" }, `auth.oidc[0].name: "Okta" is not a connector name`},
		{"no issuer", func(c *oidc.Config) { c.Issuer = "" }, "auth.oidc[0].issuer: required"},
		{"http issuer", func(c *oidc.Config) { c.Issuer = "http://company.okta.com" }, "auth.oidc[0].issuer: \"http://company.okta.com\": the issuer must be https"},
		{"relative issuer", func(c *oidc.Config) { c.Issuer = "company.okta.com" }, "auth.oidc[0].issuer: \"company.okta.com\" is not an absolute URL"},
		{"issuer with a query", func(c *oidc.Config) { c.Issuer = "https://company.okta.com/?x=1" }, "auth.oidc[0].issuer: \"https://company.okta.com/?x=1\": an issuer has no query"},
		{"no client id", func(c *oidc.Config) { c.ClientID = "" }, "auth.oidc[0].client_id: required"},
		{"no secret env", func(c *oidc.Config) { c.ClientSecretEnv = "" }, "auth.oidc[0].client_secret_env: required"},
		{"the secret itself", func(c *oidc.Config) { c.ClientSecretEnv = "x9$Kq-secret-value" }, "auth.oidc[0].client_secret_env: is not an environment variable name"},
		{"scope with a space", func(c *oidc.Config) { c.Scopes = []string{"openid", "email groups"} }, `auth.oidc[0].scopes[1]: "email groups" is not a scope`},
		{"scope twice", func(c *oidc.Config) { c.Scopes = []string{"openid", "email", "email"} }, `auth.oidc[0].scopes[2]: "email" is listed twice`},
		{"user name claim with a newline", func(c *oidc.Config) { c.UserNameClaim = "a\nb" }, "auth.oidc[0].user_name_claim: must be a claim name"},
		{"domain with @", func(c *oidc.Config) { c.AllowedDomains = []string{"@example.com"} }, `auth.oidc[0].allowed_domains[0]: "@example.com": write the domain alone`},
		{"domain without a dot", func(c *oidc.Config) { c.AllowedDomains = []string{"localhost"} }, `auth.oidc[0].allowed_domains[0]: "localhost" is not a domain`},
		{"domain twice", func(c *oidc.Config) { c.AllowedDomains = []string{"example.com", "EXAMPLE.com"} }, `auth.oidc[0].allowed_domains[1]: "EXAMPLE.com" is listed twice`},
		{"create users anywhere", func(c *oidc.Config) { c.AllowedDomains = nil }, "auth.oidc[0].allowed_domains: required when create_users is true"},
		{"bad trait name", func(c *oidc.Config) { c.Traits = map[string]string{"-x": "department"} }, `auth.oidc[0].traits.-x: "-x" is not a trait name`},
		{"trait of no claim", func(c *oidc.Config) { c.Traits = map[string]string{"team": ""} }, "auth.oidc[0].traits.team: must name a claim"},
		{"rule without a claim", func(c *oidc.Config) { c.Roles[0].Claim = "" }, "auth.oidc[0].roles[0].claim: required"},
		{"rule without a value", func(c *oidc.Config) { c.Roles[0].Value = "" }, "auth.oidc[0].roles[0].value: required"},
		{"role rule without a role", func(c *oidc.Config) { c.Roles[0].Role = "" }, "auth.oidc[0].roles[0].role: required: the role this rule grants"},
		{"role rule granting a list", func(c *oidc.Config) { c.Roles[0].List = "sre" }, "auth.oidc[0].roles[0].list: not allowed under roles"},
		{"list rule granting a role", func(c *oidc.Config) { c.Lists[0].Role = "dev" }, "auth.oidc[0].lists[0].role: not allowed under lists"},
		{"bad list name", func(c *oidc.Config) { c.Lists[0].List = "s re" }, `auth.oidc[0].lists[0].list: "s re" is not a valid access list name`},
		{"same rule twice", func(c *oidc.Config) { c.Roles = append(c.Roles, c.Roles[0]) }, "auth.oidc[0].roles[1]: the same rule as roles[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goodConfig()
			tc.change(&c)
			err := c.Validate("auth.oidc[0]")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v; want %q", err, tc.want)
			}
			if tc.name == "the secret itself" && strings.Contains(err.Error(), "secret-value") {
				t.Errorf("the error repeats what may be the secret: %v", err)
			}
		})
	}
	c := goodConfig()
	if err := c.Validate("auth.oidc[0]"); err != nil {
		t.Errorf("a good config: %v", err)
	}
	// Problems are all reported, each with its field.
	c.Name, c.Issuer = "", ""
	if err := c.Validate("auth.oidc[2]"); err == nil || !strings.Contains(err.Error(), "auth.oidc[2].name") || !strings.Contains(err.Error(), "auth.oidc[2].issuer") {
		t.Errorf("two problems: %v", err)
	}
	// Loopback issuers may be http (a provider run beside warden, as in tests).
	for _, issuer := range []string{"http://127.0.0.1:9000", "http://localhost:9000/realms/x", "http://[::1]:9000"} {
		c := goodConfig()
		c.Issuer = issuer
		if err := c.Validate("auth.oidc[0]"); err != nil {
			t.Errorf("issuer %s: %v", issuer, err)
		}
	}
}

// fakeIssuer serves a discovery document (changed by edit) at a loopback address.
func fakeIssuer(t *testing.T, serve func(w http.ResponseWriter, issuer string)) string {
	t.Helper()
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, issuer)
	}))
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

func discovery(issuer string, edit func(d map[string]any)) []byte {
	d := map[string]any{"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
		"jwks_uri": issuer + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}}
	if edit != nil {
		edit(d)
	}
	b, _ := json.Marshal(d)
	return b
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter, issuer string)
		want  string
	}{
		{"a discovery document over 1 MiB", func(w http.ResponseWriter, issuer string) {
			w.Write(discovery(issuer, func(d map[string]any) { d["padding"] = strings.Repeat("x", 1<<20) }))
		}, "larger than 1048576 bytes"},
		{"a redirect", func(w http.ResponseWriter, issuer string) {
			w.Header().Set("Location", "https://elsewhere.example.com/.well-known/openid-configuration")
			w.WriteHeader(http.StatusFound)
		}, "302 Found"},
		{"another issuer", func(w http.ResponseWriter, issuer string) {
			w.Write(discovery("https://evil.example.com", nil))
		}, "evil.example.com"},
		{"a token endpoint over http elsewhere", func(w http.ResponseWriter, issuer string) {
			w.Write(discovery(issuer, func(d map[string]any) { d["token_endpoint"] = "http://tokens.example.com/token" }))
		}, `token_endpoint: "http://tokens.example.com/token" is not https`},
		{"no PKCE with S256", func(w http.ResponseWriter, issuer string) {
			w.Write(discovery(issuer, func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }))
		}, "does not support PKCE with S256"},
		{"no client secret authentication", func(w http.ResponseWriter, issuer string) {
			w.Write(discovery(issuer, func(d map[string]any) { d["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"} }))
		}, "neither client_secret_basic nor client_secret_post"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := goodConfig()
			cfg.Issuer = fakeIssuer(t, tc.serve)
			t.Setenv("OKTA_CLIENT_SECRET", "secret")
			c, err := oidc.New(context.Background(), cfg, redirectURL)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `oidc connector "okta": `) {
				t.Errorf("New = %v, %v; want an error naming the connector and %q", c, err, tc.want)
			}
			if err != nil && len(err.Error()) > 1000 {
				t.Errorf("the error is %d bytes long", len(err.Error()))
			}
		})
	}

	good := func(w http.ResponseWriter, issuer string) { w.Write(discovery(issuer, nil)) }
	cfg := goodConfig()
	cfg.Issuer = fakeIssuer(t, good)
	t.Setenv("OKTA_CLIENT_SECRET", "")
	if _, err := oidc.New(context.Background(), cfg, redirectURL); err == nil || !strings.Contains(err.Error(), "client_secret_env: the environment variable OKTA_CLIENT_SECRET is unset or empty") {
		t.Errorf("New without the secret: %v", err)
	}
	t.Setenv("OKTA_CLIENT_SECRET", "secret")
	if _, err := oidc.New(context.Background(), cfg, "/callback"); err == nil || !strings.Contains(err.Error(), "redirect URL") {
		t.Errorf("New with a relative redirect URL: %v", err)
	}
	cfg.Name = ""
	if _, err := oidc.New(context.Background(), cfg, redirectURL); err == nil || !strings.Contains(err.Error(), "name: required") {
		t.Errorf("New with an invalid config: %v", err)
	}
	cfg.Name = "okta"
	if _, err := oidc.New(context.Background(), cfg, redirectURL); err != nil {
		t.Errorf("New: %v", err)
	}
}
