-- 0006: a check change keeps its detail in Korean too (the check's
-- DetailKo), so the console's timeline reads in the reader's language.
-- Changes recorded before have '' and show the English detail.
ALTER TABLE check_changes ADD COLUMN detail_ko TEXT NOT NULL DEFAULT '';
