-- 0001: munja's schema, the same tables as the SQLite store's migrations
-- 0001 and 0002. Times are timestamptz at millisecond precision; NULL means
-- "not set". Names are COLLATE "C" so they sort and compare byte-wise, as
-- in SQLite, whatever the database's locale.

CREATE TABLE messages (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	text       text        NOT NULL,
	title      text        NOT NULL DEFAULT '',
	kind       text        NOT NULL,
	sender     text        NOT NULL DEFAULT '',
	test       boolean     NOT NULL DEFAULT false,
	at         timestamptz,
	source     text        NOT NULL DEFAULT '',
	created_by text        NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
);
-- Since/Until and pruning.
CREATE INDEX messages_created_at ON messages (created_at);

CREATE TABLE deliveries (
	id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id      bigint      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	phone           text        NOT NULL,
	status          text        NOT NULL,
	provider        text        NOT NULL DEFAULT '',
	provider_msg_id text        NOT NULL DEFAULT '',
	attempts        integer     NOT NULL DEFAULT 0,
	last_error      text        NOT NULL DEFAULT '',
	next_attempt_at timestamptz NOT NULL,
	lease_until     timestamptz,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	sent_at         timestamptz
);
-- Claims and NextDue walk the unfinished deliveries in due order; final
-- ones (almost all of the table) are not in this index at all.
CREATE INDEX deliveries_active ON deliveries (next_attempt_at, id) WHERE status IN ('queued', 'sending');
-- A message's deliveries; the cascade from messages.
CREATE INDEX deliveries_message ON deliveries (message_id);
-- History by phone and the per-recipient daily budget.
CREATE INDEX deliveries_phone_created ON deliveries (phone, created_at);
-- The global daily budget.
CREATE INDEX deliveries_created ON deliveries (created_at);
-- PendingReports: sent deliveries whose result is still to be fetched.
CREATE INDEX deliveries_pending_reports ON deliveries (sent_at, id)
	WHERE status = 'sent' AND provider_msg_id <> '';

CREATE TABLE contacts (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text        COLLATE "C" NOT NULL,
	phone      text        NOT NULL UNIQUE,
	memo       text        NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX contacts_name ON contacts (name, id);

CREATE TABLE groups (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text        COLLATE "C" NOT NULL UNIQUE,
	created_at timestamptz NOT NULL
);

CREATE TABLE group_members (
	group_id   bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, contact_id)
);
CREATE INDEX group_members_contact ON group_members (contact_id);

CREATE TABLE templates (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text        COLLATE "C" NOT NULL UNIQUE,
	text       text        NOT NULL,
	title      text        NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE users (
	id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name                text        COLLATE "C" NOT NULL UNIQUE,
	password_hash       text        NOT NULL,
	role                text        NOT NULL,
	lang                text        NOT NULL DEFAULT 'ko',
	created_at          timestamptz NOT NULL,
	password_changed_at timestamptz NOT NULL,
	disabled_at         timestamptz
);

CREATE TABLE sessions (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hash       bytea       NOT NULL UNIQUE,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text        COLLATE "C" NOT NULL,
	scope      text        NOT NULL,
	hash       bytea       NOT NULL UNIQUE,
	created_at timestamptz NOT NULL,
	last_used  timestamptz,
	revoked_at timestamptz
);
-- At most one active token per name; revoked ones keep their name for the audit trail.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
	id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at     timestamptz NOT NULL,
	actor  text        NOT NULL,
	action text        NOT NULL,
	target text        NOT NULL DEFAULT '',
	detail text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE TABLE alert_state (
	key        text        COLLATE "C" PRIMARY KEY,
	value      bytea       NOT NULL,
	updated_at timestamptz NOT NULL
);
