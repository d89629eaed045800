-- WeChat subscription messages (订阅消息, issue 18). A one-time template lets
-- the mini-program send one message per "accept" the citizen gave in
-- wx.requestSubscribeMessage; the mini-program reports each result to
-- POST /v1/me/wechat-subscriptions, which counts them here (at most 10 kept
-- per template, "ban" sets 0). A notice takes one acceptance in the statement
-- that decrements it (remaining > 0 inside the write), so two senders never
-- spend the same one (shared/src/wechat_notify).
CREATE TABLE wechat_acceptances (
    citizen_id   TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    template_id  TEXT NOT NULL,
    remaining    INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND 10),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (citizen_id, template_id)
) WITHOUT ROWID;

-- One row per notice offered by 订阅消息: the claim (a unique
-- purpose + ref + citizen, so a notice goes out at most once whatever the
-- overlap of two runs) is written with the acceptance it takes, as `claimed`,
-- before the send; the answer makes it `sent`, `refused` (43101: the citizen
-- withdrew or the acceptance was used up; the caller falls back to SMS or the
-- inbox) or `failed`. A row left `claimed` (a crash mid-send) is never sent again.
CREATE TABLE wechat_sends (
    citizen_id   TEXT NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    template_id  TEXT NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('booking_confirmed', 'booking_reminder', 'complaint_progress',
                     'application_progress', 'bill_issued', 'bill_overdue', 'outage_notice')),
    ref          TEXT NOT NULL,
    claim        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'refused', 'failed')),
    errcode      INTEGER,
    msgid        TEXT,
    at           TEXT NOT NULL,
    PRIMARY KEY (purpose, ref, citizen_id)
) WITHOUT ROWID;
CREATE INDEX wechat_sends_citizen ON wechat_sends (citizen_id);
