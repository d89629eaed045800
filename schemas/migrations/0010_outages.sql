-- 停水停气公告 (issue 7, first slice): published outages with the rendered
-- message and its planned first send; the public notice reads them at once.
CREATE TABLE outages (
    id                TEXT PRIMARY KEY,
    utility           TEXT NOT NULL CHECK (utility IN ('water', 'gas')),
    kind              TEXT NOT NULL CHECK (kind IN ('planned', 'emergency')),
    areas             TEXT NOT NULL,            -- JSON array, as published
    start_at          TEXT NOT NULL,            -- RFC 3339, +08:00
    end_at            TEXT NOT NULL,
    reason            TEXT NOT NULL,
    issuer            TEXT NOT NULL,            -- 发布单位
    contact_phone     TEXT NOT NULL,            -- the issuer's hotline (not personal data)
    temporary_supply  TEXT,
    message           TEXT NOT NULL,            -- the SMS text, signature included
    chars             INTEGER NOT NULL,
    parts             INTEGER NOT NULL,
    send_at           TEXT NOT NULL,            -- the planned first send
    send_reason       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('published', 'cancelled')),
    idem_key          TEXT UNIQUE,
    created_by        TEXT NOT NULL,            -- admin token id
    created_at        TEXT NOT NULL
);
CREATE INDEX outages_end ON outages (status, end_at);

CREATE TABLE outage_areas (
    outage_id  TEXT NOT NULL REFERENCES outages (id) ON DELETE CASCADE,
    area       TEXT NOT NULL,
    PRIMARY KEY (outage_id, area)
);
CREATE INDEX outage_areas_area ON outage_areas (area);
