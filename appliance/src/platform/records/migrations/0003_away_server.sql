-- A teacher's computer records the académie's server its school lets it sync with when
-- away from school (told by the school at each sync; gone when the school withdraws it).
CREATE TABLE away_server (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    url        TEXT NOT NULL,
    server_id  TEXT NOT NULL,
    server_key BLOB NOT NULL
);
