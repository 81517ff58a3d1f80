-- 0001: the base layers of the city model.
--
-- One table per catalog layer (layers/catalog.go), with a typed column for every public field,
-- the catalog's ranges and enums as CHECK constraints, and the geometry in the data's native
-- SRID, WGS84 (EPSG:4326). TestSchemaMatchesCatalog keeps this file and the catalog in step.
--
-- Every layer table also stores its geometry in Web Mercator (geom_3857), a generated column:
-- tiles are cut in EPSG:3857, and without it every tile request would re-project every
-- feature of the tile again, tile after tile. ST_Transform costs about 2 µs for a building
-- footprint here (150,000 of them: 0.32 s against 0.03 s read from geom_3857), so about
-- 1.3 ms of a 3 ms zoom-15 tile of 700 buildings, and more for long polygon rings. Storing
-- the transformed copy once at write time costs a second geometry and a second GiST index on
-- disk, and import time (the transform is about 10 % of it); in exchange the tile statement
-- filters on geom_3857 through its own GiST index, in the tile's own coordinates, and hands
-- it to ST_AsMVTGeom as it is.
--
-- Restricted fields (personal data) are not in the layer tables at all: parcels' owner_name
-- and land_book live in parcels_private, which the tile and public queries never name, so no
-- public query can reach them by accident.

CREATE EXTENSION IF NOT EXISTS postgis;

