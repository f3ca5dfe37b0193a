-- Passage search reads a narrow table of its own (issue #17): each paragraph's folded French tsvector
-- beside its keys, and copies of what the search filters and orders by from its debate (status, current
-- version, start). Ranking the candidates the GIN index hands out then reads neither the paragraphs'
-- text nor the debates table; the text, speaker and debate title of a hit are read for the page shown.
-- transcript_paragraphs no longer carries the vector: it is kept once, here.
-- Triggers keep the rows in step: one is made when a paragraph is written, removed with it or its
-- transcript, and the debate's copies follow an update of the debate.
ALTER TABLE transcripts ADD CONSTRAINT transcripts_version_key UNIQUE (debate_id, version);

CREATE TABLE transcript_search (
    debate_id         uuid NOT NULL,
    idx               int NOT NULL,
    version           int NOT NULL,            -- the transcript's
    search            tsvector NOT NULL,
    debate_status     text NOT NULL,           -- debates.status
    debate_version    int,                     -- debates.current_version: searched when = version
    debate_starts_at  timestamptz,             -- debates.starts_at (equal ranks: newest sitting first)
    PRIMARY KEY (debate_id, idx),
    FOREIGN KEY (debate_id, idx) REFERENCES transcript_paragraphs (debate_id, idx) ON DELETE CASCADE,
    FOREIGN KEY (debate_id, version) REFERENCES transcripts (debate_id, version)
        ON DELETE CASCADE ON UPDATE CASCADE
);

INSERT INTO transcript_search
       (debate_id, idx, version, search, debate_status, debate_version, debate_starts_at)
SELECT p.debate_id, p.idx, t.version, p.search, d.status, d.current_version, d.starts_at
  FROM transcript_paragraphs p JOIN transcripts t ON t.debate_id = p.debate_id
  JOIN debates d ON d.id = p.debate_id;
CREATE INDEX transcript_search_idx ON transcript_search USING gin (search);

DROP INDEX transcript_paragraphs_search_idx;
ALTER TABLE transcript_paragraphs DROP COLUMN search;

-- the words of a paragraph as passage search finds them (the same folding and configuration as before)
CREATE FUNCTION robian_index_paragraph() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO transcript_search
           (debate_id, idx, version, search, debate_status, debate_version, debate_starts_at)
    SELECT NEW.debate_id, NEW.idx, t.version, to_tsvector('french', robian_unaccent(NEW.body)),
           d.status, d.current_version, d.starts_at
      FROM transcripts t JOIN debates d ON d.id = t.debate_id
     WHERE t.debate_id = NEW.debate_id
    ON CONFLICT (debate_id, idx) DO UPDATE SET version = EXCLUDED.version, search = EXCLUDED.search;
    RETURN NULL;
END
$$;
CREATE TRIGGER transcript_paragraphs_index AFTER INSERT OR UPDATE OF body ON transcript_paragraphs
    FOR EACH ROW EXECUTE FUNCTION robian_index_paragraph();

CREATE FUNCTION robian_index_debate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE transcript_search
       SET debate_status = NEW.status, debate_version = NEW.current_version, debate_starts_at = NEW.starts_at
     WHERE debate_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER debates_index_passages AFTER UPDATE OF status, current_version, starts_at ON debates
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.current_version IS DISTINCT FROM NEW.current_version
          OR OLD.starts_at IS DISTINCT FROM NEW.starts_at)
    EXECUTE FUNCTION robian_index_debate();
