package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// warden saml metadata prints the IdP metadata; saml sp set takes Identity Center's SP metadata
// from a file or a URL, and sp show reads it back; saml rotate runs the three steps in order;
// warden apps lists the app to those holding an assignment.
func TestSAMLCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := cleanEnv(t, "WARDEN_DATA_DIR="+dataDir)
	srv := startServe(t, env, "--listen", "127.0.0.1:0")
	defer srv.stop(t)
	cli := append(env, "WARDEN_ADDR="+srv.addr)

	md := mustRun(t, cli, "", "saml", "metadata")
	if !strings.Contains(md, `entityID="`+srv.addr+`/saml/metadata"`) || !strings.Contains(md, `use="signing"`) ||
		strings.Contains(md, "encryption") || !strings.Contains(md, srv.addr+"/saml/sso") {
		t.Fatalf("metadata:\n%s", md)
	}
	sp := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://127.0.0.1:9/platform/saml/d-1234567890">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:9/platform/saml/acs/t-1" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`
	file := writeFile(t, t.TempDir(), "sp.xml", sp)
	if out := mustRun(t, cli, "", "saml", "sp", "set", "--metadata-file", file); !strings.Contains(out, "1 ACS URLs") {
		t.Fatalf("sp set: %s", out)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(sp)) }))
	defer hs.Close()
	mustRun(t, cli, "", "saml", "sp", "set", "--metadata-url", hs.URL+"/md")
	if out := mustRun(t, cli, "", "saml", "sp", "show"); !strings.Contains(out, "entity_id: http://127.0.0.1:9/platform/saml/d-1234567890") {
		t.Fatalf("sp show:\n%s", out)
	}
	bad := writeFile(t, t.TempDir(), "bad.xml", strings.ReplaceAll(sp, "http://127.0.0.1:9/platform/saml/acs", "http://acs.example.com/acs"))
	if r := run(t, cli, "", "saml", "sp", "set", "--metadata-file", bad); r.code == 0 || !strings.Contains(r.err, "plain http") {
		t.Fatalf("plain http ACS: exit %d %s", r.code, r.err)
	}
	for _, args := range [][]string{{"saml", "rotate"}, {"saml", "rotate", "--finish"}, {"saml", "rotate", "--cleanup"}} {
		mustRun(t, cli, "", args...)
	}
	if r := run(t, cli, "", "saml", "rotate", "--cleanup"); r.code == 0 || !strings.Contains(r.err, "no old key") {
		t.Fatalf("cleanup twice: exit %d %s", r.code, r.err)
	}
	mustRun(t, cli, `{"kind": "user", "version": "v1", "metadata": {"name": "erin"}, "spec": {}}`, "create", "-f", "-")
	erin := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", "erin", "--ttl", "1h"))
	if out := mustRun(t, append(cli, "WARDEN_TOKEN="+erin), "", "apps"); !strings.Contains(out, "No apps") {
		t.Fatalf("apps for erin, who holds nothing: %s", out)
	}
}
