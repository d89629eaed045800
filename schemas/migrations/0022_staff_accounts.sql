-- Staff accounts (issue 16; 等保 level 3): a user name, a password (argon2id,
-- PHC string) and a mandatory TOTP second factor (RFC 6238). An account is
-- 'enrolling' until its holder sets both through a one-time enrolment link,
-- 'active' after, 'disabled' when a staff administrator stops it.
CREATE TABLE staff (
    id                   TEXT PRIMARY KEY,              -- stf_<hex>
    username             TEXT NOT NULL UNIQUE,          -- lower case, 3-32 of a-z 0-9 . _ -
    display_name         TEXT NOT NULL,
    state                TEXT NOT NULL DEFAULT 'enrolling'
                         CHECK (state IN ('enrolling', 'active', 'disabled')),
    password_hash        TEXT,
    password_changed_at  TEXT,
    totp_secret          TEXT,                          -- Base32
    totp_last_step       INTEGER,                       -- a code is used once
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK (state <> 'active' OR (password_hash IS NOT NULL AND totp_secret IS NOT NULL))
);

-- A staff member's roles (shared::admin::Role names). Their halls and
-- departments are in admin_token_halls / admin_token_departments under the
-- staff id, as for tokens: one scope check for both.
CREATE TABLE staff_roles (
    staff_id  TEXT NOT NULL REFERENCES staff (id),
    role      TEXT NOT NULL,
    PRIMARY KEY (staff_id, role)
);

-- One-time enrolment links (first sign-in, and after a second-factor reset):
-- only the token's SHA-256 is kept; the TOTP secret offered waits here until
-- a code from it confirms the authenticator app.
CREATE TABLE staff_enrolments (
    token_hash   TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    totp_secret  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX staff_enrolments_staff ON staff_enrolments (staff_id);

-- Console sessions (cookie bm_staff): only the token's SHA-256; idle 30
-- minutes, 12 hours at most.
CREATE TABLE staff_sessions (
    token_hash    TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff (id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Every sign-in and every failure (append-only).
CREATE TABLE staff_logins (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    staff_id  TEXT,                                     -- NULL: no such user name
    username  TEXT NOT NULL,
    ip        TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN
              ('ok', 'bad_credentials', 'locked', 'disabled', 'not_enrolled', 'unknown_user'))
);
CREATE INDEX staff_logins_staff ON staff_logins (staff_id, at);
CREATE TRIGGER staff_logins_no_update BEFORE UPDATE ON staff_logins
BEGIN SELECT RAISE(ABORT, 'staff_logins is append-only'); END;
CREATE TRIGGER staff_logins_no_delete BEFORE DELETE ON staff_logins
BEGIN SELECT RAISE(ABORT, 'staff_logins is append-only'); END;
