-- Ingest jobs: at most one active job per debate (a resubmit after a failure races safely),
-- and lookups from the job queue's id back to our row.
CREATE UNIQUE INDEX jobs_one_active_per_debate ON jobs (debate_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX jobs_queue_job_idx ON jobs (queue_job_id);
-- when the job reached a final state (succeeded, failed, cancelled)
ALTER TABLE jobs ADD COLUMN finished_at timestamptz;
