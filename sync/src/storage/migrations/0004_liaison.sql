-- Préau replica schema, version 4: the carnet de liaison (notes, who they are for, signatures).

CREATE TABLE liaison_note (
    doc_id      TEXT    NOT NULL PRIMARY KEY,
    partition   TEXT    NOT NULL,
    note_id     TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    ask         TEXT    NOT NULL,  -- '', 'signature' or 'reply'
    author      TEXT    NOT NULL,
    posted_at   INTEGER NOT NULL,
    edited_at   INTEGER NOT NULL,
    reminded_at INTEGER NOT NULL,
    withdrawn   INTEGER NOT NULL,
    recipients  TEXT    NOT NULL   -- comma-separated pupil ids
);
CREATE INDEX liaison_note_class ON liaison_note (partition, posted_at);
CREATE INDEX liaison_note_id ON liaison_note (note_id);

CREATE TABLE liaison_recipient (
    doc_id TEXT NOT NULL,
    pupil  TEXT NOT NULL,
    PRIMARY KEY (doc_id, pupil)
);
CREATE INDEX liaison_recipient_pupil ON liaison_recipient (pupil);

CREATE TABLE liaison_signature (
    doc_id    TEXT    NOT NULL,
    child     TEXT    NOT NULL,
    guardian  TEXT    NOT NULL,
    signed_at INTEGER NOT NULL,
    reply     TEXT    NOT NULL,
    PRIMARY KEY (doc_id, child, guardian)
);
