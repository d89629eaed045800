-- bianmin foundation: catalogue, service halls, admin tokens, audit log.
-- Applied by `wrangler d1 migrations apply` (D1) and by shared::store::SqliteDb
-- in native tests: the same file, so the SQL tested is the SQL deployed.
-- Times are RFC 3339 text with +08:00; booleans are 0/1.

-- One row: the catalogue version, bumped by every change (clients and caches
-- compare it).
CREATE TABLE catalog_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO catalog_meta (id, version, updated_at) VALUES (1, 0, '2026-01-01T00:00:00+08:00');

-- 办事大厅 / 营业网点.
CREATE TABLE halls (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    district   TEXT NOT NULL,
    address    TEXT NOT NULL,
    hours      TEXT NOT NULL,
    phone      TEXT NOT NULL,
    lat        REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng        REAL NOT NULL CHECK (lng BETWEEN -180 AND 180),
    extra      TEXT NOT NULL DEFAULT '{}',   -- JSON: transport, parking, windows
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- 政务服务事项 (one row per implementation code, GB/T 39554 style).
CREATE TABLE items (
    code           TEXT PRIMARY KEY,          -- 实施编码
    basic_code     TEXT NOT NULL,             -- 基本编码
    name           TEXT NOT NULL,
    category       TEXT NOT NULL,             -- theme (002 table 1) or 供水服务
    tags           TEXT NOT NULL DEFAULT '[]',-- JSON array of strings
    department     TEXT NOT NULL,             -- 受理部门 / 承办单位
    service_object TEXT NOT NULL,             -- JSON array: 自然人, 法人, 其他组织
    online         INTEGER NOT NULL CHECK (online IN (0, 1)),
    online_url     TEXT,
    appointment    INTEGER NOT NULL CHECK (appointment IN (0, 1)),
    guide          TEXT NOT NULL,             -- JSON: the 办事指南 prose fields
    status         TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'withdrawn')),
    version        INTEGER NOT NULL,          -- catalogue version of the last change
    updated_at     TEXT NOT NULL
);
CREATE INDEX items_category ON items (category);
CREATE INDEX items_department ON items (department);

-- 申请材料目录.
CREATE TABLE materials (
    item_code   TEXT NOT NULL REFERENCES items (code) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    form        TEXT NOT NULL CHECK (form IN ('original', 'copy', 'original_and_copy', 'electronic')),
    copies      INTEGER NOT NULL CHECK (copies >= 0),
    required    INTEGER NOT NULL CHECK (required IN (0, 1)),
    note        TEXT NOT NULL DEFAULT '',
    sample_url  TEXT,                          -- 示范文本
    blank_url   TEXT,                          -- 空白表格
    PRIMARY KEY (item_code, position)
);

-- Which halls handle which items.
CREATE TABLE item_halls (
    item_code TEXT NOT NULL REFERENCES items (code) ON DELETE CASCADE,
    hall_id   TEXT NOT NULL REFERENCES halls (id),
    PRIMARY KEY (item_code, hall_id)
);
CREATE INDEX item_halls_hall ON item_halls (hall_id);

-- 事项关联: related items (directed; the import writes both directions it is given).
CREATE TABLE item_relations (
    item_code    TEXT NOT NULL REFERENCES items (code) ON DELETE CASCADE,
    related_code TEXT NOT NULL,
    PRIMARY KEY (item_code, related_code)
);
CREATE INDEX item_relations_related ON item_relations (related_code);

-- Admin bearer tokens, stored only as SHA-256 hashes.
CREATE TABLE admin_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    roles       TEXT NOT NULL,                 -- comma-separated role names
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);

-- Append-only audit log of every admin write (001: audit trail; GB/T 22239).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
