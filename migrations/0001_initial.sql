-- First schema: debates and their published versions, chapters, speakers, programme, jobs.
-- Enumerations are text + CHECK so that adding a value is a one-line migration.

-- Accent folding for search. The `unaccent` extension is absent from the embedded PostgreSQL
-- build, so this IMMUTABLE function (usable in generated columns and indexes) covers French.
CREATE FUNCTION robian_unaccent(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lower(replace(replace(replace(replace(translate(t,
        'àâäáãåçèéêëìíîïñòóôõöùúûüýÿÀÂÄÁÃÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ',
        'aaaaaaceeeeiiiinooooouuuuyyaaaaaaceeeeiiiinooooouuuuyy'),
        'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'))
$$;

CREATE TABLE speakers (
    id           text PRIMARY KEY,            -- AN acteur id (PA…) or a stable local id for others
    name         text NOT NULL CHECK (name <> ''),
    group_id     text,                        -- organe (PO…) of the political group
    group_name   text,
    group_abbrev text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    name_key     text GENERATED ALWAYS AS (robian_unaccent(name)) STORED,
    search       tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', robian_unaccent(name || ' ' || coalesce(group_name, '') || ' ' || coalesce(group_abbrev, '')))
    ) STORED
);
CREATE INDEX speakers_name_key_idx ON speakers (name_key text_pattern_ops);
CREATE INDEX speakers_search_idx ON speakers USING gin (search);

CREATE TABLE debates (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL CHECK (title <> ''),
    chamber          text NOT NULL DEFAULT 'AN',
    body             text,                    -- séance publique, a commission…
    description      text,
    starts_at        timestamptz,
    duration         double precision CHECK (duration IS NULL OR duration >= 0),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'processing', 'published', 'failed', 'live', 'cancelled')),
    source_url       text NOT NULL,
    source_key       text NOT NULL UNIQUE,    -- normalised source URL: the idempotency key of ingest
    compte_rendu_url text,
    agenda_uid       text,                    -- réunion uid (RU…) when known
    current_version  integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('french', robian_unaccent(title)), 'A')
        || setweight(to_tsvector('french', robian_unaccent(coalesce(body, ''))), 'B')
        || setweight(to_tsvector('french', robian_unaccent(coalesce(description, ''))), 'C')
    ) STORED
);
-- keyset pagination: newest sitting first, id breaks ties
CREATE INDEX debates_starts_at_idx ON debates (starts_at DESC NULLS LAST, id DESC);
CREATE INDEX debates_status_idx ON debates (status);
CREATE INDEX debates_chamber_body_idx ON debates (chamber, body);
CREATE INDEX debates_agenda_uid_idx ON debates (agenda_uid);
CREATE INDEX debates_search_idx ON debates USING gin (search);

-- one row per packaged version of a debate ({media_root}/{debate}/v{n}/)
CREATE TABLE renditions (
    debate_id    uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    version      integer NOT NULL CHECK (version > 0),
    status       text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'published', 'retired')),
    duration     double precision,
    variants     jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (debate_id, version)
);

CREATE TABLE chapters (
    debate_id     uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    idx           integer NOT NULL CHECK (idx >= 0),
    start_s       double precision NOT NULL CHECK (start_s >= 0),
    end_s         double precision NOT NULL,
    speaker_id    text REFERENCES speakers (id) ON DELETE SET NULL,
    speaker_name  text,
    speaker_group text,
    title         text,
    search        tsvector GENERATED ALWAYS AS (
        to_tsvector('french', robian_unaccent(coalesce(title, '') || ' ' || coalesce(speaker_name, '')))
    ) STORED,
    PRIMARY KEY (debate_id, idx),
    CHECK (end_s >= start_s)
);
CREATE INDEX chapters_speaker_idx ON chapters (speaker_id, debate_id);
CREATE INDEX chapters_search_idx ON chapters USING gin (search);

CREATE TABLE programme_items (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agenda_uid  text UNIQUE,                  -- réunion uid (RU…)
    day         date NOT NULL,
    starts_at   timestamptz,
    ends_at     timestamptz,
    title       text NOT NULL,
    body        text,
    location    text,
    topics      jsonb NOT NULL DEFAULT '[]',
    debate_id   uuid REFERENCES debates (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX programme_items_day_idx ON programme_items (day, starts_at);

CREATE TABLE jobs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('ingest', 'live')),
    status      text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage       text CHECK (stage IN ('fetching', 'probing', 'packaging', 'publishing')),
    progress    double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    error       text,
    debate_id   uuid REFERENCES debates (id) ON DELETE CASCADE,
    params      jsonb NOT NULL DEFAULT '{}',
    queue_job_id bigint,                      -- the job queue's own id
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_debate_idx ON jobs (debate_id, created_at DESC);
CREATE INDEX jobs_status_idx ON jobs (status) WHERE status IN ('queued', 'running');
