-- Préau replica schema, version 1. Released migrations are never edited: add a new file.

-- This replica's identity and counters (exactly one row).
CREATE TABLE replica (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    replica_id  TEXT    NOT NULL,
    secret_key  BLOB    NOT NULL,
    next_seq    INTEGER NOT NULL,   -- next local change sequence number (drives sync watermarks)
    open_count  INTEGER NOT NULL,   -- bumped at every open; part of the Automerge actor id
    created_at  INTEGER NOT NULL
);

-- The catalog: one row per document; drives replication.
CREATE TABLE document (
    doc_id       TEXT    PRIMARY KEY,
    partition    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    doc_key      TEXT    NOT NULL,
    heads        BLOB    NOT NULL,  -- sorted 32-byte change hashes
    size         INTEGER NOT NULL,  -- stored bytes (snapshot + incremental chunks)
    change_count INTEGER NOT NULL,
    chunk_count  INTEGER NOT NULL,  -- incremental chunks since the last snapshot
    seq          INTEGER NOT NULL,  -- local sequence number of the last change to this document
    updated_at   INTEGER NOT NULL   -- unix milliseconds
);
CREATE INDEX document_partition ON document (partition);
CREATE UNIQUE INDEX document_seq ON document (seq);

-- Document bytes: an optional snapshot followed by incremental chunks, in chunk_id order.
CREATE TABLE doc_chunk (
    chunk_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id    TEXT    NOT NULL REFERENCES document (doc_id),
    snapshot  INTEGER NOT NULL,
    data      BLOB    NOT NULL
);
CREATE INDEX doc_chunk_doc ON doc_chunk (doc_id, chunk_id);

-- Per-peer replication state.
CREATE TABLE peer (
    peer_id          TEXT    PRIMARY KEY,
    peer_scope       BLOB,                       -- the peer's scope as it last announced it
    scope_tag        BLOB,                       -- fingerprint of the shared scope received_through is valid for
    received_through INTEGER NOT NULL DEFAULT 0, -- we hold every shared doc the peer had changed up to its seq
    needs_full       INTEGER NOT NULL DEFAULT 0, -- a divergence was seen: next sync compares full catalogs
    last_sync_at     INTEGER
);

-- What we know a peer holds (heads it sent us or acknowledged). An under-estimate is always safe.
CREATE TABLE peer_doc (
    peer_id  TEXT NOT NULL,
    doc_id   TEXT NOT NULL,
    heads    BLOB NOT NULL,
    PRIMARY KEY (peer_id, doc_id)
) WITHOUT ROWID;

-- Bundles already applied, so that a replayed bundle is a strict no-op.
CREATE TABLE applied_bundle (
    peer_id    TEXT    NOT NULL,
    bundle_id  BLOB    NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (peer_id, bundle_id)
) WITHOUT ROWID;

-- Read models: plain tables projected from documents in the same transaction.
CREATE TABLE homework_entry (
    doc_id      TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    partition   TEXT NOT NULL,
    school_year TEXT NOT NULL,
    subject     TEXT NOT NULL,
    title       TEXT NOT NULL,
    details     TEXT NOT NULL,
    assigned_on TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    author      TEXT NOT NULL,
    PRIMARY KEY (doc_id, entry_id)
);
CREATE INDEX homework_entry_due ON homework_entry (partition, due_on);

CREATE TABLE conversation (
    doc_id          TEXT    PRIMARY KEY,
    partition       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    participants    TEXT    NOT NULL,
    message_count   INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL
);
CREATE INDEX conversation_partition ON conversation (partition, last_message_at);

CREATE TABLE message (
    doc_id     TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    sent_at    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (doc_id, message_id)
);

CREATE TABLE news_post (
    doc_id       TEXT    PRIMARY KEY,
    partition    TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    author       TEXT    NOT NULL,
    published_at INTEGER NOT NULL
);
CREATE INDEX news_post_partition ON news_post (partition, published_at);
