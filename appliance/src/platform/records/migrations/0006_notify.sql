-- The hub's e-mail notifications (crate::notify): the hub's own, never replicated.

-- How far the hub has read its catalog for notices (a local sequence number).
CREATE TABLE notify_cursor (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    seq       INTEGER NOT NULL
);

-- One person's choices, and the address she entered (confirmed, or waiting for it).
CREATE TABLE notify_setting (
    school          TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    digest_hour     INTEGER NOT NULL,
    quiet_hours     TEXT    NOT NULL,  -- 'HH:MM-HH:MM', her own, on top of the académie's; or ''
    saturday        INTEGER NOT NULL,  -- nothing on Saturdays either
    last_digest_on  TEXT    NOT NULL,  -- 'YYYY-MM-DD' of her last digest
    address         TEXT    NOT NULL,  -- confirmed; '' for the directory's (ONDE's « Courriel »)
    pending_address TEXT    NOT NULL,
    pending_token   TEXT    NOT NULL,  -- BLAKE3 of the confirmation link's secret, hex
    pending_until   INTEGER NOT NULL,
    PRIMARY KEY (school, user_id)
);

-- Her mode per topic, where she changed it from the topic's default.
CREATE TABLE notify_mode (
    school  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    topic   TEXT NOT NULL,
    mode    TEXT NOT NULL,  -- 'immediate', 'digest' or 'never'
    PRIMARY KEY (school, user_id, topic)
);

-- What someone is to be told, once: mail_id NULL while waiting, 0 when dropped.
CREATE TABLE notice (
    id       INTEGER PRIMARY KEY,
    school   TEXT    NOT NULL,
    user_id  TEXT    NOT NULL,
    topic    TEXT    NOT NULL,
    item     TEXT    NOT NULL,
    child    TEXT    NOT NULL,
    line     TEXT    NOT NULL,
    href     TEXT    NOT NULL,
    at       INTEGER NOT NULL,  -- when it happened
    noticed  INTEGER NOT NULL,  -- when it reached the hub: a digest tells what came before its hour
    due_on   TEXT    NOT NULL,
    mail_id  INTEGER,
    UNIQUE (school, user_id, item)
);
CREATE INDEX notice_waiting ON notice (school, user_id) WHERE mail_id IS NULL;

-- The outbox: each e-mail as it will be sent, until the server took it or refused it for good.
CREATE TABLE mail (
    id          INTEGER PRIMARY KEY,
    school      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    message_id  TEXT    NOT NULL UNIQUE,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    unsubscribe TEXT    NOT NULL,  -- the one-click address ('' for a confirmation)
    created_at  INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    state       TEXT    NOT NULL,  -- 'queued', 'sent' or 'failed'
    done_at     INTEGER NOT NULL,
    error       TEXT    NOT NULL
);
CREATE INDEX mail_queued ON mail (next_at) WHERE state = 'queued';
CREATE INDEX mail_created ON mail (created_at);

-- What the SMTP server said of each address we wrote to.
CREATE TABLE mail_address (
    address    TEXT    PRIMARY KEY,  -- lower case
    failures   INTEGER NOT NULL,     -- refusals in a row
    last_error TEXT    NOT NULL,
    failed_at  INTEGER NOT NULL,
    failing    INTEGER NOT NULL      -- no more e-mail until it is changed or works again
);
