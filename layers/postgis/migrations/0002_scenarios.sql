-- 0002: planning scenarios, their changes and their runs (scenarios.Store, implemented in
-- scenario_store.go).
--
-- A scenario is versioned: every write bumps version, and writes are conditional on the
-- version the writer read (UPDATE ... WHERE version = $expected), which gives the API its
-- optimistic concurrency (If-Match). Changes and runs go with their scenario (ON DELETE
-- CASCADE). A change's geometry is kept as PostGIS geometry in WGS84, so planners' proposals
-- can be queried and drawn in SQL like the base layers.

CREATE TABLE scenarios (
    id           text PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    description  text NOT NULL DEFAULT '',
    version      bigint NOT NULL CHECK (version > 0),
    parent       text,        -- the scenario this one was cloned from; no foreign key: a
                              -- clone outlives its parent
    change_seq   bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE scenario_changes (
    scenario_id  text NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    id           text NOT NULL,
    seq          bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('add_building', 'modify_building',
                     'demolish_building', 'rezone', 'add_facility', 'modify_facility',
                     'remove_facility', 'add_green_space', 'remove_green_space', 'set_broadband')),
    target       text,
    feature_id   bigint,
    geom         geometry(Geometry, 4326),
    properties   jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scenario_id, id),
    UNIQUE (scenario_id, seq)
);

CREATE INDEX scenario_changes_geom_idx ON scenario_changes USING gist (geom);

CREATE TABLE scenario_runs (
    scenario_id       text NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    id                text NOT NULL,
    scenario_version  bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    duration_ms       double precision NOT NULL,
    result            jsonb NOT NULL,   -- the run in the API's wire format
    PRIMARY KEY (scenario_id, id)
);
