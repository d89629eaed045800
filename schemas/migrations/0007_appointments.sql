-- 网上预约 (001 7x24 online appointment; 004 预约方式; 000 §5.1 parking).
-- A resource is a service window of a hall for a set of items, or a parking
-- lot; its booking rules are JSON (appointment::slots::Rules). Slots are
-- generated from the rules, never stored: capacity is enforced when a
-- booking is inserted, by counting the slot's active bookings in the same
-- statement (D1 runs one write at a time, so the count cannot go stale).

CREATE TABLE appt_resources (
    id          TEXT PRIMARY KEY,
    hall_id     TEXT NOT NULL REFERENCES halls (id),
    kind        TEXT NOT NULL CHECK (kind IN ('window', 'parking')),
    name        TEXT NOT NULL,
    items       TEXT NOT NULL DEFAULT '[]',   -- JSON: item codes a window handles
    rules       TEXT NOT NULL,                -- JSON: weekly periods, slot length, capacity, window, notice
    updated_at  TEXT NOT NULL
);
CREATE INDEX appt_resources_hall ON appt_resources (hall_id);

-- 法定节假日 (holiday: closed) and 调休上班 (workday: open with Monday's hours).
CREATE TABLE appt_calendar (
    day   TEXT PRIMARY KEY,                   -- YYYY-MM-DD, Beijing
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name  TEXT NOT NULL DEFAULT ''
);

-- Status: held (a short hold while the form is filled, counted until
-- hold_expires_at), booked, checked_in, cancelled, rescheduled (moved to
-- another booking), no_show (slot + grace passed), lapsed (a parking
-- reservation whose car did not arrive in time; the space is freed).
CREATE TABLE appointments (
    id               TEXT PRIMARY KEY,        -- booking number (预约号)
    citizen_id       TEXT NOT NULL,
    resource_id      TEXT NOT NULL REFERENCES appt_resources (id),
    hall_id          TEXT NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'window' CHECK (kind IN ('window', 'parking')),
    item_code        TEXT NOT NULL DEFAULT '',-- the item, or 'parking:<resource>' for parking
    plate            TEXT,                    -- parking only: one of the citizen's plates
    day              TEXT NOT NULL,           -- Beijing date of the slot
    slot_start       TEXT NOT NULL,           -- RFC 3339, +08:00
    slot_end         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                       ('held', 'booked', 'checked_in', 'cancelled', 'rescheduled', 'no_show', 'lapsed')),
    hold_expires_at  TEXT,
    checkin_code     TEXT NOT NULL,
    idem_key         TEXT,                    -- the Idempotency-Key that created it
    checked_in_at    TEXT,
    reminder_run     TEXT,                    -- the reminder run that claimed it (exactly once)
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX appointments_slot ON appointments (resource_id, slot_start, status);
CREATE INDEX appointments_day ON appointments (day, status);
CREATE INDEX appointments_citizen ON appointments (citizen_id, slot_start);
-- The per-person rule's backstop: one active booking per citizen, item and day.
CREATE UNIQUE INDEX appointments_one_per_day ON appointments (citizen_id, item_code, day) WHERE status = 'booked';
-- A retried request (same Idempotency-Key) finds the first answer.
CREATE UNIQUE INDEX appointments_idempotency ON appointments (citizen_id, idem_key) WHERE idem_key IS NOT NULL;

-- A citizen's vehicles (停车有道: a reservation names one of them).
CREATE TABLE citizen_plates (
    citizen_id  TEXT NOT NULL,
    plate       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (citizen_id, plate)
);
