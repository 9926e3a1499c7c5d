-- Préau replica schema, version 3: the cahier de textes' lessons, audiences, attachments,
-- withdrawals, and pupils' "done" ticks. Read models are rebuilt from the documents after
-- any upgrade (Store::open), so new columns need no back-fill here.

ALTER TABLE homework_entry ADD COLUMN audience    TEXT    NOT NULL DEFAULT '';
ALTER TABLE homework_entry ADD COLUMN lesson      TEXT    NOT NULL DEFAULT '';
ALTER TABLE homework_entry ADD COLUMN attachments TEXT    NOT NULL DEFAULT '';  -- hash|size|mime|name lines
ALTER TABLE homework_entry ADD COLUMN edited_by   TEXT    NOT NULL DEFAULT '';
ALTER TABLE homework_entry ADD COLUMN edited_at   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE homework_entry ADD COLUMN removed     INTEGER NOT NULL DEFAULT 0;
CREATE INDEX homework_entry_day ON homework_entry (partition, assigned_on);

CREATE TABLE homework_done (
    doc_id   TEXT    NOT NULL,
    entry_id TEXT    NOT NULL,
    pupil    TEXT    NOT NULL,
    done     INTEGER NOT NULL,
    done_by  TEXT    NOT NULL,
    done_at  INTEGER NOT NULL,
    PRIMARY KEY (doc_id, entry_id, pupil)
);
