-- Deadline tracking for complaints: the hourly cron marks a case overdue
-- once its deadline has passed unanswered, and warns (once) when it falls
-- due within two days.
ALTER TABLE complaints ADD COLUMN overdue_at TEXT;
ALTER TABLE complaints ADD COLUMN warned_at TEXT;
