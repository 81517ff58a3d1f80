-- 0005: the city's census (layers.Census): residents, and optionally dwellings and households,
-- per district, to which the scenario engine calibrates its modelled residents
-- (docs/domain.md, "Census calibration").
--
-- district is a district's code or name as the statistics office gives it, or '*' for the
-- whole city; it is matched against the districts layer when the engine loads the city, not
-- here, so a census can be imported before or after the districts. An import replaces every
-- row in one transaction and bumps the data version 'census', so servers on the database
-- reload the model and calibrate again.

CREATE TABLE census (
    district    text PRIMARY KEY CHECK (district <> ''),
    population  bigint NOT NULL CHECK (population >= 0),
    dwellings   bigint CHECK (dwellings >= 0),
    households  bigint CHECK (households >= 0),
    year        integer CHECK (year BETWEEN 1800 AND 2200),
    source      text NOT NULL DEFAULT '',
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- A district named twice in different case would be matched once: refuse it.
CREATE UNIQUE INDEX census_district_lower_idx ON census (lower(district));
