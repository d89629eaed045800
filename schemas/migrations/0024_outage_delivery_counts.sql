-- Outbox rows per (outage, status), kept by triggers, so the staff's outage
-- list (GET /v1/admin/outages, polled every 3 s by the console while anything
-- sends) reads a few rows per outage instead of counting an outbox that is
-- never purged (100,000 rows an outage: a page of 20 counted ~2M rows, and
-- D1 runs one query at a time per database).
--
-- Each trigger is one statement. A row's status change moves one from the
-- old status to the new; an insert adds one; a delete (a citizen's erasure
-- drops unsent rows) takes one away. INSERT OR IGNORE fires no trigger for
-- the rows it skips. Counts that reach 0 stay as rows of 0.
CREATE TABLE outage_delivery_counts (
    outage_id  TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN
                 ('queued', 'sending', 'deferred', 'sent', 'delivered', 'failed', 'superseded')),
    n          INTEGER NOT NULL,
    PRIMARY KEY (outage_id, status)
) WITHOUT ROWID;

INSERT INTO outage_delivery_counts (outage_id, status, n)
SELECT outage_id, status, COUNT(*) FROM outage_outbox GROUP BY outage_id, status;

CREATE TRIGGER outage_delivery_counts_insert AFTER INSERT ON outage_outbox
BEGIN
    INSERT INTO outage_delivery_counts (outage_id, status, n) VALUES (NEW.outage_id, NEW.status, 1)
        ON CONFLICT (outage_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER outage_delivery_counts_leave AFTER UPDATE OF status ON outage_outbox
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE outage_delivery_counts SET n = n - 1 WHERE outage_id = OLD.outage_id AND status = OLD.status;
END;

CREATE TRIGGER outage_delivery_counts_enter AFTER UPDATE OF status ON outage_outbox
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO outage_delivery_counts (outage_id, status, n) VALUES (NEW.outage_id, NEW.status, 1)
        ON CONFLICT (outage_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER outage_delivery_counts_delete AFTER DELETE ON outage_outbox
BEGIN
    UPDATE outage_delivery_counts SET n = n - 1 WHERE outage_id = OLD.outage_id AND status = OLD.status;
END;
