-- links.db version 8: the académie console's audit, on the hub (every action, who and when;
-- kept whole: a few thousand lines a year), beside the schools' account audit.
CREATE TABLE console_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    by_user TEXT NOT NULL,
    target TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX console_audit_target ON console_audit (target, at);
