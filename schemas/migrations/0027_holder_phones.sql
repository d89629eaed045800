-- Outage notices that reach every affected household (issue 18).
--
-- The billing import keeps the holder's phone sealed (AES-256-GCM under
-- PHONE_KEYS, see shared/src/vault.rs) beside the HMAC used for lookups;
-- `holder_phone_kid` names the key, so a rotation finds what to re-seal.
ALTER TABLE water_accounts ADD COLUMN holder_phone_enc TEXT;
ALTER TABLE water_accounts ADD COLUMN holder_phone_kid TEXT;
CREATE INDEX water_accounts_kid ON water_accounts (holder_phone_kid);

-- How a row of the outbox was reached: a citizen's subscription, or the
-- holder of an affected billing account (citizen_id is then 'holder:' and the
-- phone's HMAC; the account is the one whose sealed phone the send opens).
ALTER TABLE outage_outbox ADD COLUMN source TEXT NOT NULL DEFAULT 'subscription'
    CHECK (source IN ('subscription', 'holder'));
ALTER TABLE outage_outbox ADD COLUMN account_no TEXT;
-- One message per phone per version, however many accounts and
-- subscriptions lead to it.
CREATE UNIQUE INDEX outage_outbox_phone ON outage_outbox (outage_id, version, phone_hash);

-- Inbox notices a version posted to citizens bound to an affected account.
ALTER TABLE outage_versions ADD COLUMN inbox INTEGER NOT NULL DEFAULT 0;

-- Numbers that replied TD/退订 to a notice: no outage SMS goes to them
-- (subscribing again in the mini-program lifts it).
CREATE TABLE sms_optouts (
    phone_hash  TEXT PRIMARY KEY,
    at          TEXT NOT NULL
);

-- 降压供水 (reduced pressure) is a notice beside 停水 and 停气: water only,
-- its own template, the same 24 h notice as a planned stop (003).
ALTER TABLE outages ADD COLUMN effect TEXT NOT NULL DEFAULT 'stop' CHECK (effect IN ('stop', 'reduced_pressure'));
