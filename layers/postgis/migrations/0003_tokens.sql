-- 0003: bearer tokens of the planner and admin roles (access.Store, implemented in
-- access/pgtokens).
--
-- A token is shown once when it is made and never stored: only its SHA-256 hash is. Revoking
-- a token sets revoked_at and keeps the row, so there is a record of who held which access and
-- when; a name is unique among the active tokens only, so it can be reused after a revocation.
-- Running servers re-read the active tokens every few seconds, so a revocation takes effect in
-- all of them without a restart.

CREATE TABLE access_tokens (
    id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    role        text NOT NULL CHECK (role IN ('planner', 'admin')),
    hash        bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE UNIQUE INDEX access_tokens_active_name_idx ON access_tokens (name) WHERE revoked_at IS NULL;
