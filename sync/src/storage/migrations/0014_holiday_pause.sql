-- Préau replica schema, version 14: the director's switch holding the hub's e-mail
-- notifications during the school holidays (SchoolInfo::holiday_pause).
ALTER TABLE school ADD COLUMN holiday_pause INTEGER NOT NULL DEFAULT 0;
