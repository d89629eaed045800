-- 搜索历史 (002 §6): the last 20 distinct queries of each logged-in citizen.
CREATE TABLE search_history (
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    query       TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (citizen_id, query)
);
CREATE INDEX search_history_recent ON search_history (citizen_id, at);
