-- Préau replica schema, version 5: messaging's contexts, moderation and read marks.

ALTER TABLE conversation ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE conversation ADD COLUMN about           TEXT NOT NULL DEFAULT '';
ALTER TABLE conversation ADD COLUMN created_by      TEXT NOT NULL DEFAULT '';
CREATE INDEX conversation_key ON conversation (conversation_id);
ALTER TABLE message ADD COLUMN status INTEGER NOT NULL DEFAULT 2;  -- 1 waiting, 2 delivered, 0 refused

-- Who takes part in which conversation, for "my conversations" (one row per participant).
CREATE TABLE read_mark (
    doc_id  TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    read_at INTEGER NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);

-- Each class's messaging switches (kept in the school directory).
ALTER TABLE school_class ADD COLUMN unmoderated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE school_class ADD COLUMN classmates  INTEGER NOT NULL DEFAULT 0;
