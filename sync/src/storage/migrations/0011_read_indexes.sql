-- Préau replica schema, version 11: indexes for the reads of every page, so that none scans
-- a table that grows through the school year.

-- Who takes part in which conversation: "my conversations" and the unread counter look a
-- person up here instead of matching every conversation's participant list.
CREATE TABLE conversation_participant (
    doc_id  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);
CREATE INDEX conversation_participant_user ON conversation_participant (user_id);

-- One pupil's ticks in a class's cahier de textes (the pupil's "à faire" list).
CREATE INDEX homework_done_pupil ON homework_done (doc_id, pupil);
