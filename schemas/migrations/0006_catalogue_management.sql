-- Catalogue management (004: 事项管理/审核/分类/同步/关联匹配; 002 §6 错别字).
--
-- Review workflow: an editor's create or change is a row of item_drafts
-- (draft -> submitted -> published, or rejected with a reason); only
-- publishing writes to items, so citizens only ever see reviewed content.

CREATE TABLE item_drafts (
    code          TEXT PRIMARY KEY,        -- 实施编码 of the new or changed item
    body          TEXT NOT NULL,           -- JSON: the item as the editor wrote it
    state         TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'rejected')),
    is_new        INTEGER NOT NULL CHECK (is_new IN (0, 1)),
    revision      INTEGER NOT NULL DEFAULT 1, -- bumped by every write (optimistic concurrency)
    reason        TEXT,                    -- why the reviewer rejected it
    edited_by     TEXT NOT NULL,           -- admin token id
    submitted_by  TEXT,
    reviewed_by   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX item_drafts_state ON item_drafts (state, updated_at);

-- 事项分类: administrators maintain the list; an item's category must be one
-- of these. Seeded with the 26 themes of 002 table 1 and 供水服务 of 003.
CREATE TABLE categories (
    name        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL
);
INSERT INTO categories (name, position, updated_at) VALUES
    ('公积金', 1, '2026-01-01T00:00:00+08:00'), ('社保', 2, '2026-01-01T00:00:00+08:00'),
    ('护照通行证', 3, '2026-01-01T00:00:00+08:00'), ('行驶驾驶', 4, '2026-01-01T00:00:00+08:00'),
    ('税务', 5, '2026-01-01T00:00:00+08:00'), ('户政（治安）', 6, '2026-01-01T00:00:00+08:00'),
    ('生活缴费', 7, '2026-01-01T00:00:00+08:00'), ('交通出行', 8, '2026-01-01T00:00:00+08:00'),
    ('不动产登记', 9, '2026-01-01T00:00:00+08:00'), ('公共服务', 10, '2026-01-01T00:00:00+08:00'),
    ('人才与就业', 11, '2026-01-01T00:00:00+08:00'), ('法律服务', 12, '2026-01-01T00:00:00+08:00'),
    ('调解仲裁', 13, '2026-01-01T00:00:00+08:00'), ('社会救助', 14, '2026-01-01T00:00:00+08:00'),
    ('信用信息', 15, '2026-01-01T00:00:00+08:00'), ('婚姻', 16, '2026-01-01T00:00:00+08:00'),
    ('新生儿', 17, '2026-01-01T00:00:00+08:00'), ('中介超市', 18, '2026-01-01T00:00:00+08:00'),
    ('助残', 19, '2026-01-01T00:00:00+08:00'), ('境外人士', 20, '2026-01-01T00:00:00+08:00'),
    ('少数民族旅游服务', 21, '2026-01-01T00:00:00+08:00'), ('智慧出行服务', 22, '2026-01-01T00:00:00+08:00'),
    ('公安服务', 23, '2026-01-01T00:00:00+08:00'), ('人社服务', 24, '2026-01-01T00:00:00+08:00'),
    ('流动人口', 25, '2026-01-01T00:00:00+08:00'), ('粤港澳大湾区服务', 26, '2026-01-01T00:00:00+08:00'),
    ('供水服务', 27, '2026-01-01T00:00:00+08:00');

-- The maintained misspelling table (错别字表) beside pinyin-based correction:
-- what citizens mistype -> what they meant.
CREATE TABLE search_corrections (
    wrong  TEXT PRIMARY KEY,
    right  TEXT NOT NULL
);
INSERT INTO search_corrections (wrong, right) VALUES
    ('身分证', '身份证'), ('社宝', '社保'), ('户囗', '户口'), ('公积今', '公积金'), ('驾使证', '驾驶证'),
    ('营业只照', '营业执照'), ('准生正', '准生证'), ('结昏', '结婚'),
    ('护炤', '护照'), ('水废', '水费'), ('残疾人正', '残疾人证');

-- Sync from the external item library (事项同步): the fingerprint of what the
-- feed last said per item, so an unchanged item is neither rewritten nor
-- counted; and one row per run with its report.
ALTER TABLE items ADD COLUMN source_hash TEXT;
CREATE TABLE item_sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('manual', 'cron')),
    source      TEXT NOT NULL,             -- feed URL without its query string
    status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    report      TEXT NOT NULL DEFAULT '{}' -- JSON: codes per outcome, rejection reasons
);

-- Preconditions inside a D1 batch (optimistic concurrency): a statement
-- `INSERT INTO batch_guard SELECT 0 WHERE NOT (<condition>)` fails this
-- named CHECK, which rolls the whole batch back; the code maps the
-- constraint's name to 409 conflict. The table never holds a row.
CREATE TABLE batch_guard (
    ok INTEGER NOT NULL CONSTRAINT batch_guard_precondition CHECK (ok = 1)
);