-- parcels: cadastral parcels.
CREATE TABLE parcels (
    id          bigint PRIMARY KEY,
    cad_number  text,
    area_m2     double precision CHECK (area_m2 BETWEEN 0 AND 1e8),
    land_use    text,
    intravilan  boolean,
    ownership   text CHECK (ownership IN ('public', 'private', 'unknown')),
    address     text,
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- parcels_private: the personal data of a parcel, one row per parcel that has any.
CREATE TABLE parcels_private (
    parcel_id   bigint PRIMARY KEY REFERENCES parcels (id) ON DELETE CASCADE,
    owner_name  text,
    land_book   text
);

-- buildings: footprints.
CREATE TABLE buildings (
    id          bigint PRIMARY KEY,
    cad_number  text,
    use         text CHECK (use IN ('residential', 'mixed', 'commercial', 'office', 'industrial',
                                    'education', 'health', 'culture', 'other')),
    floors      integer CHECK (floors BETWEEN 0 AND 200),
    height_m    double precision CHECK (height_m BETWEEN 0 AND 1000),
    dwellings   integer CHECK (dwellings BETWEEN 0 AND 100000),
    year_built  integer CHECK (year_built BETWEEN 0 AND 2200),
    gfa_m2      double precision CHECK (gfa_m2 BETWEEN 0 AND 1e7),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- zoning: PUG / PUZ zoning units (UTR) and their rules.
CREATE TABLE zoning (
    id              bigint PRIMARY KEY,
    code            text,
    name            text,
    allowed_uses    text[] CHECK (allowed_uses <@ ARRAY['residential', 'mixed', 'commercial',
                        'office', 'industrial', 'education', 'health', 'culture', 'other']),
    max_pot_pct     double precision CHECK (max_pot_pct BETWEEN 0 AND 100),
    max_cut         double precision CHECK (max_cut BETWEEN 0 AND 20),
    max_height_m    double precision CHECK (max_height_m BETWEEN 0 AND 1000),
    max_floors      integer CHECK (max_floors BETWEEN 0 AND 200),
    regulation_url  text,
    derived         boolean NOT NULL DEFAULT false,
    geom            geometry(Geometry, 4326) NOT NULL
                    CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857       geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- facilities: schools, clinics, pharmacies, citizen centres, public Wi-Fi...
CREATE TABLE facilities (
    id             bigint PRIMARY KEY,
    kind           text CHECK (kind IN ('kindergarten', 'school', 'high_school', 'university',
                                        'hospital', 'clinic', 'pharmacy', 'library', 'culture',
                                        'sport', 'citizen_center', 'public_wifi')),
    name           text,
    capacity       integer CHECK (capacity BETWEEN 0 AND 1000000),
    capacity_unit  text,
    derived        boolean NOT NULL DEFAULT false,
    geom           geometry(Geometry, 4326) NOT NULL
                   CHECK (ST_GeometryType(geom) = 'ST_Point'),
    geom_3857      geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- green_spaces: parks, gardens, forests, playgrounds, squares.
CREATE TABLE green_spaces (
    id          bigint PRIMARY KEY,
    kind        text CHECK (kind IN ('park', 'garden', 'forest', 'playground', 'square')),
    public      boolean,
    area_m2     double precision CHECK (area_m2 BETWEEN 0 AND 1e9),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- noise: strategic noise map bands (EU END).
CREATE TABLE noise (
    id          bigint PRIMARY KEY,
    source      text CHECK (source IN ('road', 'rail', 'air', 'industry')),
    lden_db     double precision CHECK (lden_db BETWEEN 0 AND 150),
    lnight_db   double precision CHECK (lnight_db BETWEEN 0 AND 150),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- flood: areas flooded with a given return period.
CREATE TABLE flood (
    id                   bigint PRIMARY KEY,
    return_period_years  integer CHECK (return_period_years BETWEEN 1 AND 100000),
    derived              boolean NOT NULL DEFAULT false,
    geom                 geometry(Geometry, 4326) NOT NULL
                         CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857            geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- air_stations: annual mean concentrations, µg/m³.
CREATE TABLE air_stations (
    id          bigint PRIMARY KEY,
    name        text,
    pm25        double precision CHECK (pm25 BETWEEN 0 AND 1000),
    pm10        double precision CHECK (pm10 BETWEEN 0 AND 1000),
    no2         double precision CHECK (no2 BETWEEN 0 AND 1000),
    year        integer CHECK (year BETWEEN 1900 AND 2200),
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) = 'ST_Point'),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- broadband: coverage polygons with the best available download speed.
CREATE TABLE broadband (
    id             bigint PRIMARY KEY,
    technology     text CHECK (technology IN ('fibre', 'cable', 'dsl', '5g', '4g')),
    max_down_mbps  double precision CHECK (max_down_mbps BETWEEN 0 AND 100000),
    derived        boolean NOT NULL DEFAULT false,
    geom           geometry(Geometry, 4326) NOT NULL
                   CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857      geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- districts: the units indicators are reported for.
CREATE TABLE districts (
    id          bigint PRIMARY KEY,
    name        text,
    code        text,
    derived     boolean NOT NULL DEFAULT false,
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (ST_GeometryType(geom) IN ('ST_Polygon', 'ST_MultiPolygon')),
    geom_3857   geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);

-- Spatial indexes: geom for queries in WGS84 (bounding boxes, Load by area), geom_3857 for
-- tiles.
CREATE INDEX parcels_geom_idx           ON parcels      USING gist (geom);
CREATE INDEX parcels_geom_3857_idx      ON parcels      USING gist (geom_3857);
CREATE INDEX buildings_geom_idx         ON buildings    USING gist (geom);
CREATE INDEX buildings_geom_3857_idx    ON buildings    USING gist (geom_3857);
CREATE INDEX zoning_geom_idx            ON zoning       USING gist (geom);
CREATE INDEX zoning_geom_3857_idx       ON zoning       USING gist (geom_3857);
CREATE INDEX facilities_geom_idx        ON facilities   USING gist (geom);
CREATE INDEX facilities_geom_3857_idx   ON facilities   USING gist (geom_3857);
CREATE INDEX green_spaces_geom_idx      ON green_spaces USING gist (geom);
CREATE INDEX green_spaces_geom_3857_idx ON green_spaces USING gist (geom_3857);
CREATE INDEX noise_geom_idx             ON noise        USING gist (geom);
CREATE INDEX noise_geom_3857_idx        ON noise        USING gist (geom_3857);
CREATE INDEX flood_geom_idx             ON flood        USING gist (geom);
CREATE INDEX flood_geom_3857_idx        ON flood        USING gist (geom_3857);
CREATE INDEX air_stations_geom_idx      ON air_stations USING gist (geom);
CREATE INDEX air_stations_geom_3857_idx ON air_stations USING gist (geom_3857);
CREATE INDEX broadband_geom_idx         ON broadband    USING gist (geom);
CREATE INDEX broadband_geom_3857_idx    ON broadband    USING gist (geom_3857);
CREATE INDEX districts_geom_idx         ON districts    USING gist (geom);
CREATE INDEX districts_geom_3857_idx    ON districts    USING gist (geom_3857);

-- data_versions: bumped by every import or truncation of a layer. The tile cache keys on it,
-- so a changed layer is never served from a stale cache entry.
CREATE TABLE data_versions (
    layer       text PRIMARY KEY,
    version     bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO data_versions (layer) VALUES
    ('parcels'), ('buildings'), ('zoning'), ('facilities'), ('green_spaces'),
    ('noise'), ('flood'), ('air_stations'), ('broadband'), ('districts');
