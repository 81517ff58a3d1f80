-- 0008: which key attributes of a building or facility are a default or an estimate rather
-- than surveyed (layers/catalog.go, field "estimated"; docs/import-rules.md): the
-- OpenStreetMap import lists a building's use when the evidence around it chose it, its
-- floors and height when no tag gave them, its dwellings always, and a facility's capacity
-- when no tag gave it. NULL: nothing listed, every attribute as imported.

ALTER TABLE buildings ADD COLUMN estimated text[]
    CHECK (estimated <@ ARRAY['use', 'floors', 'height_m', 'dwellings']);

ALTER TABLE facilities ADD COLUMN estimated text[]
    CHECK (estimated <@ ARRAY['capacity']);
