-- Users, sessions, conversations, members, messages and per-user inboxes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    -- Highest inbox seq any device of the user acknowledged (delivery receipts).
    acked_seq     INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);

-- One session per (user, device); the token itself is never stored, only its SHA-256.
CREATE TABLE sessions (
    token_hash    BLOB    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id     TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX sessions_by_device ON sessions(user_id, device_id);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    kind          INTEGER NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL
);

-- The direct conversation of each pair of users, keyed by (smaller id, larger id).
CREATE TABLE direct_pairs (
    low_user_id     INTEGER NOT NULL,
    high_user_id    INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    PRIMARY KEY (low_user_id, high_user_id)
) WITHOUT ROWID;

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    role            INTEGER NOT NULL DEFAULT 0,
    delivered_up_to INTEGER NOT NULL DEFAULT 0,
    read_up_to      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id);

-- Message ids only grow, so they order the messages of a conversation.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    sender_id       INTEGER NOT NULL,
    client_id       BLOB    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    content         BLOB    NOT NULL
);
CREATE UNIQUE INDEX messages_dedup ON messages(sender_id, client_id);

-- Each user's timeline: seq is gap-free per user and written in the message's transaction.
CREATE TABLE inbox (
    user_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
