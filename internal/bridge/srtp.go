package bridge

import "github.com/pion/dtls/v3"

// srtpProfiles are the SRTP profiles the bridge accepts, best first. The
// DTLS server picks among them by its own preference, and the bridge is
// usually the DTLS client, so leaving out AES-256-GCM makes browsers with GCM
// and the Go client settle on AES-128-GCM; AES-CM with HMAC-SHA1 is for
// browsers without GCM and costs six times as much CPU per packet
// (BenchmarkSRTPEncrypt).
var srtpProfiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}
