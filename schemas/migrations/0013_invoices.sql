-- 增值税发票办理 (000 §7.3): applications with their two documents, the
-- billing operator's handling 受理 -> 开票 -> 邮寄, and 票据管理 (§7.3.3).

-- Uploaded documents: the bytes live in KV (`upload:{id}`, base64), never
-- behind a public route; this row says whose they are and what they are.
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    citizen_id    TEXT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size          INTEGER NOT NULL CHECK (size > 0),
    sha256        TEXT NOT NULL,
    used_by       TEXT,                           -- the application that attached it
    created_at    TEXT NOT NULL
);
CREATE INDEX uploads_citizen ON uploads (citizen_id, created_at);

CREATE TABLE invoice_requests (
    id                 TEXT PRIMARY KEY,           -- FP + yyyymmdd + 8 hex
    citizen_id         TEXT NOT NULL,
    account_no         TEXT NOT NULL,              -- 表卡编号
    company_name       TEXT NOT NULL,              -- 单位名称
    company_address    TEXT NOT NULL,              -- 单位地址
    contact_phone      TEXT NOT NULL,              -- 联系电话
    tax_id             TEXT NOT NULL,              -- 纳税人识别号 (统一社会信用代码)
    bank_name          TEXT NOT NULL,              -- 开户银行
    bank_account       TEXT NOT NULL,              -- 银行账号
    applicant          TEXT NOT NULL,              -- 申请人
    license_upload     TEXT NOT NULL REFERENCES uploads (id),     -- 营业执照
    tax_notice_upload  TEXT NOT NULL REFERENCES uploads (id),     -- 税务事项通知书
    status             TEXT NOT NULL DEFAULT 'accepted' CHECK (status IN ('accepted', 'issued', 'mailed', 'rejected')),
    reject_reason      TEXT,
    invoice_no         TEXT,                       -- 发票号码
    issued_at          TEXT,
    carrier            TEXT,
    tracking_no        TEXT,                       -- 邮寄单号
    mailed_at          TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX invoice_requests_citizen ON invoice_requests (citizen_id, created_at);
CREATE INDEX invoice_requests_status ON invoice_requests (status, created_at);

-- 票据管理: 发放日期、发票编号、领用人、使用用户编号、作废发票编号, for
-- invoices (发票) and payment receipts (收费凭证) alike.
CREATE TABLE invoice_ledger (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('invoice', 'receipt')),
    number       TEXT NOT NULL,                    -- 发票编号 / 凭证编号
    issued_on    TEXT NOT NULL,                    -- 发放日期 YYYY-MM-DD
    recipient    TEXT NOT NULL,                    -- 领用人
    account_no   TEXT NOT NULL,                    -- 使用用户编号 (表卡编号)
    request_id   TEXT REFERENCES invoice_requests (id),
    voided_at    TEXT,                             -- 作废
    void_reason  TEXT,
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    UNIQUE (kind, number)
);
CREATE INDEX invoice_ledger_day ON invoice_ledger (issued_on);
