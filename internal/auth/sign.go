package auth

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Sign makes an HS256, HS384 or HS512 token of claims with secret: the admin
// API's join tokens, and tests. It adds nothing to claims; a token Verify
// accepts needs iss, aud, exp and room.
func Sign(secret string, alg string, claims jwt.MapClaims) (string, error) {
	if family(alg) != "HS" || !supportedAlg(alg) {
		return "", fmt.Errorf("jwt: Sign makes HS256, HS384 or HS512 tokens, not %q", alg)
	}
	if len(secret) < minSecretLen {
		return "", fmt.Errorf("jwt: the secret is %d bytes; it must be at least %d (256 bits)", len(secret), minSecretLen)
	}
	if claims == nil {
		claims = jwt.MapClaims{}
	}
	return jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims).SignedString([]byte(secret))
}
