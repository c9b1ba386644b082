package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/config"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their files and a pool
// trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "warden test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// warden serve --tls-cert --tls-key serves HTTPS (and nothing in clear), says so, and sets Secure
// session cookies; a bad key pair stops the start naming the files.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	env := cleanEnv(t, "WARDEN_DATA_DIR="+t.TempDir())
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)
	defer srv.stop(t)
	if !strings.HasPrefix(srv.addr, "https://127.0.0.1:") {
		t.Fatalf("serving at %s, want https", srv.addr)
	}
	if !strings.Contains(srv.log(), "cookie=__Host-warden_session") {
		t.Fatalf("sessions are not Secure over TLS:\n%s", srv.log())
	}
	if strings.Contains(srv.log(), "without TLS") {
		t.Fatalf("a TLS server warns about plain HTTP:\n%s", srv.log())
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(srv.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS: %d %q", resp.StatusCode, b)
	}
	resp, err = http.Get("http://" + strings.TrimPrefix(srv.addr, "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("the TLS port answers in clear")
		}
	}
	// The CLI trusts the system's roots only: a self-signed certificate is refused.
	r := run(t, append(env, "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN=wdn_0000000000000000_x"), "", "whoami")
	if r.code == 0 || !strings.Contains(r.err, "certificate") {
		t.Fatalf("whoami against a self-signed certificate: exit %d %s", r.code, r.err)
	}

	other, _, _ := selfSigned(t)
	r = run(t, cleanEnv(t, "WARDEN_DATA_DIR="+t.TempDir()), "", "serve", "--listen", "127.0.0.1:0", "--tls-cert", other, "--tls-key", keyFile)
	if r.code == 0 || !strings.Contains(r.err, "tls: loading the certificate") {
		t.Fatalf("a certificate with another's key: exit %d %s", r.code, r.err)
	}
	r = run(t, cleanEnv(t, "WARDEN_DATA_DIR="+t.TempDir()), "", "serve", "--listen", "127.0.0.1:0", "--tls-cert", certFile)
	if r.code == 0 || !strings.Contains(r.err, "key") {
		t.Fatalf("a certificate without its key: exit %d %s", r.code, r.err)
	}
}

// Listening beyond loopback without TLS, serve warns; on loopback it does not.
func TestServeWarnsOfPlainHTTPBeyondLoopback(t *testing.T) {
	env := cleanEnv(t, "WARDEN_DATA_DIR="+t.TempDir())
	srv := startServe(t, env, "--listen", "0.0.0.0:0")
	srv.stop(t)
	if !strings.Contains(srv.log(), "listening on a non-loopback address without TLS") {
		t.Fatalf("no warning on 0.0.0.0 without TLS:\n%s", srv.log())
	}
	if !strings.Contains(srv.log(), "cookie=warden_session") {
		t.Fatalf("cookie name:\n%s", srv.log())
	}
	srv = startServe(t, cleanEnv(t, "WARDEN_DATA_DIR="+t.TempDir()), "--listen", "127.0.0.1:0")
	srv.stop(t)
	if strings.Contains(srv.log(), "without TLS") {
		t.Fatalf("a warning on loopback:\n%s", srv.log())
	}
}

func TestSecureCookies(t *testing.T) {
	for _, c := range []struct {
		cfg  config.Config
		want bool
	}{
		{config.Config{}, false},
		{config.Config{PublicURL: "http://localhost:8420"}, false},
		{config.Config{PublicURL: "https://warden.example.com"}, true},
		{config.Config{TLS: config.TLS{CertFile: "c", KeyFile: "k"}}, true},
	} {
		if got := secureCookies(c.cfg); got != c.want {
			t.Errorf("%+v: secure %v", c.cfg, got)
		}
	}
}
