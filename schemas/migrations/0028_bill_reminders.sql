-- Bill reminders (issue 18): a 出账通知 to the citizens bound to an account
-- once its bill is imported, an arrears reminder 3 days before the due date
-- and one the day after it passes unpaid. The bill-payment cron sweeps them
-- (functions/bill-payment/src/reminders.rs); this table is the claim: a row
-- per (bill, kind, citizen, channel) means that notice was taken care of, so
-- each goes out at most once whatever the overlap of two sweeps.
--
-- `sweep` names the run that inserted the row (INSERT OR IGNORE): the inbox
-- messages of a run are posted from its own rows only. An SMS row is
-- `claimed` before the send and becomes `sent` or `failed` after it; a row
-- left `claimed` (a crash mid-send) is never sent again.
CREATE TABLE bill_notices (
    bill_id     TEXT NOT NULL REFERENCES bills (id),
    kind        TEXT NOT NULL CHECK (kind IN ('issued', 'due_soon', 'overdue')),
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    channel     TEXT NOT NULL CHECK (channel IN ('inbox', 'sms')),
    status      TEXT NOT NULL CHECK (status IN ('posted', 'claimed', 'sent', 'failed')),
    at          TEXT NOT NULL,
    sweep       TEXT NOT NULL,
    PRIMARY KEY (bill_id, kind, citizen_id, channel)
) WITHOUT ROWID;
CREATE INDEX bill_notices_sweep ON bill_notices (sweep);
-- The sweep reads unpaid bills by due date.
CREATE INDEX bills_unpaid_due ON bills (status, due_date);
