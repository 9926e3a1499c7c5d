-- A teacher's computer records whose it is: the user its school enrolled it for.
ALTER TABLE hub_link ADD COLUMN owner TEXT;
