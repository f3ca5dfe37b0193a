-- Live sittings: an operator's stop request, seen by the worker that owns the live job.
ALTER TABLE jobs ADD COLUMN stop_requested_at timestamptz;
