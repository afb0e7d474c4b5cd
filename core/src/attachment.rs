//! The file a message carries, read from and written into its content — one place that
//! knows which kinds carry files and where their fields are.

use flint_proto::wire::{self, message_content::Kind};
use prost::Message as _;

use crate::error::{Error, Result};
use crate::media::{Picture, Stills};
use crate::video::Clip;

/// The file of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The server's id ('' until uploaded).
    pub file_id: String,
    /// Its name ('' when the kind has none).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type as the sender stated it ('' when unknown).
    pub mime: String,
    /// How it is shown in a bubble.
    pub shown: Shown,
    /// The server's id of a video's poster ('' when it has none).
    pub poster_id: String,
}

/// How a message's file is shown in its bubble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// As a picture: thumbnails are made of it.
    Picture,
    /// As a video, by its poster.
    Video,
    /// As sound (a voice message): played, nothing to draw.
    Sound,
    /// By its name: nothing to draw.
    Other,
}

impl Shown {
    /// Whether a file shown this way is fetched as soon as its message arrives, so that it
    /// plays at once (a voice message is small: about 180 KiB a minute). Pictures and
    /// posters are fetched when first drawn, anything else when the user asks.
    pub fn fetched_on_arrival(self) -> bool {
        self == Self::Sound
    }
}

/// The file a message's content carries, if any.
pub fn of(content: &[u8]) -> Option<Attachment> {
    let kind = wire::MessageContent::decode(content).ok()?.kind?;
    let no_poster = String::new;
    let (file_id, name, size, mime, shown, poster_id) = match kind {
        Kind::File(f) => (f.file_id, f.name, f.size, f.mime, Shown::Other, no_poster()),
        Kind::Image(i) => (
            i.file_id,
            i.name,
            i.size,
            i.mime,
            Shown::Picture,
            no_poster(),
        ),
        Kind::Voice(v) => (
            v.file_id,
            no_poster(),
            v.size,
            v.mime,
            Shown::Sound,
            no_poster(),
        ),
        Kind::Video(v) => (
            v.file_id,
            v.name,
            v.size,
            v.mime,
            Shown::Video,
            v.thumbnail_id,
        ),
        Kind::Sticker(s) => (
            s.file_id,
            no_poster(),
            s.size,
            s.mime,
            Shown::Picture,
            no_poster(),
        ),
        _ => return None,
    };
    Some(Attachment {
        file_id,
        name,
        size,
        mime,
        shown,
        poster_id,
    })
}

/// The tiny preview a picture's or video's content carries, if any.
pub fn preview(content: &[u8]) -> Option<Vec<u8>> {
    let preview = match wire::MessageContent::decode(content).ok()?.kind? {
        Kind::Image(image) => image.preview,
        Kind::Video(video) => video.preview,
        _ => return None,
    };
    (!preview.is_empty()).then_some(preview)
}

/// How a file is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// As a picture.
    Picture(Picture),
    /// As a video played in the chat, with its poster when its first picture was decoded.
    Video {
        /// Its length and size.
        clip: Clip,
        /// Its first picture's preview and thumbnail.
        poster: Option<Stills>,
    },
    /// As a voice message: its length and waveform.
    Voice {
        /// Its length in milliseconds.
        duration_ms: u32,
        /// Its loudness, one byte (0–255) per bar.
        waveform: Vec<u8>,
    },
    /// As a file.
    File,
}

/// The content of a message sending a file, as it looks.
pub fn content(name: String, size: u64, mime: String, look: &Look) -> Vec<u8> {
    let kind = match look {
        Look::Picture(picture) => Kind::Image(wire::Image {
            file_id: String::new(),
            mime: picture.mime.clone(),
            width: picture.width,
            height: picture.height,
            size,
            thumbnail_id: String::new(),
            preview: picture.preview.clone(),
            name,
        }),
        Look::Video { clip, poster } => Kind::Video(wire::Video {
            duration_ms: clip.duration_ms,
            width: clip.width,
            height: clip.height,
            size,
            name,
            mime,
            preview: poster
                .as_ref()
                .map(|stills| stills.preview.clone())
                .unwrap_or_default(),
            ..Default::default()
        }),
        Look::Voice {
            duration_ms,
            waveform,
        } => Kind::Voice(wire::Voice {
            file_id: String::new(),
            duration_ms: *duration_ms,
            size,
            waveform: waveform.clone(),
            mime,
        }),
        Look::File => Kind::File(wire::File {
            file_id: String::new(),
            name,
            mime,
            size,
        }),
    };
    wire::MessageContent { kind: Some(kind) }.encode_to_vec()
}

