-- One account's cache: its conversations, members, messages, outbox, drafts and sync state.

-- Small facts about the account: session token, device id, user, last synced seq.
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL,
    display_name TEXT NOT NULL
);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    kind              INTEGER NOT NULL DEFAULT 1,
    name              TEXT    NOT NULL DEFAULT '',
    is_member         INTEGER NOT NULL DEFAULT 1,
    last_activity_ms  INTEGER NOT NULL DEFAULT 0,
    -- Own read marker as this device knows it, and the part the server has confirmed.
    read_up_to        INTEGER NOT NULL DEFAULT 0,
    read_synced_up_to INTEGER NOT NULL DEFAULT 0,
    -- Messages from others after read_up_to, kept as a counter so the list never counts rows.
    unread            INTEGER NOT NULL DEFAULT 0,
    pinned            INTEGER NOT NULL DEFAULT 0,
    muted             INTEGER NOT NULL DEFAULT 0,
    -- Set when a message arrives for an unknown conversation or a notice changes it.
    needs_refresh     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    role            INTEGER NOT NULL DEFAULT 0,
    delivered_up_to INTEGER NOT NULL DEFAULT 0,
    read_up_to      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- sort_key is the server id once known; while sending it is PENDING_BASE + local_id, so
-- unsent messages sort after every stored one.
CREATE TABLE messages (
    local_id        INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    server_id       INTEGER UNIQUE,
    sender_id       INTEGER NOT NULL,
    client_id       BLOB    NOT NULL,
    sort_key        INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    content         BLOB    NOT NULL,
    -- 0 sending, 1 stored by the server, 2 failed.
    state           INTEGER NOT NULL,
    UNIQUE (sender_id, client_id)
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, sort_key);

-- Messages waiting for the server's acknowledgement, sent oldest first.
CREATE TABLE outbox (
    local_id   INTEGER PRIMARY KEY REFERENCES messages(local_id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);

CREATE TABLE drafts (
    conversation_id INTEGER PRIMARY KEY,
    text            TEXT    NOT NULL,
    updated_at_ms   INTEGER NOT NULL
);
