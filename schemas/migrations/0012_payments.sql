-- 水费缴纳 (000 §7.2: 支付宝缴费, 微信缴费): payment orders, the ledger of
-- applied payments, the append-only log of every provider callback and
-- query, and the review queue for what must not be applied automatically.

-- One order per payment attempt: our out_trade_no, the exact amount in fen,
-- the bills it pays (统一补缴: several bills, one order).
CREATE TABLE payment_orders (
    out_trade_no       TEXT PRIMARY KEY,
    citizen_id         TEXT NOT NULL,
    provider           TEXT NOT NULL CHECK (provider IN ('wechatpay', 'alipay')),
    amount_fen         INTEGER NOT NULL CHECK (amount_fen > 0),
    bill_key           TEXT NOT NULL,               -- sorted bill ids joined by ',' (reuse of a pending order)
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'paid', 'closed', 'review')),
    prepay_id          TEXT,                        -- WeChat Pay JSAPI prepay id
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    paid_at            TEXT,
    provider_trade_no  TEXT,                        -- transaction_id / trade_no
    paid_via           TEXT CHECK (paid_via IN ('notify', 'query')),
    queried_at         TEXT,                        -- last order query by reconciliation
    query_count        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX payment_orders_open ON payment_orders (status, created_at);
CREATE INDEX payment_orders_citizen ON payment_orders (citizen_id, bill_key, provider, status);

CREATE TABLE payment_order_bills (
    out_trade_no  TEXT NOT NULL REFERENCES payment_orders (out_trade_no),
    bill_id       TEXT NOT NULL REFERENCES bills (id),
    PRIMARY KEY (out_trade_no, bill_id)
);
CREATE INDEX payment_order_bills_bill ON payment_order_bills (bill_id);

-- The ledger: at most one payment per order and per provider transaction.
CREATE TABLE payments (
    out_trade_no       TEXT PRIMARY KEY REFERENCES payment_orders (out_trade_no),
    provider           TEXT NOT NULL,
    provider_trade_no  TEXT NOT NULL,
    amount_fen         INTEGER NOT NULL,
    paid_at            TEXT NOT NULL,              -- the provider's success time (or when we learnt it)
    applied_at         TEXT NOT NULL,
    via                TEXT NOT NULL CHECK (via IN ('notify', 'query')),
    UNIQUE (provider, provider_trade_no)
);
CREATE INDEX payments_day ON payments (provider, applied_at);

-- Every notification and order query, accepted or not, with the raw body
-- (no secrets: bodies are signed and encrypted by the provider; our keys are
-- never written here). Append-only.
CREATE TABLE payment_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at        TEXT NOT NULL,
    provider           TEXT NOT NULL CHECK (provider IN ('wechatpay', 'alipay')),
    channel            TEXT NOT NULL CHECK (channel IN ('notify', 'query')),
    out_trade_no       TEXT,
    provider_trade_no  TEXT,
    state              TEXT,                       -- SUCCESS, TRADE_SUCCESS, TRADE_FINISHED, NOTPAY, ...
    amount_fen         INTEGER,
    outcome            TEXT NOT NULL,              -- applied, duplicate, ignored, review, rejected
    reason             TEXT,                       -- why (bad_signature, stale, amount_mismatch, ...)
    headers            TEXT,                       -- the provider's signature headers (JSON)
    raw_body           TEXT NOT NULL,
    request_id         TEXT NOT NULL
);
CREATE INDEX payment_events_order ON payment_events (out_trade_no);
CREATE INDEX payment_events_day ON payment_events (provider, received_at);
CREATE TRIGGER payment_events_no_update BEFORE UPDATE ON payment_events
BEGIN SELECT RAISE(ABORT, 'payment_events is append-only'); END;
CREATE TRIGGER payment_events_no_delete BEFORE DELETE ON payment_events
BEGIN SELECT RAISE(ABORT, 'payment_events is append-only'); END;

-- Money that arrived but was not applied: for a billing operator.
CREATE TABLE payment_reviews (
    id                 TEXT PRIMARY KEY,
    provider           TEXT NOT NULL,
    out_trade_no       TEXT NOT NULL,
    provider_trade_no  TEXT NOT NULL,
    reason             TEXT NOT NULL CHECK (reason IN
                       ('amount_mismatch', 'merchant_mismatch', 'unknown_order', 'double_payment', 'provider_mismatch')),
    amount_fen         INTEGER,
    detail             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    resolved_at        TEXT,
    resolved_by        TEXT,
    resolution         TEXT,
    UNIQUE (provider, provider_trade_no, reason)
);
CREATE INDEX payment_reviews_open ON payment_reviews (resolved_at, created_at);
