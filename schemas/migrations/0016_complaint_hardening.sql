-- Hardening of complaint records (issue 15, items 1 and 2).
--
-- Open311 lists a complaint only when it was filed through Open311 or its
-- author chose to make it public (`public` in the submission, default no).
ALTER TABLE complaints ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
UPDATE complaints SET public = 1 WHERE citizen_id LIKE 'cit_open311_%';
CREATE INDEX complaints_public ON complaints (public, created_at);

-- A submission without a login keeps the HMAC (pepper, phone, code) of the
-- SMS code that created it: a retry with the same Idempotency-Key replays
-- the record only to that code (compared in constant time), and at most
-- five times (`idem_replays`, counted in the statement that reads the hash);
-- after that, or with any other code, a fresh code proves the phone.
ALTER TABLE complaints ADD COLUMN idem_code_hash TEXT;
ALTER TABLE complaints ADD COLUMN idem_replays INTEGER NOT NULL DEFAULT 0;

-- Wrong `phone_last4` lookups per number and Beijing day, counted in the
-- statement that checks the limit, whatever the client address. Numbers
-- that do not exist are counted too (so a refusal says nothing about
-- existence); the hourly sweep deletes past days.
CREATE TABLE complaint_lookup_misses (
    number  TEXT NOT NULL,
    day     TEXT NOT NULL,                        -- YYYY-MM-DD, Beijing
    misses  INTEGER NOT NULL,
    PRIMARY KEY (number, day)
);
