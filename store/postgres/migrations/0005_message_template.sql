-- The munja message template a message was written from ('' for none), as
-- the SQLite store's 0006: a provider sending only through approved
-- templates (Kakao Alimtalk, aligo_alimtalk) chooses the one for it.
ALTER TABLE messages ADD COLUMN template text NOT NULL DEFAULT '';
