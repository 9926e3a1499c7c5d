-- links.db, version 1: what a replica keeps of its links and devices, not replicated.
-- `IF NOT EXISTS` throughout: databases created before numbered migrations (version 0)
-- already hold these tables, and this migration only numbers them.

CREATE TABLE IF NOT EXISTS hub_link (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    url TEXT NOT NULL,
    hub_id TEXT NOT NULL,
    hub_key BLOB NOT NULL,
    chain BLOB NOT NULL,
    enrolled_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollment_code (
    code_hash BLOB PRIMARY KEY,
    label TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by TEXT
);
CREATE TABLE IF NOT EXISTS enrolled (
    replica TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    label TEXT NOT NULL,
    subject TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    revoked_at INTEGER
);
-- Replicas that a downstream replica certified and then revoked (a school's teachers'
-- devices), as that replica reported them: by the certificate's subject and issuer key.
CREATE TABLE IF NOT EXISTS revoked_downstream (
    replica TEXT NOT NULL,
    issuer_key BLOB NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (replica, issuer_key)
);
CREATE TABLE IF NOT EXISTS sync_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    peer TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    docs_up INTEGER NOT NULL,
    docs_down INTEGER NOT NULL,
    files_up INTEGER NOT NULL,
    files_down INTEGER NOT NULL,
    bytes_up INTEGER NOT NULL,
    bytes_down INTEGER NOT NULL,
    bytes_resent INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS sync_run_peer ON sync_run (peer, ended_at);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    peer TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    file TEXT NOT NULL
);
-- Class tablets (accounts::devices): the hash of a tablet's token, per class it serves.
CREATE TABLE IF NOT EXISTS class_tablet (
    token_hash BLOB NOT NULL,
    class TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at INTEGER NOT NULL,
    PRIMARY KEY (token_hash, class)
);
CREATE INDEX IF NOT EXISTS class_tablet_class ON class_tablet (class);
-- The account audit (accounts::audit): every reset, letter, QR card and unlock, by whom.
CREATE TABLE IF NOT EXISTS account_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    by_user TEXT NOT NULL,
    target TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS account_audit_target ON account_audit (target, at);
CREATE TABLE IF NOT EXISTS admin (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    password_hash TEXT NOT NULL
);
