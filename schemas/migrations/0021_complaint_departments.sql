-- Complaint scopes (issue 15, item 11): a complaint_handler token acts only
-- on the cases handed to the departments listed for it here (the list, the
-- case, its photos, its steps, its FAQ entry); handing a case to a
-- department (assign) is the 12345 centre's dispatchers' (complaint_dispatcher),
-- who see every case. Revoking or expiring the token ends its scope with it.
CREATE TABLE admin_token_departments (
    token_id    TEXT NOT NULL,
    department  TEXT NOT NULL,
    PRIMARY KEY (token_id, department)
);

-- Tokens made before scopes saw and did everything: they become dispatchers,
-- so nothing they did stops working (new department handlers are granted
-- departments: scripts/admin-token create --role complaint_handler --department ...).
UPDATE admin_tokens SET roles = roles || ',complaint_dispatcher'
    WHERE (',' || roles || ',') LIKE '%,complaint_handler,%'
      AND (',' || roles || ',') NOT LIKE '%,complaint_dispatcher,%';