/// Puts the server's file id into the content of a message whose file is uploaded.
pub fn with_file_id(content: &[u8], file_id: &str) -> Result<Vec<u8>> {
    let mut decoded = decoded(content)?;
    let slot = match decoded.kind.as_mut() {
        Some(Kind::File(file)) => &mut file.file_id,
        Some(Kind::Image(image)) => &mut image.file_id,
        Some(Kind::Voice(voice)) => &mut voice.file_id,
        Some(Kind::Video(video)) => &mut video.file_id,
        _ => return Err(Error::Invalid("the message has no file".into())),
    };
    file_id.clone_into(slot);
    Ok(decoded.encode_to_vec())
}

/// Puts the server's id of its uploaded poster into a video message's content.
pub fn with_poster_id(content: &[u8], poster_id: &str) -> Result<Vec<u8>> {
    let mut decoded = decoded(content)?;
    let Some(Kind::Video(video)) = decoded.kind.as_mut() else {
        return Err(Error::Invalid("the message is not a video".into()));
    };
    poster_id.clone_into(&mut video.thumbnail_id);
    Ok(decoded.encode_to_vec())
}

/// A stored message's content, decoded.
fn decoded(content: &[u8]) -> Result<wire::MessageContent> {
    wire::MessageContent::decode(content)
        .map_err(|e| Error::Protocol(format!("stored content: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_id_goes_where_each_kind_keeps_it() {
        let file = content("报告.pdf".into(), 10, "application/pdf".into(), &Look::File);
        let sent = with_file_id(&file, "ab").unwrap();
        let found = of(&sent).unwrap();
        assert_eq!(
            (found.file_id.as_str(), found.name.as_str(), found.size),
            ("ab", "报告.pdf", 10)
        );
        assert_eq!(found.shown, Shown::Other);

        let picture = Picture {
            mime: "image/png".into(),
            width: 2,
            height: 1,
            preview: vec![1],
            thumbnail: vec![2],
        };
        let image = with_file_id(
            &content("a.png".into(), 5, String::new(), &Look::Picture(picture)),
            "cd",
        )
        .unwrap();
        let found = of(&image).unwrap();
        assert_eq!(found.shown, Shown::Picture);
        assert_eq!(
            (found.file_id.as_str(), found.mime.as_str()),
            ("cd", "image/png")
        );

        let clip = Clip {
            duration_ms: 1500,
            width: 360,
            height: 640,
        };
        let video = with_file_id(
            &content(
                "会议.mp4".into(),
                9,
                "video/mp4".into(),
                &Look::Video { clip, poster: None },
            ),
            "ef",
        )
        .unwrap();
        let Some(Kind::Video(sent)) = wire::MessageContent::decode(&video[..]).unwrap().kind else {
            panic!("a clip goes as a video");
        };
        assert_eq!(
            (
                sent.file_id.as_str(),
                sent.duration_ms,
                sent.width,
                sent.height
            ),
            ("ef", 1500, 360, 640)
        );
        assert_eq!(
            (sent.name.as_str(), sent.mime.as_str(), sent.size),
            ("会议.mp4", "video/mp4", 9)
        );
        let with_poster = with_poster_id(&video, "0f").unwrap();
        let found = of(&with_poster).unwrap();
        assert_eq!(
            (
                found.shown,
                found.file_id.as_str(),
                found.poster_id.as_str()
            ),
            (Shown::Video, "ef", "0f")
        );
        assert!(
            with_poster_id(&image, "0f").is_err(),
            "only videos have posters"
        );

        let text = wire::MessageContent {
            kind: Some(Kind::Text(wire::Text::default())),
        }
        .encode_to_vec();
        assert_eq!(of(&text), None);
        assert!(with_file_id(&text, "x").is_err());
    }

    #[test]
    fn only_a_voice_message_is_fetched_as_it_arrives() {
        let voice = Look::Voice {
            duration_ms: 1_000,
            waveform: vec![0; 48],
        };
        let sent =
            with_file_id(&content(String::new(), 4, "audio/ogg".into(), &voice), "ab").unwrap();
        let found = of(&sent).unwrap();
        assert_eq!((found.shown, found.file_id.as_str()), (Shown::Sound, "ab"));
        assert!(found.shown.fetched_on_arrival());
        for other in [Shown::Picture, Shown::Video, Shown::Other] {
            assert!(!other.fetched_on_arrival(), "{other:?}");
        }
    }
}
