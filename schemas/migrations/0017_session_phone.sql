-- The phone a session logged in by (HMAC under the pepper, as citizens.phone_hash),
-- set for logins by SMS code only. A recent login by the bound phone is proof of
-- that phone when the citizen changes it (issue 15, item 14).
ALTER TABLE sessions ADD COLUMN phone_hash TEXT;
