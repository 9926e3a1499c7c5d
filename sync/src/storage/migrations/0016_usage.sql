-- Préau replica schema, version 16: what each replica counted of a school's use (connections
-- and visits per day, profile and service; the accounts active in a month), read by school
-- and day.

CREATE TABLE usage_count (
    doc_id  TEXT    NOT NULL,
    uai     TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    profile TEXT    NOT NULL,
    service TEXT    NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (doc_id, day, profile, service)
);
CREATE INDEX usage_count_day ON usage_count (uai, day);

CREATE TABLE usage_active (
    doc_id  TEXT NOT NULL,
    uai     TEXT NOT NULL,
    month   TEXT NOT NULL,
    account TEXT NOT NULL,
    profile TEXT NOT NULL,
    PRIMARY KEY (doc_id, account)
);
CREATE INDEX usage_active_month ON usage_active (uai, month);
