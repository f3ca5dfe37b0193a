-- Progressive playback: the version a running job made playable before it is published
-- ({"version": n, "variants": [rung, …]} with nominal bandwidths). Reset by each new attempt.
ALTER TABLE jobs ADD COLUMN playable jsonb;
