-- 停水停气提醒 (issue 7): supply areas and accounts, subscriptions, the
-- versions of an outage (notice, corrections, cancellation, reminder) and the
-- outbox that the queue fan-out works through, keyed by (outage, version,
-- subscriber) so overlapping areas and a republish add nothing.

-- The area hierarchy (区-街道-社区-楼栋), loaded in bulk by administrators.
CREATE TABLE supply_areas (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('district', 'street', 'community', 'building')),
    parent_code  TEXT REFERENCES supply_areas (code),
    path         TEXT NOT NULL,             -- '/district/street/.../self/' by code
    full_name    TEXT NOT NULL,             -- names below the district, joined (北苑街道春晗小区)
    updated_at   TEXT NOT NULL
);
CREATE INDEX supply_areas_path ON supply_areas (path);
CREATE INDEX supply_areas_name ON supply_areas (name);
CREATE INDEX supply_areas_full_name ON supply_areas (full_name);

-- Billing data: which area each water or gas account is supplied in.
CREATE TABLE supply_accounts (
    utility     TEXT NOT NULL CHECK (utility IN ('water', 'gas')),
    account_no  TEXT NOT NULL,
    area_code   TEXT NOT NULL REFERENCES supply_areas (code),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (utility, account_no)
);

-- A citizen's subscription: an account (its area follows the billing data)
-- or an address (an area picked directly).
CREATE TABLE outage_subscriptions (
    id          TEXT PRIMARY KEY,
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    utility     TEXT NOT NULL CHECK (utility IN ('water', 'gas')),
    account_no  TEXT,
    area_code   TEXT REFERENCES supply_areas (code),
    created_at  TEXT NOT NULL,
    CHECK ((account_no IS NULL) <> (area_code IS NULL))
);
CREATE UNIQUE INDEX outage_subscriptions_one
    ON outage_subscriptions (citizen_id, utility, COALESCE(account_no, ''), COALESCE(area_code, ''));
CREATE INDEX supply_accounts_area ON supply_accounts (utility, area_code);
CREATE INDEX outage_subscriptions_area ON outage_subscriptions (utility, area_code);
CREATE INDEX outage_subscriptions_account ON outage_subscriptions (utility, account_no);

-- Numbers no notice goes to: permanent provider errors (invalid, blacklisted).
CREATE TABLE sms_flags (
    phone_hash  TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    at          TEXT NOT NULL
);

ALTER TABLE outages ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outages ADD COLUMN remind_before_hours INTEGER;
ALTER TABLE outage_areas ADD COLUMN code TEXT;
CREATE INDEX outage_areas_code ON outage_areas (outage_id, code);

-- Every message of an outage. `planned` until its send time, then
-- `fanned_out`; an amendment or cancellation supersedes what is still planned.
CREATE TABLE outage_versions (
    outage_id    TEXT NOT NULL REFERENCES outages (id),
    version      INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('notice', 'correction', 'cancellation', 'reminder')),
    message      TEXT NOT NULL,
    params       TEXT NOT NULL,             -- JSON object: the template parameters
    send_at      TEXT NOT NULL,
    send_reason  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('planned', 'fanned_out', 'superseded')),
    recipients   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (outage_id, version)
);
CREATE INDEX outage_versions_due ON outage_versions (state, send_at);

-- One row per (outage, version, subscriber). queued: a queue message is on
-- its way; sending: claimed by a consumer; deferred: waiting for next_at (rate
-- limits, stuck claims) until the cron sweep queues it again.
CREATE TABLE outage_outbox (
    id             INTEGER PRIMARY KEY,
    outage_id      TEXT NOT NULL,
    version        INTEGER NOT NULL,
    citizen_id     TEXT NOT NULL,
    phone_hash     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN
                     ('queued', 'sending', 'deferred', 'sent', 'delivered', 'failed', 'superseded')),
    batch          TEXT,                    -- the enqueue that queued it last
    claim          TEXT,
    claimed_at     TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        TEXT NOT NULL,
    biz_id         TEXT,
    error_code     TEXT,
    failure_class  TEXT,
    sent_at        TEXT,
    delivered_at   TEXT,
    UNIQUE (outage_id, version, citizen_id)
);
CREATE INDEX outage_outbox_batch ON outage_outbox (batch);
CREATE INDEX outage_outbox_claim ON outage_outbox (claim);
CREATE INDEX outage_outbox_status ON outage_outbox (status, next_at);
CREATE INDEX outage_outbox_receipt ON outage_outbox (biz_id, phone_hash);
CREATE INDEX outage_outbox_citizen ON outage_outbox (outage_id, citizen_id, status);
