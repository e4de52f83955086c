package app

import (
	"context"
	"log/slog"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
)

// openPostgres opens the shared PostgreSQL store at url.
func openPostgres(ctx context.Context, url string, log *slog.Logger) (store.Store, error) {
	db, err := postgres.Open(ctx, url, log)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return db, nil
}
