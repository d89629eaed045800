-- 投诉/建议/咨询/举报 (issue 8, first slice). The content is plain text,
-- returned only to its author; the public sees status, deadline and the
-- timeline notes, which never carry personal data.
CREATE TABLE complaints (
    number      TEXT PRIMARY KEY,                 -- 受理编号 (random part + check character)
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('complaint', 'report', 'suggestion', 'consultation')),
    category    TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',         -- the unit or person concerned
    content     TEXT NOT NULL,
    location    TEXT,                             -- JSON {lat, lng, address}
    anonymous   INTEGER NOT NULL CHECK (anonymous IN (0, 1)),  -- hidden from the unit concerned
    status      TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'replied', 'referred', 'closed')),
    deadline    TEXT NOT NULL,                    -- YYYY-MM-DD, working days over appt_calendar
    extended    INTEGER NOT NULL DEFAULT 0 CHECK (extended IN (0, 1)),  -- the deadline was extended (once)
    department  TEXT,                             -- the department or unit handling it
    closed_at   TEXT,
    rating      INTEGER CHECK (rating BETWEEN 1 AND 5),  -- 满意度评价, once closed
    rating_comment TEXT,
    rated_at    TEXT,
    idem_key    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX complaints_citizen ON complaints (citizen_id, created_at);
CREATE INDEX complaints_status ON complaints (status, deadline);
CREATE UNIQUE INDEX complaints_idempotency ON complaints (citizen_id, idem_key) WHERE idem_key IS NOT NULL;

-- The public timeline: notes are written by the service and by handlers for
-- the public, never with the complainant's identity.
CREATE TABLE complaint_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    number  TEXT NOT NULL REFERENCES complaints (number) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    status  TEXT NOT NULL,
    note    TEXT NOT NULL
);
CREATE INDEX complaint_events_number ON complaint_events (number, id);

-- Lookups per client IP (HMAC) and minute, so numbers cannot be probed.
CREATE TABLE complaint_lookups (
    ip_hash  TEXT NOT NULL,
    minute   TEXT NOT NULL,                       -- YYYY-MM-DDTHH:MM, Beijing
    n        INTEGER NOT NULL,
    PRIMARY KEY (ip_hash, minute)
);
