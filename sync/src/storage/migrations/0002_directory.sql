-- Préau replica schema, version 2: the school directory and credentials read models, and
-- the public flag of news posts.

ALTER TABLE news_post ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
CREATE INDEX news_post_public ON news_post (partition, public, published_at);

CREATE TABLE school (
    doc_id    TEXT NOT NULL PRIMARY KEY,
    uai       TEXT NOT NULL,
    name      TEXT NOT NULL,
    address   TEXT NOT NULL,
    postcode  TEXT NOT NULL,
    commune   TEXT NOT NULL,
    academy   TEXT NOT NULL
);

CREATE TABLE school_class (
    doc_id      TEXT    NOT NULL,
    class_id    TEXT    NOT NULL,
    uai         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    levels      TEXT    NOT NULL,  -- comma-separated, in order
    school_year TEXT    NOT NULL,
    teachers    TEXT    NOT NULL,  -- comma-separated user ids
    archived    INTEGER NOT NULL,
    PRIMARY KEY (doc_id, class_id)
);

CREATE TABLE school_group (
    doc_id   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    uai      TEXT NOT NULL,
    name     TEXT NOT NULL,
    members  TEXT NOT NULL,  -- comma-separated user ids
    PRIMARY KEY (doc_id, group_id)
);

CREATE TABLE person (
    doc_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    uai           TEXT    NOT NULL,
    profile       TEXT    NOT NULL,
    staff_role    TEXT    NOT NULL,
    civility      TEXT    NOT NULL,
    first_name    TEXT    NOT NULL,
    last_name     TEXT    NOT NULL,
    birth_name    TEXT    NOT NULL,
    birth_date    TEXT    NOT NULL,
    sex           TEXT    NOT NULL,
    level         TEXT    NOT NULL,
    class_id      TEXT    NOT NULL,
    photo_consent INTEGER NOT NULL,  -- 1 yes, 0 no, -1 unknown
    email         TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    archived      INTEGER NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);

CREATE TABLE guardianship (
    doc_id  TEXT    NOT NULL,
    parent  TEXT    NOT NULL,
    child   TEXT    NOT NULL,
    legal   INTEGER NOT NULL,
    PRIMARY KEY (doc_id, parent, child)
);

CREATE TABLE credential (
    doc_id               TEXT    NOT NULL,
    user_id              TEXT    NOT NULL,
    login                TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    activation_code      TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL,
    picture_secret       TEXT    NOT NULL,
    qr_secret            TEXT    NOT NULL,
    disabled             INTEGER NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);
