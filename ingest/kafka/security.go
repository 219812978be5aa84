package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how matchd connects to brokers. The zero value is plaintext
// without authentication.
type Security struct {
	// TLS, when set, wraps every broker connection.
	TLS *tls.Config
	// SASL, when set, authenticates every broker connection.
	SASL sasl.Mechanism
	// ClientID names matchd in the brokers' logs and quotas (default
	// "matchd").
	ClientID string
}

func (s Security) clientID() string {
	if s.ClientID == "" {
		return "matchd"
	}
	return s.ClientID
}

// Dialer returns a kafka-go Dialer with these settings; timeout bounds each
// connection attempt.
func (s Security) Dialer(timeout time.Duration) *kafkago.Dialer {
	return &kafkago.Dialer{
		ClientID:      s.clientID(),
		Timeout:       timeout,
		DualStack:     true,
		TLS:           s.TLS,
		SASLMechanism: s.SASL,
	}
}

// Transport returns a kafka-go Transport (for Writers and Clients) with
// these settings.
func (s Security) Transport() *kafkago.Transport {
	return &kafkago.Transport{
		ClientID:    s.clientID(),
		DialTimeout: 10 * time.Second,
		TLS:         s.TLS,
		SASL:        s.SASL,
	}
}

// SASLMechanisms lists the mechanisms NewSASL accepts.
var SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// NewSASL returns the SASL mechanism named (ASCII case ignored) with the
// given credentials.
func NewSASL(mechanism, username, password string) (sasl.Mechanism, error) {
	if username == "" {
		return nil, fmt.Errorf("SASL %s needs a username", mechanism)
	}
	switch strings.ToUpper(mechanism) {
	case "PLAIN":
		return plain.Mechanism{Username: username, Password: password}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, username, password)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, username, password)
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q (want %s)", mechanism, strings.Join(SASLMechanisms, ", "))
}

// LoadTLS returns a client TLS configuration: caFile (PEM) replaces the
// system roots when given; certFile and keyFile (PEM), given together, are
// the client certificate for brokers that require one.
func LoadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate found", caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("a TLS client certificate needs both the certificate and the key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
