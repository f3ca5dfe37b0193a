-- The words of a sitting (DESIGN §8): the published version's paragraphs and caption cues, replaced
-- with each publish (like chapters). Searched as French full text folded by robian_unaccent (0001):
-- paragraphs through their GIN index, then the first cue of a hit paragraph that holds the words.
CREATE TABLE transcripts (
    debate_id  uuid PRIMARY KEY REFERENCES debates (id) ON DELETE CASCADE,
    version    int NOT NULL,
    source     text NOT NULL CHECK (source IN ('compte_rendu', 'request'))
);

CREATE TABLE transcript_paragraphs (
    debate_id      uuid NOT NULL REFERENCES transcripts (debate_id) ON DELETE CASCADE,
    idx            int NOT NULL,
    start_s        float8 NOT NULL,
    end_s          float8 NOT NULL,
    speaker_id     text,
    speaker_name   text NOT NULL,
    speaker_group  text,
    chapter        int,
    body           text NOT NULL,
    search         tsvector GENERATED ALWAYS AS (to_tsvector('french', robian_unaccent(body))) STORED,
    PRIMARY KEY (debate_id, idx)
);
CREATE INDEX transcript_paragraphs_search_idx ON transcript_paragraphs USING gin (search);
-- a speaker's interventions show an excerpt of what they said there
CREATE INDEX transcript_paragraphs_speaker_idx ON transcript_paragraphs (speaker_id, debate_id, start_s);

CREATE TABLE transcript_cues (
    debate_id  uuid NOT NULL,
    paragraph  int NOT NULL,
    idx        int NOT NULL,
    start_s    float8 NOT NULL,
    end_s      float8 NOT NULL,
    body       text NOT NULL,
    search     tsvector GENERATED ALWAYS AS (to_tsvector('french', robian_unaccent(body))) STORED,
    PRIMARY KEY (debate_id, paragraph, idx),
    FOREIGN KEY (debate_id, paragraph) REFERENCES transcript_paragraphs (debate_id, idx) ON DELETE CASCADE
);

-- A compte rendu attached later is a job of its own kind (POST /api/v1/debates/{id}/compte-rendu). It may
-- be sent while the sitting's own job is still active (it then waits for it: the queue runs one job of a
-- debate at a time), so the one-active-job rule holds apart for it; it publishes after that job.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('ingest', 'live', 'compte_rendu'));
DROP INDEX jobs_one_active_per_debate;
CREATE UNIQUE INDEX jobs_one_active_per_debate ON jobs (debate_id, (kind = 'compte_rendu'))
    WHERE status IN ('queued', 'running');
