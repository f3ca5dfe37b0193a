-- Read side of the metadata API.

-- Keyset pagination of debate lists: newest sitting first, sittings of unknown start last, id breaks
-- ties. One expression so that the cursor comparison `(key, id) < ($1, $2)` is a single index range.
CREATE INDEX debates_listing_idx
    ON debates ((coalesce(starts_at, '-infinity'::timestamptz)) DESC, id DESC);

-- The agenda's life-cycle state of a réunion (cycleDeVie/etat: Confirmé, Annulé, Reporté…).
ALTER TABLE programme_items ADD COLUMN state text;

-- How many chapters and distinct speakers each debate has: every listed debate shows them, so they
-- are kept on the row by triggers on chapters (read on every list, written once per publish).
ALTER TABLE debates
    ADD COLUMN chapters_count integer NOT NULL DEFAULT 0,
    ADD COLUMN speakers_count integer NOT NULL DEFAULT 0;

CREATE FUNCTION debates_recount(ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE debates d
    SET chapters_count = c.chapters, speakers_count = c.speakers
    FROM (
        SELECT i.id,
               (SELECT count(*) FROM chapters WHERE debate_id = i.id) AS chapters,
               (SELECT count(DISTINCT coalesce(speaker_id, speaker_name)) FROM chapters
                WHERE debate_id = i.id) AS speakers
        FROM unnest(ids) AS i (id)
    ) c
    WHERE d.id = c.id AND (d.chapters_count, d.speakers_count) IS DISTINCT FROM (c.chapters, c.speakers)
$$;

-- statement-level with transition tables: one recount per statement and debate, not per row
CREATE FUNCTION chapters_recount_debates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM debates_recount(ARRAY(SELECT DISTINCT debate_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM debates_recount(ARRAY(SELECT DISTINCT debate_id FROM old_rows));
    ELSE
        PERFORM debates_recount(ARRAY(SELECT debate_id FROM new_rows UNION SELECT debate_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER chapters_recount_after_insert AFTER INSERT ON chapters
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chapters_recount_debates();
CREATE TRIGGER chapters_recount_after_update AFTER UPDATE ON chapters
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION chapters_recount_debates();
CREATE TRIGGER chapters_recount_after_delete AFTER DELETE ON chapters
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chapters_recount_debates();

SELECT debates_recount(ARRAY(SELECT id FROM debates));
