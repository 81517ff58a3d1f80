-- 0004: bearer tokens expire (access.Token.ExpiresAt, `citytwin token create --expires`).
--
-- expires_at is when a token stops granting its role; NULL: never (every token made before
-- this migration). An expired token keeps its row, and its name among the active tokens,
-- until it is revoked, so the record of who held access stays whole.

ALTER TABLE access_tokens
    ADD COLUMN expires_at timestamptz CHECK (expires_at > created_at);
