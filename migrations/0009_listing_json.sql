-- The debates listing is written as JSON by PostgreSQL (catalog/debate_queries.py, LIST_DEBATES_JSON):
-- the page's bytes travel to the client as they are, without a Python object per row.

-- %XX sequences of a URL's path as UTF-8 text (Python's urllib.parse.unquote); a run of them that is
-- not valid UTF-8 stays as written
CREATE FUNCTION robian_percent_decode(t text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    result text := '';
    rest text := t;
    run text;
    at int;
BEGIN
    LOOP
        run := substring(rest FROM '(?:%[0-9A-Fa-f]{2})+');
        EXIT WHEN run IS NULL;
        at := position(run IN rest);
        result := result || left(rest, at - 1);
        BEGIN
            result := result || convert_from(decode(replace(run, '%', ''), 'hex'), 'UTF8');
        EXCEPTION WHEN others THEN
            result := result || run;
        END;
        rest := substr(rest, at + length(run));
    END LOOP;
    RETURN result || rest;
END
$$;

-- What anonymous clients see of a sitting's source: an http(s) URL as it is, else only the file's
-- name (a path tells about the server: its directories, its user); the job keeps the whole source
CREATE FUNCTION robian_public_source(source text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    scheme text := lower(substring(source FROM '^([A-Za-z][A-Za-z0-9+.-]*):'));
    path text := source;
BEGIN
    IF scheme IN ('http', 'https') THEN
        RETURN source;
    END IF;
    IF scheme = 'file' THEN
        -- file://host/path?query#fragment → /path, decoded
        path := regexp_replace(source, '^[^:]*:(//[^/?#]*)?', '');
        path := robian_percent_decode(regexp_replace(path, '[?#].*$', ''));
    END IF;
    RETURN regexp_replace(regexp_replace(path, '/+$', ''), '^.*/', '');
END
$$;

ALTER TABLE debates
    ADD COLUMN public_source text GENERATED ALWAYS AS (robian_public_source(source_url)) STORED;

-- A time as the API writes it (pydantic's form): UTC, seconds, microseconds only when there are any
CREATE FUNCTION robian_json_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;
