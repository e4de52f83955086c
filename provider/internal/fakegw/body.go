package fakegw

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// RequestBody is body as a request body, for a fake's own tests: none
// for nil, a string as it is (malformed JSON too), anything else encoded
// as JSON.
func RequestBody(t testing.TB, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	}
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(j)
}
