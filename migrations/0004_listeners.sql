-- Listeners: anonymous devices grouped into owners (accounts), pairing codes, favorites,
-- collections, playback progress, and the play rollups the stats read.

-- An owner is the person: devices paired together share one owner and all its data.
CREATE TABLE owners (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    -- sha256 of the bearer token: a database leak yields no usable token
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX devices_owner_idx ON devices (owner_id) WHERE revoked_at IS NULL;

-- Short single-use codes linking a device to another device's owner.
CREATE TABLE pairing_codes (
    code_hash  bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    owner_id   uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    device_id  uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX pairing_codes_device_idx ON pairing_codes (device_id);
CREATE INDEX pairing_codes_expires_idx ON pairing_codes (expires_at);

CREATE TABLE favorites (
    owner_id   uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    debate_id  uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, debate_id)
);
CREATE INDEX favorites_owner_added_idx ON favorites (owner_id, added_at DESC, debate_id DESC);

CREATE TABLE collections (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collections_owner_idx ON collections (owner_id, updated_at DESC);

-- Ordered items; the same debate may appear twice (two passages of one sitting).
CREATE TABLE collection_items (
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    position      integer NOT NULL CHECK (position >= 0),
    debate_id     uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    start_s       double precision CHECK (start_s IS NULL OR start_s >= 0),
    PRIMARY KEY (collection_id, position)
);
CREATE INDEX collection_items_debate_idx ON collection_items (debate_id);

-- One row per owner and debate. client_updated_at orders writes (last writer wins);
-- server_updated_at is when the server accepted the current row (listeners now).
CREATE TABLE progress (
    owner_id          uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    debate_id         uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    position          double precision NOT NULL CHECK (position >= 0),
    duration          double precision CHECK (duration IS NULL OR duration > 0),
    client_updated_at timestamptz NOT NULL,
    device_id         uuid REFERENCES devices (id) ON DELETE SET NULL,
    server_updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, debate_id)
);
CREATE INDEX progress_owner_recent_idx ON progress (owner_id, client_updated_at DESC, debate_id DESC);
CREATE INDEX progress_server_updated_idx ON progress (server_updated_at);

-- A play is the first progress write of an owner for a debate in a (UTC) day: this table
-- remembers which plays were counted, so replays and later writes count nothing twice.
CREATE TABLE owner_plays (
    owner_id  uuid NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    debate_id uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    day       date NOT NULL,
    PRIMARY KEY (owner_id, debate_id, day)
);

-- Hourly rollup updated by progress writes: stats read a few hundred rows, never the progress table.
CREATE TABLE plays_hourly (
    debate_id uuid NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    hour      timestamptz NOT NULL,            -- start of a UTC hour
    plays     integer NOT NULL DEFAULT 0 CHECK (plays >= 0),
    seconds   double precision NOT NULL DEFAULT 0 CHECK (seconds >= 0),
    PRIMARY KEY (debate_id, hour)
);
CREATE INDEX plays_hourly_hour_idx ON plays_hourly (hour);
