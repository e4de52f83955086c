-- 0001: munja's initial schema.
-- Every time is INTEGER unix milliseconds UTC; NULL means "not set".

CREATE TABLE messages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so keyset pages stay stable after pruning
	text       TEXT    NOT NULL,
	title      TEXT    NOT NULL DEFAULT '',
	kind       TEXT    NOT NULL,
	sender     TEXT    NOT NULL DEFAULT '',
	test       INTEGER NOT NULL DEFAULT 0,
	at         INTEGER,
	source     TEXT    NOT NULL DEFAULT '',
	created_by TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
-- History pages walk the rowid backwards (ORDER BY id DESC with id < ?), which
-- the INTEGER PRIMARY KEY already serves; a separate index on id would only
-- cost writes. Since/Until and pruning use created_at.
CREATE INDEX messages_created_at ON messages (created_at);

CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	phone           TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	provider        TEXT    NOT NULL DEFAULT '',
	provider_msg_id TEXT    NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_until     INTEGER,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	sent_at         INTEGER
);
-- Claims: queued and due, in due order.
CREATE INDEX deliveries_status_next ON deliveries (status, next_attempt_at);
-- Claims: sending with an expired lease.
CREATE INDEX deliveries_status_lease ON deliveries (status, lease_until);
-- A message's deliveries; the cascade from messages.
CREATE INDEX deliveries_message ON deliveries (message_id);
-- History by phone and the per-recipient daily budget.
CREATE INDEX deliveries_phone_created ON deliveries (phone, created_at);
-- The global daily budget.
CREATE INDEX deliveries_created ON deliveries (created_at);

CREATE TABLE contacts (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	phone      TEXT    NOT NULL UNIQUE,
	memo       TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_name ON contacts (name, id);

CREATE TABLE groups (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
	group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX group_members_contact ON group_members (contact_id);

CREATE TABLE templates (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	text       TEXT    NOT NULL,
	title      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE users (
	id                  INTEGER PRIMARY KEY,
	name                TEXT    NOT NULL UNIQUE,
	password_hash       TEXT    NOT NULL,
	role                TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	scope      TEXT    NOT NULL,
	hash       BLOB    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	last_used  INTEGER,
	revoked_at INTEGER
);
-- At most one active token per name; revoked ones keep their name for the audit trail.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
	id     INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,
	actor  TEXT    NOT NULL,
	action TEXT    NOT NULL,
	target TEXT    NOT NULL DEFAULT '',
	detail TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE TABLE alert_state (
	key        TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	updated_at INTEGER NOT NULL
);
