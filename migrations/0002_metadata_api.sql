-- Read side of the metadata API.

-- Keyset pagination of debate lists: newest sitting first, sittings of unknown start last, id breaks
-- ties. One expression so that the cursor comparison `(key, id) < ($1, $2)` is a single index range.
CREATE INDEX debates_listing_idx
    ON debates ((coalesce(starts_at, '-infinity'::timestamptz)) DESC, id DESC);

-- The agenda's life-cycle state of a réunion (cycleDeVie/etat: Confirmé, Annulé, Reporté…).
ALTER TABLE programme_items ADD COLUMN state text;
