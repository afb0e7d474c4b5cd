-- The viewer steps through a conversation's pictures, loaded or not. An encoded
-- `MessageContent` starts with its kind's tag byte, and a picture's is 0x12 (field 2,
-- length-delimited): this index holds exactly the pictures, in conversation order, with no
-- column to fill for messages stored before it.
CREATE INDEX messages_pictures ON messages(conversation_id, sort_key)
    WHERE substr(content, 1, 1) = x'12';
