-- What the public may know of a job's failure ("source unreachable", "not audio", …); the error itself
-- (hosts, addresses, source URLs with their queries) is shown only with the admin token.
ALTER TABLE jobs ADD COLUMN error_category text;
