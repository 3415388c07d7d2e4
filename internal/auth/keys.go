package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// minRSABits is the smallest RSA modulus accepted, from a file or a JWKS.
const minRSABits = 2048

// publicKey is one key that verifies RS* or ES* tokens.
type publicKey struct {
	kid string
	// alg, when set (a JWK's "alg"), is the only algorithm the key verifies.
	alg string
	key crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
}

// suits reports whether k may verify a token signed with alg. This is where
// algorithm confusion is stopped: RS* gets RSA keys only, ES* gets ECDSA keys
// on the algorithm's own curve only, and HS* never gets a public key.
func (k publicKey) suits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return family(alg) == "RS"
	case *ecdsa.PublicKey:
		return family(alg) == "ES" && curveAlg(key.Curve.Params().Name) == alg
	}
	return false
}

// family is an algorithm's first two letters: HS, RS or ES.
func family(alg string) string {
	if len(alg) < 2 {
		return ""
	}
	return alg[:2]
}

// curveAlg names the ES algorithm that goes with a curve ("" for none).
func curveAlg(curve string) string {
	switch curve {
	case "P-256":
		return "ES256"
	case "P-384":
		return "ES384"
	case "P-521":
		return "ES512"
	}
	return ""
}

// loadPEMFile reads the public keys in one PEM file. Each block is a public
// key (PKIX "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY") or a certificate. A
// block's key id is its "kid" header, else the file's base name without its
// extension.
func loadPEMFile(path string) ([]publicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt public key file %q: %w", path, err)
	}
	base := filepath.Base(path)
	defaultKID := strings.TrimSuffix(base, filepath.Ext(base))
	var keys []publicKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		key, err := parsePEMBlock(block)
		if err != nil {
			return nil, fmt.Errorf("jwt public key file %q, PEM block %d: %w", path, n, err)
		}
		kid := block.Headers["kid"]
		if kid == "" {
			kid = defaultKID
		}
		keys = append(keys, publicKey{kid: kid, key: key})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwt public key file %q holds no PEM block; give an RSA or ECDSA public key (-----BEGIN PUBLIC KEY-----) or a certificate", path)
	}
	return keys, nil
}

func parsePEMBlock(block *pem.Block) (crypto.PublicKey, error) {
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("it is a private key (%s); give the server the public key only", block.Type)
		}
		return nil, fmt.Errorf("%q is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", block.Type, err)
	}
	return checkKey(key)
}

// checkKey accepts RSA keys of at least minRSABits and ECDSA keys on P-256,
// P-384 or P-521.
func checkKey(key any) (crypto.PublicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is too short; use at least %d", k.N.BitLen(), minRSABits)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if curveAlg(k.Curve.Params().Name) == "" {
			return nil, fmt.Errorf("ECDSA curve %s is not supported; use P-256, P-384 or P-521", k.Curve.Params().Name)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%T keys are not supported; use RSA or ECDSA", key)
}
