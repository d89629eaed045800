-- Citizen identity: accounts, sessions, SMS codes, the SMS log and the inbox.
-- Personal data is minimised: phones are kept only where an SMS must reach
-- them (citizens.phone), everywhere else as an HMAC (phone_hash) or masked.

CREATE TABLE citizens (
    id               TEXT PRIMARY KEY,             -- cit_ + 16 hex
    openid           TEXT UNIQUE,                  -- WeChat mini-program openid
    phone            TEXT UNIQUE,                  -- confirmed by SMS code
    phone_hash       TEXT UNIQUE,
    email            TEXT,
    mailing_address  TEXT,
    real_name_level  INTEGER NOT NULL DEFAULT 0,   -- 0 none, 1 phone confirmed, 2 ID verified (later)
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,                  -- ses_ + 16 hex
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,              -- SHA-256 of the opaque token
    method      TEXT NOT NULL CHECK (method IN ('wechat', 'phone')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX sessions_citizen ON sessions (citizen_id);

-- One row per code sent; only the HMAC of the code is stored.
CREATE TABLE sms_codes (
    id          TEXT PRIMARY KEY,
    phone_hash  TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    consumed_at TEXT
);
CREATE INDEX sms_codes_phone ON sms_codes (phone_hash, created_at);

-- Every SMS attempt, with the provider's BizId (回执) and the failure class.
CREATE TABLE sms_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    provider       TEXT NOT NULL,
    phone_hash     TEXT,
    phone_masked   TEXT NOT NULL,
    template_code  TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    biz_id         TEXT,
    error_code     TEXT,
    failure_class  TEXT,
    request_id     TEXT NOT NULL,
    client_ip_hash TEXT
);
CREATE INDEX sms_log_phone ON sms_log (phone_hash, at);
CREATE INDEX sms_log_ip ON sms_log (client_ip_hash, at);

-- 消息提醒: progress changes of appointments, complaints, bills.
CREATE TABLE messages (
    id          TEXT PRIMARY KEY,                  -- msg_ + 16 hex
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,                  -- per-insert order for paging
    kind        TEXT NOT NULL,                     -- appointment, complaint, bill, outage, system
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT,
    created_at  TEXT NOT NULL,
    read_at     TEXT
);
CREATE INDEX messages_citizen ON messages (citizen_id, seq);
