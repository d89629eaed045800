-- Hardening of payments (issue 15).
--
-- Callbacks refused before they could be read (bad signature, malformed,
-- missing headers) are not from the provider: they keep the SHA-256 and the
-- byte length of their body and at most its first KiB in raw_body (verified
-- callbacks keep their full body as before; both get the hash and length).
-- At most 100 rejected rows an hour per provider are stored, counted by the
-- inserting statement itself (the partial index keeps that count cheap).
ALTER TABLE payment_events ADD COLUMN body_sha256 TEXT;
ALTER TABLE payment_events ADD COLUMN body_bytes INTEGER;
CREATE INDEX payment_events_rejected ON payment_events (provider, received_at) WHERE outcome = 'rejected';

-- What each bill amounted to when the order was opened: the settlement
-- batch applies an order only while its bills still amount to that (a
-- re-import that changes a bill sends the payment to review). NULL for
-- orders opened before this migration (their sum is still checked).
ALTER TABLE payment_order_bills ADD COLUMN amount_fen INTEGER;
