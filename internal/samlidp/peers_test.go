package samlidp_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/testenv"
)

// Independent peers: xmlsec1 (Debian xmlsec1) checks warden's XML signatures, and a pysaml2
// service provider (Debian python3-pysaml2, under /usr/bin/python3) judges warden's Responses
// as a service provider would, configured from warden's metadata. Neither was written here.
// The tests skip when a tool is missing, except under CI=true (.ci/run installs both).

func tool(t *testing.T, path string, check ...string) {
	t.Helper()
	_, err := os.Stat(path)
	if err == nil && len(check) > 0 {
		err = exec.Command(check[0], check[1:]...).Run()
	}
	if err != nil {
		testenv.Need(t, fmt.Errorf("%s is missing (%w): apt-get install xmlsec1 python3-pysaml2", path, err))
	}
}

// issued is one Response warden made, with what a peer needs to judge it.
type issued struct {
	dir, metadata, cert, response string
	xml                           []byte
}

func issue(t *testing.T, f *fixture, id string, at time.Time) *issued {
	t.Helper()
	ctx := context.Background()
	req, err := f.idp.ReadRequest(redirectRequest(authnRequest(id, spEntity, spACS, at), ""))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.idp.Issue(ctx, req, "alice@example.com", at, "")
	if err != nil {
		t.Fatal(err)
	}
	md, err := f.idp.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	is := &issued{dir: dir, metadata: filepath.Join(dir, "idp.xml"), cert: filepath.Join(dir, "idp.pem"), response: filepath.Join(dir, "response.xml"), xml: resp.XML}
	os.WriteFile(is.metadata, md, 0o600)
	// The certificate as the metadata publishes it, not as warden holds it.
	m := regexp.MustCompile(`<X509Certificate[^>]*>([^<]+)</X509Certificate>`).FindSubmatch(md)
	if m == nil {
		t.Fatalf("no certificate in the metadata:\n%s", md)
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(is.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(is.response, resp.XML, 0o600)
	return is
}

func xmlsec(t *testing.T, is *issued, file, node string) (bool, string) {
	t.Helper()
	args := []string{"--verify", "--pubkey-cert-pem", is.cert,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"}
	if node != "" {
		args = append(args, "--node-xpath", node)
	}
	out, err := exec.Command("/usr/bin/xmlsec1", append(args, file)...).CombinedOutput()
	return err == nil, string(out)
}

const (
	responseSig  = "/*[local-name()='Response']/*[local-name()='Signature']"
	assertionSig = "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']"
)

func TestXMLSecVerifies(t *testing.T) {
	tool(t, "/usr/bin/xmlsec1")
	f := newFixture(t, samlidp.Config{})
	is := issue(t, f, "_x1", time.Now())
	for _, node := range []string{responseSig, assertionSig} {
		if ok, out := xmlsec(t, is, is.response, node); !ok {
			t.Errorf("xmlsec1 refuses warden's signature %s:\n%s", node, out)
		}
	}
	tampered := filepath.Join(is.dir, "tampered.xml")
	os.WriteFile(tampered, []byte(strings.Replace(string(is.xml), "alice@example.com", "mallory@example.com", 1)), 0o600)
	for _, node := range []string{responseSig, assertionSig} {
		if ok, out := xmlsec(t, is, tampered, node); ok {
			t.Errorf("xmlsec1 accepts a tampered Response (%s):\n%s", node, out)
		}
	}
	// Another key's certificate: refused.
	other := newFixture(t, samlidp.Config{})
	is2 := issue(t, other, "_x2", time.Now())
	is.cert = is2.cert
	if ok, _ := xmlsec(t, is, is.response, responseSig); ok {
		t.Error("xmlsec1 accepts the Response with another key's certificate")
	}
}

func pysaml2(t *testing.T, is *issued, response []byte, sp, inResponseTo string) (bool, string) {
	t.Helper()
	file := filepath.Join(is.dir, "response.b64")
	os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(response)), 0o600)
	args := []string{"testdata/pysaml2_sp.py", is.metadata, sp, spACS, file}
	if inResponseTo != "" {
		args = append(args, inResponseTo)
	}
	cmd := exec.Command("/usr/bin/python3", args...)
	cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore")
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}

var signatureRE = regexp.MustCompile(`(?s)<ds:Signature.*?</ds:Signature>`)

func TestPySAML2ServiceProvider(t *testing.T) {
	tool(t, "/usr/bin/xmlsec1")
	tool(t, "/usr/bin/python3", "/usr/bin/python3", "-c", "import saml2.client")
	f := newFixture(t, samlidp.Config{})
	is := issue(t, f, "_p1", time.Now())
	ok, out := pysaml2(t, is, is.xml, spEntity, "_p1")
	if !ok || !strings.Contains(out, "OK urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress alice@example.com") || !strings.Contains(out, `"https://aws.amazon.com/SAML/Attributes/AccessControl:CostCenter": ["cc-42"]`) {
		t.Fatalf("pysaml2 refuses warden's Response:\n%s", out)
	}
	unsigned := signatureRE.ReplaceAll(is.xml, nil)
	if strings.Contains(string(unsigned), "Signature") {
		t.Fatal("the signatures were not stripped")
	}
	old := newFixture(t, samlidp.Config{}, samlidp.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	expired := issue(t, old, "_p2", time.Now().Add(-time.Hour))
	for name, c := range map[string]struct {
		is       *issued
		response []byte
		sp, irt  string
		why      string // pysaml2's reason
	}{
		"tampered":           {is, []byte(strings.Replace(string(is.xml), "alice@example.com", "mallory@example.com", 1)), spEntity, "_p1", "Failed to verify signature"},
		"unsigned":           {is, unsigned, spEntity, "_p1", "Signature missing"},
		"wrong audience":     {is, is.xml, "https://us-west-2.signin.aws.amazon.com/platform/saml/d-0000000000", "_p1", "AudienceRestrictions conditions not satisfied"},
		"wrong InResponseTo": {is, is.xml, spEntity, "_another", "Unsolicited response: _p1"},
		"expired":            {expired, expired.xml, spEntity, "_p2", "too old"},
	} {
		t.Run(name, func(t *testing.T) {
			ok, out := pysaml2(t, c.is, c.response, c.sp, c.irt)
			if ok || !strings.Contains(out, "REFUSED") || !strings.Contains(out, c.why) {
				t.Errorf("pysaml2 accepts a %s Response:\n%s", name, out)
			}
			t.Logf("pysaml2: %s", lastLine(out))
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
