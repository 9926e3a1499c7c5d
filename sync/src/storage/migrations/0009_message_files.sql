-- Préau replica schema, version 9: files attached to messages.

ALTER TABLE message ADD COLUMN attachments TEXT NOT NULL DEFAULT '';  -- hash|size|mime|name lines
