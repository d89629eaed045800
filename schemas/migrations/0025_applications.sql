-- 网上申报 (issue 17): applications, their materials, their timeline, 好差评
-- and the 整改 tasks low grades open. Deadlines are dates (YYYY-MM-DD) in
-- working days over appt_calendar.

CREATE TABLE applications (
    number        TEXT PRIMARY KEY,                -- 办件编号: SB + yyyymmdd + 10 random + check
    citizen_id    TEXT NOT NULL,
    item_code     TEXT NOT NULL,
    item_name     TEXT NOT NULL,
    department    TEXT NOT NULL,                   -- the item's department when filed (staff scope)
    bundle        TEXT,                            -- 一件事一次办: the number of the first application of the bundle
    answers       TEXT NOT NULL DEFAULT '[]',      -- 情形引导 answers (labels) that led here
    situation     TEXT NOT NULL DEFAULT '',        -- the resolved situation, as the citizen read it
    form          TEXT NOT NULL DEFAULT '{}',      -- the fields the citizen filled in (JSON object)
    status        TEXT NOT NULL CHECK (status IN
                    ('draft', 'submitted', 'correction', 'accepted', 'accepted_pending', 'rejected', 'completed')),
    version       INTEGER NOT NULL DEFAULT 1,      -- bumped by every change: two staff, one wins
    notices       INTEGER NOT NULL DEFAULT 0,      -- 一次性告知 given (a second one breaks the rule)
    field_fixes   TEXT NOT NULL DEFAULT '[]',      -- the form fields the notice asks to correct, with notes
    promised_days INTEGER NOT NULL,                -- 承诺时限 (working days) when filed
    accepted_on   TEXT,
    deadline      TEXT,
    pending_until TEXT,                            -- 容缺受理: the named materials are due by this date
    delivery      TEXT,                            -- the result's delivery (JSON) once 办结
    rating        INTEGER CHECK (rating BETWEEN 1 AND 5),
    overdue       INTEGER NOT NULL DEFAULT 0,
    warned_at     TEXT,                            -- the sweep's due-soon warning (once)
    created_at    TEXT NOT NULL,
    submitted_at  TEXT,
    updated_at    TEXT NOT NULL,
    completed_at  TEXT
);
CREATE INDEX applications_citizen ON applications (citizen_id, updated_at);
CREATE INDEX applications_queue ON applications (department, status, submitted_at);
CREATE INDEX applications_due ON applications (status, deadline);

-- One row per material the resolved situation needs.
CREATE TABLE application_materials (
    number      TEXT NOT NULL,
    name        TEXT NOT NULL,
    why         TEXT NOT NULL DEFAULT '',          -- why this situation needs it
    required    INTEGER NOT NULL DEFAULT 1,
    upload_id   TEXT,                              -- a private upload of the citizen
    reused      INTEGER NOT NULL DEFAULT 0,        -- 材料复用: first attached to an earlier application
    correction  TEXT,                              -- 一次性告知 / 容缺: what to supply (NULL: nothing asked)
    replaced    INTEGER NOT NULL DEFAULT 0,        -- supplied since it was asked for
    PRIMARY KEY (number, name)
);

-- The timeline: every state change, with who and a note (shown to the
-- citizen and, without the notes, to whoever holds the number).
CREATE TABLE application_events (
    number     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL,
    actor      TEXT NOT NULL,                      -- 'citizen', 'system' or the staff token's name
    note       TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL,
    PRIMARY KEY (number, seq)
);

-- 整改: a grade of 不满意 or 非常不满意 opens one for the department.
CREATE TABLE application_rectifications (
    number      TEXT PRIMARY KEY,
    department  TEXT NOT NULL,
    grade       INTEGER NOT NULL,
    reasons     TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
    outcome     TEXT,
    created_at  TEXT NOT NULL,
    done_at     TEXT
);
CREATE INDEX rectifications_department ON application_rectifications (department, status, deadline);
