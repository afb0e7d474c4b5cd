-- Files of own messages on their way to the server. Such a message enters the outbox only
-- once its upload is done; the row keeps what resuming needs across restarts.
CREATE TABLE uploads (
    local_id      INTEGER PRIMARY KEY REFERENCES messages(local_id) ON DELETE CASCADE,
    -- The file on this device.
    path          TEXT    NOT NULL,
    -- SHA-256 of the file, once computed.
    sha256        BLOB,
    -- The upload on the server, once created.
    location      TEXT,
    -- Bytes sent over all attempts.
    bytes_sent    INTEGER NOT NULL DEFAULT 0,
    -- Failed transient attempts, and when the next may start (ms since the epoch).
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0,
    -- 0 once the upload failed for good (the message shows failed; retry re-arms it).
    active        INTEGER NOT NULL DEFAULT 1
);

-- Where the file of an own message came from on this device (shown and opened from there
-- while it exists, instead of downloading it back).
CREATE TABLE sources (
    local_id INTEGER PRIMARY KEY REFERENCES messages(local_id) ON DELETE CASCADE,
    path     TEXT    NOT NULL
);

-- Files this device keeps in its media folder (downloads, thumbnails), for evicting the
-- least recently used past the cache's size.
CREATE TABLE media_cache (
    path       TEXT    PRIMARY KEY,
    bytes      INTEGER NOT NULL,
    used_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_cache_by_use ON media_cache(used_at_ms);
