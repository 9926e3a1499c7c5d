-- Préau replica schema, version 8: the photos of news posts.

ALTER TABLE news_post ADD COLUMN photos TEXT NOT NULL DEFAULT '';  -- hash|size|mime|name lines
