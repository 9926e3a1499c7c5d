-- The hub's families: accounts of one or several schools that a family linked on the hub
-- (a parent with children in two schools). The hub's own: never replicated to a school.
CREATE TABLE family_member (
    school    TEXT    NOT NULL,
    user_id   TEXT    NOT NULL,
    family    TEXT    NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (school, user_id)
);
CREATE INDEX family_member_family ON family_member (family);
