-- 0006: the munja message template a message was written from ('' for
-- none), so that a provider sending only through approved templates
-- (Kakao Alimtalk, aligo_alimtalk) can choose the one for it.
ALTER TABLE messages ADD COLUMN template TEXT NOT NULL DEFAULT '';
