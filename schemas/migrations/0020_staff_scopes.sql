-- Staff scopes (issue 15, item 11): a hall_staff token acts only on the
-- halls listed for it here (check-in, resources, statistics); the city
-- calendar, which moves every complaint deadline too, needs the role
-- calendar_admin. Revoking or expiring the token ends its scope with it.
CREATE TABLE admin_token_halls (
    token_id  TEXT NOT NULL,
    hall_id   TEXT NOT NULL,
    PRIMARY KEY (token_id, hall_id)
);

-- Tokens made before scopes keep what they could do on the halls there are
-- now (new halls must be granted: scripts/admin-token create --hall).
INSERT INTO admin_token_halls (token_id, hall_id)
    SELECT t.id, h.id FROM admin_tokens t, halls h WHERE (',' || t.roles || ',') LIKE '%,hall_staff,%';
