-- Idempotency keys (store.Messages.CreateOnce), as the SQLite store's 0005:
-- the message stored last under a key, so that a webhook sent again pages
-- once. message_id is NULL only inside the transaction that claims the key
-- (it is set before the commit); created_at is the message's. Pruning a
-- message drops its key.
CREATE TABLE message_keys (
	key        text        PRIMARY KEY,
	message_id bigint      REFERENCES messages (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL
);
-- The cascade from messages.
CREATE INDEX message_keys_message ON message_keys (message_id);
