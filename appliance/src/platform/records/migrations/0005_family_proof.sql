-- What proved each account of a family when it was linked (`Directory::credential_mark`):
-- the link holds while the account's credentials are the ones proven.
ALTER TABLE family_member ADD COLUMN proof BLOB NOT NULL DEFAULT x'';
