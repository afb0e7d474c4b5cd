//! The pictures the user keeps as stickers. The server holds the list (so every device of
//! the account has the same panel); this module remembers the last list it fetched (the
//! panel's pictures and sends are looked up in it), says which messages can be kept, and
//! writes a sticker message's content.

use std::sync::Mutex;

use flint_proto::api::Sticker;
use flint_proto::files::MAX_STICKER_BYTES;
use flint_proto::wire::{self, message_content::Kind};
use prost::Message as _;

use crate::attachment::{self, Shown};
use crate::error::{Error, Result};

/// The pack a kept picture is sent from (the proto names packs; a user's own stickers are
/// one pack of their own).
pub const KEPT_PACK: &str = "kept";

/// The list of stickers last fetched from the server, newest first.
#[derive(Debug, Default)]
pub struct Stickers {
    known: Mutex<Vec<Sticker>>,
}

impl Stickers {
    /// Remembers the list the server answered.
    pub fn remember(&self, stickers: &[Sticker]) {
        *self.lock() = stickers.to_vec();
    }

    /// A sticker of the list, by its file.
    pub fn find(&self, file_id: &str) -> Option<Sticker> {
        self.lock().iter().find(|s| s.file_id == file_id).cloned()
    }

    /// Puts a sticker just kept (or kept again) first.
    pub fn put_first(&self, sticker: Sticker) {
        let mut known = self.lock();
        known.retain(|s| s.file_id != sticker.file_id);
        known.insert(0, sticker);
    }

    /// Forgets a removed sticker.
    pub fn forget(&self, file_id: &str) {
        self.lock().retain(|s| s.file_id != file_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sticker>> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The file of a message's picture that can be kept as a sticker: a picture or a sticker,
/// uploaded, within [`MAX_STICKER_BYTES`].
pub fn keepable(content: &[u8]) -> Result<String> {
    let found = attachment::of(content)
        .filter(|found| found.shown == Shown::Picture && !found.file_id.is_empty())
        .ok_or_else(|| Error::Invalid("only a sent picture can be kept as a sticker".into()))?;
    if found.size > MAX_STICKER_BYTES {
        return Err(Error::TooLarge(format!(
            "a sticker is at most {} MiB; this picture has {:.1} MiB",
            MAX_STICKER_BYTES >> 20,
            found.size as f64 / f64::from(1 << 20)
        )));
    }
    Ok(found.file_id)
}

/// The content of a message that sends `sticker`.
pub fn content(sticker: &Sticker) -> Vec<u8> {
    wire::MessageContent {
        kind: Some(Kind::Sticker(wire::Sticker {
            pack_id: KEPT_PACK.into(),
            sticker_id: sticker.file_id.clone(),
            file_id: sticker.file_id.clone(),
            size: sticker.size,
            width: sticker.width,
            height: sticker.height,
            mime: sticker.mime.clone(),
        })),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sticker(file_id: &str) -> Sticker {
        Sticker {
            file_id: file_id.into(),
            size: 2_000,
            width: 120,
            height: 80,
            mime: "image/gif".into(),
        }
    }

    fn image(file_id: &str, size: u64) -> Vec<u8> {
        wire::MessageContent {
            kind: Some(Kind::Image(wire::Image {
                file_id: file_id.into(),
                size,
                ..Default::default()
            })),
        }
        .encode_to_vec()
    }

    #[test]
    fn a_sticker_kept_again_moves_first_and_a_removed_one_is_forgotten() {
        let stickers = Stickers::default();
        stickers.remember(&[sticker("a"), sticker("b"), sticker("c")]);
        stickers.put_first(sticker("c"));
        stickers.forget("a");
        let order: Vec<String> = stickers.lock().iter().map(|s| s.file_id.clone()).collect();
        assert_eq!(order, ["c", "b"]);
        assert_eq!(stickers.find("b"), Some(sticker("b")));
        assert_eq!(stickers.find("a"), None);
    }

    #[test]
    fn only_sent_pictures_within_the_limit_can_be_kept() {
        assert_eq!(keepable(&image("f1", 1_000)).unwrap(), "f1");
        assert_eq!(keepable(&content(&sticker("f2"))).unwrap(), "f2");
        let unsent = keepable(&image("", 1_000)).unwrap_err();
        assert!(matches!(unsent, Error::Invalid(_)), "{unsent:?}");
        let large = keepable(&image("f3", MAX_STICKER_BYTES + 1)).unwrap_err();
        assert!(matches!(large, Error::TooLarge(_)), "{large:?}");
        let file = wire::MessageContent {
            kind: Some(Kind::File(wire::File {
                file_id: "f4".into(),
                ..Default::default()
            })),
        };
        assert!(keepable(&file.encode_to_vec()).is_err());
    }

    #[test]
    fn a_sticker_message_names_its_file_with_its_size() {
        let sent = wire::MessageContent::decode(content(&sticker("f")).as_slice()).unwrap();
        let Some(Kind::Sticker(sent)) = sent.kind else {
            panic!("not a sticker");
        };
        assert_eq!((sent.file_id.as_str(), sent.size), ("f", 2_000));
        assert_eq!(
            (sent.width, sent.height, sent.pack_id.as_str()),
            (120, 80, KEPT_PACK)
        );
    }
}
