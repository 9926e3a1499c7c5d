-- Préau replica schema, version 13: whether a class is open to its families
-- (SchoolClass::families_open). Classes written before it were open to them.
ALTER TABLE school_class ADD COLUMN families_open INTEGER NOT NULL DEFAULT 1;
