-- Files of messages this device is fetching: a download cut off by a restart or a lost
-- connection carries on by itself from what its `.part` file holds, until it is done, the
-- user cancels it or the server refuses it.
CREATE TABLE downloads (
    local_id      INTEGER PRIMARY KEY REFERENCES messages(local_id) ON DELETE CASCADE,
    -- Failed transient attempts, and when the next may start (ms since the epoch).
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0
);
