-- 常见问题 (issue 8): answered consultations turned into public FAQ entries
-- by handlers, written anew for the public (no personal data of the asker).
CREATE TABLE faq (
    id             TEXT PRIMARY KEY,
    question       TEXT NOT NULL,
    answer         TEXT NOT NULL,
    category       TEXT NOT NULL,
    source_number  TEXT UNIQUE REFERENCES complaints (number) ON DELETE SET NULL,
    created_by     TEXT NOT NULL,                 -- admin token id
    created_at     TEXT NOT NULL
);
CREATE INDEX faq_category ON faq (category, created_at);

-- Lookups by number are now limited by the Workers Rate Limiting binding
-- (LOOKUP_LIMITER): no D1 write per lookup.
DROP TABLE complaint_lookups;

-- Photos attached to a submission (private uploads, images only; handlers see them).
CREATE TABLE complaint_photos (
    number     TEXT NOT NULL REFERENCES complaints (number) ON DELETE CASCADE,
    upload_id  TEXT NOT NULL REFERENCES uploads (id),
    PRIMARY KEY (number, upload_id)
);
