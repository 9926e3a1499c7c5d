-- Préau replica schema, version 7: the agenda, and calendar feed secrets.

CREATE TABLE agenda_event (
    doc_id      TEXT    NOT NULL PRIMARY KEY,
    partition   TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    location    TEXT    NOT NULL,
    starts_on   TEXT    NOT NULL,
    ends_on     TEXT    NOT NULL,
    start_time  TEXT    NOT NULL,
    end_time    TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    edited_by   TEXT    NOT NULL,
    edited_at   INTEGER NOT NULL,
    withdrawn   INTEGER NOT NULL
);
CREATE INDEX agenda_event_span ON agenda_event (partition, starts_on);
CREATE INDEX agenda_event_id ON agenda_event (event_id);

ALTER TABLE credential ADD COLUMN calendar_secret TEXT NOT NULL DEFAULT '';
