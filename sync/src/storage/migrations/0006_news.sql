-- Préau replica schema, version 6: news audiences, edits and withdrawals.

ALTER TABLE news_post ADD COLUMN post_id   TEXT    NOT NULL DEFAULT '';
ALTER TABLE news_post ADD COLUMN audience  TEXT    NOT NULL DEFAULT '';
ALTER TABLE news_post ADD COLUMN edited_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE news_post ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
CREATE INDEX news_post_id ON news_post (post_id);
