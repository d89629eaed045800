-- Issue 18: a version's billing holders are written to the outbox in slices
-- of accounts (by account number), not in one statement: a city-wide
-- emergency has a million accounts, and production D1 limits how long one
-- query may run. The first slice goes with the fan-out; each next one is a
-- queue message (and the cron resumes a continuation whose message was lost).
-- fanout_after: the last account number written, NULL once every slice is
-- in; fanout_at: when the last slice was written.
ALTER TABLE outage_versions ADD COLUMN fanout_after TEXT;
ALTER TABLE outage_versions ADD COLUMN fanout_at TEXT;
CREATE INDEX outage_versions_fanout ON outage_versions (fanout_at) WHERE fanout_after IS NOT NULL;
