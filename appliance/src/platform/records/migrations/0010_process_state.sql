-- What a server process kept in memory until now, kept here so that it outlives a restart
-- and, on a hub whose records are in PostgreSQL, is seen by every hub process.

-- Secrets every process of a hub must share (the key of CSRF tokens and signed links).
CREATE TABLE server_secret (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Signed-in sessions, by the BLAKE3 of their cookie: the table never holds a usable sid.
CREATE TABLE web_session (
    sid_hash     BLOB    PRIMARY KEY,
    school       TEXT    NOT NULL,  -- '' for none (the hub's administrator, the console)
    user_id      TEXT    NOT NULL,
    profile      TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    must_change  INTEGER NOT NULL,
    credential   BLOB,              -- the credentials' mark when it opened
    switched     INTEGER NOT NULL,  -- opened by a family's switch
    idle_ms      INTEGER NOT NULL,  -- how long it lasts unused
    seen_at      INTEGER NOT NULL   -- Unix ms, written at most once a minute
);
CREATE INDEX web_session_user ON web_session (school, user_id);
CREATE INDEX web_session_seen ON web_session (seen_at);

-- Throttling (platform::ratelimit): failures in a row per key, events per key, and the
-- picture tries of pupils who may have to wait for their teacher.
CREATE TABLE throttle_failure (
    key     TEXT    PRIMARY KEY,
    count   INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);
CREATE INDEX throttle_failure_last ON throttle_failure (last_at);
CREATE TABLE throttle_event (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX throttle_event_key ON throttle_event (key, at);
CREATE TABLE pupil_tries (
    pupil    TEXT    PRIMARY KEY,
    failures INTEGER NOT NULL
);

-- Replication requests' nonces, while their signature's time window lasts.
CREATE TABLE request_nonce (
    nonce BLOB    PRIMARY KEY,
    ts    INTEGER NOT NULL
);
CREATE INDEX request_nonce_ts ON request_nonce (ts);

-- The replication sessions this server answers, between their requests.
CREATE TABLE replication_session (
    id        BLOB    PRIMARY KEY,
    peer      TEXT    NOT NULL,
    state     BLOB    NOT NULL,  -- postcard: the sans-IO session and what the server adds
    last_used INTEGER NOT NULL,
    version   INTEGER NOT NULL   -- one more at each write: a stale copy is not written back
);
CREATE INDEX replication_session_peer ON replication_session (peer);
