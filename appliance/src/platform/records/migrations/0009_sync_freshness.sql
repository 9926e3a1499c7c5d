-- links.db version 9: when each enrolled replica last completed a sync with us, and until
-- when its current certificate is valid (the académie's page of the schools' freshness).
ALTER TABLE enrolled ADD COLUMN synced_at INTEGER;
ALTER TABLE enrolled ADD COLUMN certified_until INTEGER;
