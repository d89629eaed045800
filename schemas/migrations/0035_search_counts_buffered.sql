-- 搜索分析 without a write per search (issue 19). item-search now buffers
-- each isolate's counts and writes them at most once a second, as atomic
-- upserts (searches = searches + n), like the hot lists; a search id is
-- signed instead of stored (shared::catalogue::search_id: day, nonce, the
-- query's hash, a MAC). A guide opened with one adds to search_opened_days
-- under the query's hash, once per id (search_follows). "No guide opened" is
-- searches - zero_results - opened (never below 0), computed when read.

-- The queries' hashes (first 16 hex of SHA-256, computed by item-search); rows
-- from before keep their opened counts under 'legacy:' || query.
CREATE TABLE search_query_days_next (
    day           TEXT NOT NULL,          -- Beijing date, YYYY-MM-DD
    query         TEXT NOT NULL,
    query_hash    TEXT NOT NULL,
    searches      INTEGER NOT NULL CHECK (searches >= 1),
    zero_results  INTEGER NOT NULL CHECK (zero_results >= 0 AND zero_results <= searches),
    PRIMARY KEY (day, query)
) WITHOUT ROWID;
INSERT INTO search_query_days_next (day, query, query_hash, searches, zero_results)
    SELECT day, query, 'legacy:' || query, searches, zero_results FROM search_query_days;

-- Guides opened from searches, per Beijing day of the search and query hash.
CREATE TABLE search_opened_days (
    day         TEXT NOT NULL,
    query_hash  TEXT NOT NULL,
    opened      INTEGER NOT NULL CHECK (opened >= 1),
    PRIMARY KEY (day, query_hash)
) WITHOUT ROWID;
INSERT INTO search_opened_days (day, query_hash, opened)
    SELECT day, 'legacy:' || query, opened FROM search_query_days WHERE opened > 0;

DROP TABLE search_query_days;
ALTER TABLE search_query_days_next RENAME TO search_query_days;
DROP TABLE search_outcomes;

-- The search ids a guide was opened with (day and nonce): a second guide
-- opened from the same search counts nothing. Kept a few days: each mark
-- deletes a handful of older rows.
CREATE TABLE search_follows (
    id   TEXT PRIMARY KEY,                -- YYYYMMDD + nonce
    day  TEXT NOT NULL
);
CREATE INDEX search_follows_day ON search_follows (day);
