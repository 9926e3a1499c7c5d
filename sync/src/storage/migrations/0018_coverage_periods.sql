-- Préau replica schema, version 18: a class a convention covers keeps each period it was
-- covered (covered, withdrawn, covered again), one row each. The rows are rebuilt from the
-- documents after the upgrade.
DROP TABLE convention_class;
CREATE TABLE convention_class (
    doc_id   TEXT    NOT NULL,
    uai      TEXT    NOT NULL,
    class_id TEXT    NOT NULL,
    period   INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    since    TEXT    NOT NULL,
    until    TEXT    NOT NULL,
    PRIMARY KEY (doc_id, uai, class_id, period)
);
CREATE INDEX convention_class_uai ON convention_class (uai, class_id);
