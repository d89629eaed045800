-- The delivery report (GET /v1/admin/outages/{id}/delivery, which the
-- console's 发送进度 page polls every 2.5 s while an outage sends) read every
-- outbox row of the outage on each call: with billing holders an outage can
-- have a million rows (issue 18), and D1 runs one query at a time, so the
-- polling itself slowed the sending. Counts per (outage, version, status,
-- error code, how reached) are kept here by triggers instead, as
-- outage_delivery_counts (0024) keeps them per outage for the list.
-- Each trigger is one statement per change; INSERT OR IGNORE fires none for
-- the rows it skips; counts that reach 0 stay as rows of 0.
CREATE TABLE outage_version_counts (
    outage_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    code       TEXT NOT NULL,               -- error_code, '' when none
    source     TEXT NOT NULL,               -- subscription or holder
    n          INTEGER NOT NULL,
    PRIMARY KEY (outage_id, version, status, code, source)
) WITHOUT ROWID;

INSERT INTO outage_version_counts (outage_id, version, status, code, source, n)
SELECT outage_id, version, status, COALESCE(error_code, ''), source, COUNT(*)
  FROM outage_outbox GROUP BY outage_id, version, status, COALESCE(error_code, ''), source;

CREATE TRIGGER outage_version_counts_insert AFTER INSERT ON outage_outbox
BEGIN
    INSERT INTO outage_version_counts (outage_id, version, status, code, source, n)
    VALUES (NEW.outage_id, NEW.version, NEW.status, COALESCE(NEW.error_code, ''), NEW.source, 1)
        ON CONFLICT (outage_id, version, status, code, source) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER outage_version_counts_leave AFTER UPDATE OF status, error_code ON outage_outbox
WHEN OLD.status IS NOT NEW.status OR OLD.error_code IS NOT NEW.error_code
BEGIN
    UPDATE outage_version_counts SET n = n - 1
     WHERE outage_id = OLD.outage_id AND version = OLD.version AND status = OLD.status
       AND code = COALESCE(OLD.error_code, '') AND source = OLD.source;
END;

CREATE TRIGGER outage_version_counts_enter AFTER UPDATE OF status, error_code ON outage_outbox
WHEN OLD.status IS NOT NEW.status OR OLD.error_code IS NOT NEW.error_code
BEGIN
    INSERT INTO outage_version_counts (outage_id, version, status, code, source, n)
    VALUES (NEW.outage_id, NEW.version, NEW.status, COALESCE(NEW.error_code, ''), NEW.source, 1)
        ON CONFLICT (outage_id, version, status, code, source) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER outage_version_counts_delete AFTER DELETE ON outage_outbox
BEGIN
    UPDATE outage_version_counts SET n = n - 1
     WHERE outage_id = OLD.outage_id AND version = OLD.version AND status = OLD.status
       AND code = COALESCE(OLD.error_code, '') AND source = OLD.source;
END;
