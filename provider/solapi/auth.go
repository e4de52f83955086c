package solapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Authentication (solapi/documents authentication/api-key.md, aligo-api.md
// §9.1): every call carries
//
//	Authorization: HMAC-SHA256 apiKey=<API key>, date=<ISO 8601>, salt=<12–64 random bytes>, signature=<hex>
//
// where signature = hex(HMAC-SHA256(key = API secret, data = date + salt)).
// Solapi refuses a date more than 15 minutes from its clock
// (RequestTimeTooSkewed) and a signature it saw in the last 15 minutes
// (DuplicatedSignature), so every request — a retry too — gets a fresh
// salt and the current time.

const saltAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// saltLen is within Solapi's 12–64 and what its own SDKs use.
const saltLen = 32

// authorization builds the header value for apiKey and secret at now with
// salt.
func authorization(apiKey, secret string, now time.Time, salt string) string {
	date := now.UTC().Format(time.RFC3339) // 2019-07-01T00:41:48Z, as in Solapi's samples
	return "HMAC-SHA256 apiKey=" + apiKey + ", date=" + date + ", salt=" + salt + ", signature=" + sign(secret, date, salt)
}

// sign is hex(HMAC-SHA256(secret, date+salt)).
func sign(secret, date, salt string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(date + salt))
	return hex.EncodeToString(mac.Sum(nil))
}

// newSalt is saltLen random characters from [0-9a-zA-Z].
func newSalt() string {
	b := make([]byte, saltLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = saltAlphabet[int(b[i])%len(saltAlphabet)]
	}
	return string(b)
}
