-- The inbox seq each message arrived in (to tell, when the server rolls back, which messages
-- it lost), why a failed message failed, and when a queued message may be tried again.
ALTER TABLE messages ADD COLUMN seq INTEGER;
ALTER TABLE messages ADD COLUMN failure INTEGER;
ALTER TABLE outbox ADD COLUMN not_before_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_seq ON messages(seq) WHERE seq IS NOT NULL;
-- Messages stored before this migration have no seq; only later ones take part in finding
-- own messages the server lost.
INSERT INTO kv (key, value)
    SELECT 'seq_tracked_after', CAST(COALESCE(MAX(local_id), 0) AS TEXT) FROM messages;
CREATE INDEX messages_unseen_own ON messages(sender_id)
    WHERE seq IS NULL AND server_id IS NOT NULL;
