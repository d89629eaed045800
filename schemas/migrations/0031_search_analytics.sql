-- 搜索分析 (issue 19): where citizens' searches fail, for editors to add
-- thesaurus words and misspellings (GET /v1/admin/search/analytics).
--
-- search_query_days: per Beijing day and query (the text the index searched,
-- after corrections, thesaurus and stop words; never a banned query, never one
-- that looks like a phone or ID number; at most 20 characters and a "…"),
-- the searches, those without a result, and those with results after which a
-- guide was opened. item-search adds a search with one atomic upsert
-- (searches = searches + 1), so concurrent isolates never lose each other's
-- counts; "no guide opened" is searches - zero_results - opened, computed
-- when read.
CREATE TABLE search_query_days (
    day           TEXT NOT NULL,          -- Beijing date, YYYY-MM-DD
    query         TEXT NOT NULL,
    searches      INTEGER NOT NULL CHECK (searches >= 1),
    zero_results  INTEGER NOT NULL CHECK (zero_results >= 0 AND zero_results <= searches),
    opened        INTEGER NOT NULL DEFAULT 0 CHECK (opened >= 0 AND opened <= searches - zero_results),
    PRIMARY KEY (day, query)
) WITHOUT ROWID;

-- One row per search with results, under the random search_id its answer
-- carried (nothing ties it to the citizen): a guide opened with ?sid= marks
-- it, once (guide-detail), and adds one to its day's `opened`. Kept a few
-- days only: each new search deletes a handful of rows older than that.
CREATE TABLE search_outcomes (
    id      TEXT PRIMARY KEY,              -- the search_id, 24 hex characters
    day     TEXT NOT NULL,                 -- the search's Beijing date
    query   TEXT NOT NULL,
    opened  INTEGER NOT NULL DEFAULT 0 CHECK (opened IN (0, 1))
);
CREATE INDEX search_outcomes_day ON search_outcomes (day);
