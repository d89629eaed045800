-- 停水停气提醒 hardening (issue 15).
--
-- Item 8: an account subscription now needs the account bound to the
-- citizen (water: citizen_water_accounts; gas accounts cannot be bound, so
-- gas goes by address). Subscriptions made before, to accounts the citizen
-- does not hold, are removed, and each citizen concerned is told in the inbox
-- (once) how to subscribe again.
INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
SELECT 'msg_' || lower(hex(randomblob(8))),
       gone.citizen_id,
       (SELECT COALESCE(MAX(seq), 0) FROM messages) + ROW_NUMBER() OVER (ORDER BY gone.citizen_id),
       'outage',
       '停水停气提醒订阅已调整',
       '按户号订阅停水停气提醒现需先将户号绑定到您名下。您有按未绑定户号（或燃气户号）的订阅已取消，请绑定水费户号后重新订阅，或改按地址订阅。',
       '/v1/me/outage-subscriptions',
       strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours')
  FROM (SELECT DISTINCT s.citizen_id FROM outage_subscriptions s
         WHERE s.account_no IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM citizen_water_accounts held
                            WHERE s.utility = 'water' AND held.citizen_id = s.citizen_id
                              AND held.account_no = s.account_no)) AS gone;

DELETE FROM outage_subscriptions
 WHERE account_no IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM citizen_water_accounts held
                    WHERE outage_subscriptions.utility = 'water'
                      AND held.citizen_id = outage_subscriptions.citizen_id
                      AND held.account_no = outage_subscriptions.account_no);

-- Item 12: only permanent faults of a number flag it (blacklisted, invalid).
-- Flags set before by temporary receipts (out of service, unsubscribed at the
-- carrier, ...) are lifted, so those citizens get notices again.
DELETE FROM sms_flags
 WHERE code NOT IN ('MOBILE_IN_BLACK', 'MOBILE_NUMBER_ILLEGAL', 'isv.MOBILE_NUMBER_ILLEGAL');
