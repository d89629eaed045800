-- 网上申报 (issue 17): the 电子 result of an application, a private upload the
-- handler attaches before 办结 and only the applicant downloads afterwards.
-- The upload row carries the applicant's citizen_id, so an account's erasure
-- deletes it with the rest of the citizen's files.
ALTER TABLE applications ADD COLUMN result_upload TEXT REFERENCES uploads (id);
