-- Where a passage's words are said (issue #17): each paragraph carries its caption cues' times and
-- folded French vectors as arrays, in cue order, so a search hit's cue is found in the paragraph row
-- the page reads anyway, not by a visit to an index and a table of cues per hit (transcript_cues, read
-- for nothing else, 327 MB at 1 000 sittings). The cues' text stays in transcript.vtt and the subtitle
-- rendition; the database keeps what search needs.
ALTER TABLE transcript_paragraphs
    ADD COLUMN cue_starts float8[] NOT NULL DEFAULT '{}',
    ADD COLUMN cue_ends   float8[] NOT NULL DEFAULT '{}',
    ADD COLUMN cue_search tsvector[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT transcript_paragraphs_cues_check CHECK (
        cardinality(cue_ends) = cardinality(cue_starts) AND cardinality(cue_search) = cardinality(cue_starts)
    );

UPDATE transcript_paragraphs p
   SET cue_starts = c.starts, cue_ends = c.ends, cue_search = c.search
  FROM (SELECT debate_id, paragraph, array_agg(start_s ORDER BY idx) AS starts,
               array_agg(end_s ORDER BY idx) AS ends, array_agg(search ORDER BY idx) AS search
          FROM transcript_cues GROUP BY debate_id, paragraph) c
 WHERE p.debate_id = c.debate_id AND p.idx = c.paragraph;

DROP TABLE transcript_cues;
