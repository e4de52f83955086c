package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/munja-sms/munja/store"
)

// unavailable marks err as store.ErrUnavailable when it says the database
// cannot serve now rather than that the call was wrong: the server cannot
// be reached or dropped the connection (connect errors, network errors, a
// cut stream, class 08 connection exceptions), is shutting down or starting
// (57P0x), is out of resources (class 53: disk full, out of memory, too many
// connections) or is read-only (25006: a hot standby, or
// default_transaction_read_only). The caller's own context ending is not.
func unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	code := pgCode(err)
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"), code == "25006",
		code == "" && (errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return store.Unavailable(err)
	}
	return err
}
