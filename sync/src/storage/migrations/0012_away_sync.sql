-- Préau replica schema, version 12: the director's switch letting teachers' computers sync
-- with the académie's server when away from school (SchoolInfo::away_sync).
ALTER TABLE school ADD COLUMN away_sync INTEGER NOT NULL DEFAULT 0;
