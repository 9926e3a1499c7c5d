-- Préau replica schema, version 10: who reset an account, when and why (shown to its owner
-- at the next login).

ALTER TABLE credential ADD COLUMN reset_by TEXT NOT NULL DEFAULT '';
ALTER TABLE credential ADD COLUMN reset_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credential ADD COLUMN reset_reason TEXT NOT NULL DEFAULT '';
