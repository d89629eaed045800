-- 热门排行 / 热门搜索: daily counts of guide views (kind 'view', key = item
-- code) and searches (kind 'search', key = the normalised query), summed over
-- a rolling 7 days. Workers add to them with atomic upserts (n = n + ?), so
-- concurrent isolates never lose each other's counts.
CREATE TABLE hot_counts (
    day   TEXT NOT NULL,            -- Beijing date, YYYY-MM-DD
    kind  TEXT NOT NULL CHECK (kind IN ('view', 'search')),
    key   TEXT NOT NULL,
    n     INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (day, kind, key)
);
CREATE INDEX hot_counts_kind_day ON hot_counts (kind, day);
