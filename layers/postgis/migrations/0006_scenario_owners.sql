-- 0006: who made each scenario and who may see it (scenarios.Scenario.Owner, .Visibility).
--
-- owner is the creating token's id (a hash of the token, never the token); '' for scenarios
-- made before owners were recorded. visibility is 'private' (its owner and admins), 'team'
-- (every planner: the default, and what existing scenarios get) or 'published' (read-only to
-- others).

ALTER TABLE scenarios
    ADD COLUMN owner      text NOT NULL DEFAULT '',
    ADD COLUMN visibility text NOT NULL DEFAULT 'team'
        CHECK (visibility IN ('private', 'team', 'published'));

CREATE INDEX scenarios_owner ON scenarios (owner);

-- Every write to a scenario (scenarios.AuditEntry), append-only; no foreign key: the entries
-- of a deleted scenario stay.
CREATE TABLE scenario_audit (
    seq          bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    who          text NOT NULL,
    action       text NOT NULL,
    scenario_id  text NOT NULL,
    version      bigint NOT NULL
);
