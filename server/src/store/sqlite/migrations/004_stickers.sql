-- Pictures each user keeps as stickers, to send again from the composer's sticker panel.
-- A kept sticker stays downloadable by its keeper, and is not collected, after they leave
-- the conversation it came from.
CREATE TABLE stickers (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    file_id     TEXT    NOT NULL REFERENCES files(id),
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, file_id)
) WITHOUT ROWID;
CREATE INDEX stickers_by_file ON stickers(file_id);
