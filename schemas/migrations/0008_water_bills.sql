-- 水费 (000 §7: 水费查询及缴纳, 历史账单; 003: 水费缴费, 水费清单打印).
-- Personal data is minimised: the account holder's phone is kept only as an
-- HMAC (to check a binding), the name only masked; addresses are shown to
-- the bound citizen masked.

CREATE TABLE water_accounts (
    account_no         TEXT PRIMARY KEY,          -- 表卡编号
    holder_masked      TEXT NOT NULL,             -- 户名, masked (张*)
    holder_phone_hash  TEXT NOT NULL,             -- HMAC of the holder's phone (IDENTITY_PEPPER)
    address            TEXT NOT NULL,             -- 用水地址
    category           TEXT NOT NULL CHECK (category IN ('居民', '非居民', '特种')),
    updated_at         TEXT NOT NULL
);

-- Which citizens may see an account (绑定户号).
CREATE TABLE citizen_water_accounts (
    citizen_id  TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    account_no  TEXT NOT NULL REFERENCES water_accounts (account_no),
    bound_at    TEXT NOT NULL,
    PRIMARY KEY (citizen_id, account_no)
);
CREATE INDEX citizen_water_accounts_account ON citizen_water_accounts (account_no);

-- Failed binding attempts, to stop guessing a holder's phone.
CREATE TABLE water_bind_failures (
    citizen_id  TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX water_bind_failures_citizen ON water_bind_failures (citizen_id, at);

CREATE TABLE bills (
    id          TEXT PRIMARY KEY,                 -- B + account + period
    account_no  TEXT NOT NULL REFERENCES water_accounts (account_no),
    period      TEXT NOT NULL,                    -- YYYY-MM
    usage_m3    INTEGER NOT NULL CHECK (usage_m3 >= 0),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    due_date    TEXT NOT NULL,                    -- YYYY-MM-DD
    items       TEXT NOT NULL DEFAULT '[]',       -- JSON: 水费, 污水处理费, ... with amounts in fen
    status      TEXT NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid')),
    paid_at     TEXT,
    updated_at  TEXT NOT NULL,
    UNIQUE (account_no, period)
);
CREATE INDEX bills_account ON bills (account_no, status, period);
