package fakegw

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// MaintenancePage is the HTML a Korean gateway's web server shows during
// maintenance, answered with 200 in place of JSON.
const MaintenancePage = "<html><body>서비스 점검중입니다.</body></html>"

// ErrorPage is the HTML page a web server or proxy in front of a gateway
// answers an HTTP error status with.
func ErrorPage(status int) string {
	return "<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"
}

// WriteBody answers status with body labelled contentType.
func WriteBody(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// WriteJSON answers status with v encoded as JSON (UTF-8, as Go, Java and
// Node servers write it) labelled contentType; a v that does not encode
// is a 500.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	writeJSON(w, status, contentType, v, false)
}

// WriteEscapedJSON is WriteJSON with every non-ASCII rune escaped as
// \uXXXX, the way PHP's json_encode writes it (Aligo).
func WriteEscapedJSON(w http.ResponseWriter, status int, contentType string, v any) {
	writeJSON(w, status, contentType, v, true)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any, escape bool) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if escape {
		b = asciiJSON(b)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// asciiJSON escapes every non-ASCII rune the way PHP's json_encode does.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < 0x80 {
			out.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			out.WriteString(`\u`)
			out.WriteString(strconv.FormatUint(uint64(u)|0x10000, 16)[1:])
		}
	}
	return out.Bytes()
}

// ReadForm reads a POST form, urlencoded or multipart/form-data (up to
// 32 MiB in memory), as a PHP gateway takes either: a copy of the fields,
// the names of the file fields (sorted), and whether it was multipart. On
// an error the form is empty, not nil.
func ReadForm(r *http.Request) (form url.Values, files []string, multipart bool, err error) {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return url.Values{}, nil, true, err
		}
		for name := range r.MultipartForm.File {
			files = append(files, name)
		}
		slices.Sort(files)
		return CloneValues(r.PostForm), files, true, nil
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, nil, false, err
	}
	return CloneValues(r.PostForm), nil, false, nil
}
