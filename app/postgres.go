package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/munja-sms/munja/store"
)

func openPostgres(ctx context.Context, url string, log *slog.Logger) (store.Store, error) {
	return nil, errors.New("the PostgreSQL store is not available in this build yet; use a SQLite file path for database")
}
