-- Préau replica schema, version 17: a commune's portal news and its canteen menus (dishes
-- with the fourteen allergens), read by commune and day.

CREATE TABLE commune_news (
    doc_id       TEXT    NOT NULL,
    insee        TEXT    NOT NULL,
    news_id      TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    published_on TEXT    NOT NULL,
    withdrawn    INTEGER NOT NULL,
    PRIMARY KEY (doc_id, news_id)
);
CREATE INDEX commune_news_insee ON commune_news (insee, published_on);

CREATE TABLE canteen_dish (
    doc_id    TEXT    NOT NULL,
    insee     TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    course    TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    allergens TEXT    NOT NULL,
    PRIMARY KEY (doc_id, day, position)
);
CREATE INDEX canteen_dish_day ON canteen_dish (insee, day);
