package web

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 description of every route, served at
// GET /api/v1/openapi.json. A test keeps it true to Routes and to what
// the handlers refuse.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ Caller) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(OpenAPI)
}
