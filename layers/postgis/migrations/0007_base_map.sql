-- 0007: the base map's own layers (layers/catalog.go): street centrelines, water and named
-- places, as 0001 made the others: a typed column per public field with the catalog's enums
-- as CHECK constraints, the geometry in WGS84 and its Web Mercator copy for tiles, a GiST
-- index on each, and a data version per layer.

-- streets: street and path centrelines; foot says whether the walking network uses them.
CREATE TABLE streets (
    id          bigint PRIMARY KEY,
    name        text,
    kind        text,
    foot        boolean,
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_LineString', 'ST_MultiLineString')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- water: the sea, lakes, rivers, reservoirs and basins.
CREATE TABLE water (
    id          bigint PRIMARY KEY,
    name        text,
    kind        text CHECK (kind IN ('sea', 'lake', 'pond', 'river', 'canal', 'reservoir',
                                     'basin', 'lagoon', 'harbour', 'water')),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- places: named places for map labels.
CREATE TABLE places (
    id          bigint PRIMARY KEY,
    name        text,
    kind        text CHECK (kind IN ('city', 'town', 'village', 'suburb', 'quarter',
                                     'neighbourhood', 'square', 'locality')),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) = 'ST_Point'),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

CREATE INDEX streets_geom_idx      ON streets USING gist (geom);
CREATE INDEX streets_geom_3857_idx ON streets USING gist (geom_3857);
CREATE INDEX water_geom_idx        ON water   USING gist (geom);
CREATE INDEX water_geom_3857_idx   ON water   USING gist (geom_3857);
CREATE INDEX places_geom_idx       ON places  USING gist (geom);
CREATE INDEX places_geom_3857_idx  ON places  USING gist (geom_3857);

INSERT INTO data_versions (layer) VALUES ('streets'), ('water'), ('places');
