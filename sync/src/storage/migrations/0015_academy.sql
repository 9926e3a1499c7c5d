-- Préau replica schema, version 15: the académie's console (its accounts and rates, on the
-- hub alone), communes and their schools, and conventions with the classes they cover
-- (held by the hub and the commune's schools). Every commune and convention row carries
-- its commune, and every school's row its UAI, first in its indexes: read by commune or
-- by school, as the hub is partitioned.

CREATE TABLE academy_staff (
    doc_id               TEXT    NOT NULL,
    user_id              TEXT    NOT NULL,
    login                TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    email                TEXT    NOT NULL,
    role                 TEXT    NOT NULL,
    commune              TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL,
    disabled             INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);

CREATE TABLE academy_rate (
    doc_id      TEXT    NOT NULL,
    school_year TEXT    NOT NULL,
    cents       INTEGER NOT NULL,
    PRIMARY KEY (doc_id, school_year)
);

CREATE TABLE commune (
    doc_id       TEXT    NOT NULL PRIMARY KEY,
    insee        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    contacts     TEXT    NOT NULL,
    presentation TEXT    NOT NULL,
    periscolaire TEXT    NOT NULL,
    public       INTEGER NOT NULL
);
CREATE INDEX commune_insee ON commune (insee);

CREATE TABLE commune_school (
    doc_id TEXT NOT NULL,
    uai    TEXT NOT NULL,
    insee  TEXT NOT NULL,
    name   TEXT NOT NULL,
    PRIMARY KEY (doc_id, uai)
);
CREATE INDEX commune_school_uai ON commune_school (uai);

CREATE TABLE convention (
    doc_id        TEXT NOT NULL PRIMARY KEY,
    convention_id TEXT NOT NULL,
    insee         TEXT NOT NULL,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL,
    signed_on     TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    ended_on      TEXT NOT NULL
);
CREATE INDEX convention_insee ON convention (insee, starts_on);

CREATE TABLE convention_school (
    doc_id       TEXT NOT NULL,
    uai          TEXT NOT NULL,
    insee        TEXT NOT NULL,
    activated_on TEXT NOT NULL,
    PRIMARY KEY (doc_id, uai)
);
CREATE INDEX convention_school_uai ON convention_school (uai);

CREATE TABLE convention_class (
    doc_id   TEXT NOT NULL,
    uai      TEXT NOT NULL,
    class_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    since    TEXT NOT NULL,
    until    TEXT NOT NULL,
    PRIMARY KEY (doc_id, uai, class_id)
);
CREATE INDEX convention_class_uai ON convention_class (uai, class_id);
