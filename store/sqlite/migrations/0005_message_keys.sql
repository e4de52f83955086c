-- 0005: idempotency keys (store.Messages.CreateOnce): the message stored
-- last under a key, so that a webhook sent again pages once. message_id is
-- NULL only inside the transaction that claims the key (it is set before
-- the commit); created_at is the message's. Pruning a message drops its key.
CREATE TABLE message_keys (
	key        TEXT    PRIMARY KEY,
	message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- The cascade from messages.
CREATE INDEX message_keys_message ON message_keys (message_id);
