-- Files: content-addressed blobs, the files people uploaded (one row per upload, pointing at
-- a blob), the conversations each file was sent to (who may download it), and uploads in
-- progress.

-- Content held by the blob store, once per SHA-256.
CREATE TABLE blobs (
    sha256 BLOB    PRIMARY KEY,
    size   INTEGER NOT NULL,
    -- What the content is, decided by sniffing it (never from a name).
    mime   TEXT    NOT NULL,
    width  INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A file as uploaded by one user; its id is random (unguessable) and is what messages carry.
CREATE TABLE files (
    id            TEXT    PRIMARY KEY,
    owner_id      INTEGER NOT NULL REFERENCES users(id),
    sha256        BLOB    NOT NULL REFERENCES blobs(sha256),
    name          TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX files_by_owner ON files(owner_id);
CREATE INDEX files_by_sha256 ON files(sha256);

-- The conversations a file was sent to: their members may download it.
CREATE TABLE file_refs (
    file_id         TEXT    NOT NULL REFERENCES files(id),
    conversation_id INTEGER NOT NULL,
    PRIMARY KEY (file_id, conversation_id)
) WITHOUT ROWID;

-- Uploads in progress (and completed ones until they expire, so a client that lost the
-- answer of its last chunk can still learn the file id). The bytes received so far are the
-- staging file named by the id; their count is the upload's offset.
CREATE TABLE uploads (
    id            TEXT    PRIMARY KEY,
    owner_id      INTEGER NOT NULL REFERENCES users(id),
    length        INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    -- Hex SHA-256 the sender declared for the whole file ('' when none).
    sha256_hex    TEXT    NOT NULL DEFAULT '',
    -- The range a possession proof must hash (proof_len 0: no proof offered).
    proof_start   INTEGER NOT NULL DEFAULT 0,
    proof_len     INTEGER NOT NULL DEFAULT 0,
    file_id       TEXT,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_by_owner ON uploads(owner_id);
CREATE INDEX uploads_by_expiry ON uploads(expires_at_ms);
