-- A replication session whose documents are exchanged (its reply answered) counts no more
-- against the sessions at work at once; it lingers for its files.
ALTER TABLE replication_session ADD COLUMN ended INTEGER NOT NULL DEFAULT 0;
