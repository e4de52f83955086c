-- 0002: console users get a language and a disabled time; server-side
-- sessions get an ID, a CSRF token and a last-seen time; delivery reports
-- get an index. The sessions table of 0001 was never written to by munja,
-- so it is replaced rather than altered.

ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'ko';
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

DROP TABLE sessions;
CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	hash       BLOB    NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- PendingReports: sent deliveries whose result is still to be fetched, in
-- sent order. Partial, so queued and final rows cost nothing here.
CREATE INDEX deliveries_pending_reports ON deliveries (sent_at, id)
	WHERE status = 'sent' AND provider_msg_id <> '';
