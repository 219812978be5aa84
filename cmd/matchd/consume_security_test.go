package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/matchd/matchd/ingest/kafka"
	"github.com/matchd/matchd/internal/kafkatest"
)

// testCA returns a server TLS configuration for 127.0.0.1 and the PEM file
// of the CA that signed it.
func testCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "matchd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}, caFile
}

// TestKafkaSASLTLS consumes over TLS with each SASL mechanism (kfake only:
// the CI broker has neither).
func TestKafkaSASLTLS(t *testing.T) {
	if kafkatest.Real() {
		t.Skip("the broker in " + kafkatest.EnvBrokers + " is plaintext without SASL")
	}
	for _, mech := range kafka.SASLMechanisms {
		t.Run(mech, func(t *testing.T) {
			serverTLS, caFile := testCA(t)
			b := kafkatest.Start(t, kfake.TLS(serverTLS), kfake.EnableSASL(), kfake.Superuser(mech, "matchd", "s3cret"))
			clientTLS, err := kafka.LoadTLS(caFile, "", "")
			if err != nil {
				t.Fatal(err)
			}
			m, err := kafka.NewSASL(mech, "matchd", "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			b.Transport = kafka.Security{TLS: clientTLS, SASL: m}.Transport()
			topic := b.Topic(t, 1)
			group := kafkatest.Name(t, "g")
			produceHits(t, b, topic, 1, 20, 0)
			out := filepath.Join(t.TempDir(), "alerts.jsonl")
			t.Setenv("MATCHD_SASL_PASSWORD", "s3cret")
			r := startConsume(t, b, "--topic", topic, "--group", group, "--iocs", seed, "--out", out,
				"--tls-ca", caFile, "--sasl-mechanism", mech, "--sasl-username", "matchd")
			kafkatest.Eventually(t, 30*time.Second, "not every alert arrived", func() bool { return len(readAlerts(t, out)) == 20 })
			if code := r.stop(t); code != 0 {
				t.Fatalf("exit %d", code)
			}
			if c := b.Committed(t, group, topic, 1); c[0] != 20 {
				t.Errorf("committed %v", c)
			}
		})
	}
}
