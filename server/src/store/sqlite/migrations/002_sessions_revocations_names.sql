-- Sessions get a device name and a last use (idle sessions end); revocations tell the gateway
-- which open sockets to close; usernames get a look-alike key (filled in by the migration's
-- Rust step, which then makes it unique).

ALTER TABLE sessions ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at_ms INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at_ms = created_at_ms;

-- Every ended session, for the gateway to close its sockets (pruned after a day). The ids
-- never go back (AUTOINCREMENT), even when pruning empties the table: the gateway reads
-- "everything after the last id it saw".
CREATE TABLE revocations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL,
    at_ms      INTEGER NOT NULL
);

ALTER TABLE users ADD COLUMN name_key TEXT;
