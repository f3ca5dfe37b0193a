-- Each debate's own fields of the listing, written as JSON once when the row changes instead of on
-- every listed page (catalog/debate_queries.py, LIST_DEBATES_JSON): json_build_object and the time's
-- formatting were two thirds of PostgreSQL's CPU for a page of 20. The fields that depend on other
-- rows (the published rendition's duration) or on the request (the media URL) are added per page.

-- The object without its closing brace: the page appends "duration" and "master_url". Only text,
-- integers and a uuid go into it, whose JSON does not depend on settings, hence IMMUTABLE.
CREATE FUNCTION robian_listing_fields(
    id uuid, title text, chamber text, body text, starts_at timestamptz, status text,
    source_url text, speakers_count integer, chapters_count integer
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT rtrim(json_build_object(
        'id', id, 'title', title, 'chamber', chamber, 'body', body,
        'starts_at', robian_json_time(starts_at), 'status', status,
        'source_url', robian_public_source(source_url),
        'speakers_count', speakers_count, 'chapters_count', chapters_count
    )::text, '}')
$$;

ALTER TABLE debates
    ADD COLUMN listing_fields text NOT NULL GENERATED ALWAYS AS (robian_listing_fields(
        id, title, chamber, body, starts_at, status, source_url, speakers_count, chapters_count
    )) STORED;
