//! The file a message carries, read from and written into its content — one place that
//! knows which kinds carry files and where their fields are.

use flint_proto::wire::{self, message_content::Kind};
use prost::Message as _;

use crate::error::{Error, Result};
use crate::media::Picture;
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
    /// Whether it is a picture (thumbnails are made of it).
    pub is_picture: bool,
}

/// The file a message's content carries, if any.
pub fn of(content: &[u8]) -> Option<Attachment> {
    let kind = wire::MessageContent::decode(content).ok()?.kind?;
    let (file_id, name, size, mime, is_picture) = match kind {
        Kind::File(f) => (f.file_id, f.name, f.size, f.mime, false),
        Kind::Image(i) => (i.file_id, i.name, i.size, i.mime, true),
        Kind::Voice(v) => (v.file_id, String::new(), v.size, v.mime, false),
        Kind::Video(v) => (v.file_id, v.name, v.size, v.mime, false),
        Kind::Sticker(s) => (s.file_id, String::new(), s.size, s.mime, true),
        _ => return None,
    };
    Some(Attachment {
        file_id,
        name,
        size,
        mime,
        is_picture,
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
    /// As a video played in the chat.
    Video(Clip),
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
        Look::Video(clip) => Kind::Video(wire::Video {
            duration_ms: clip.duration_ms,
            width: clip.width,
            height: clip.height,
            size,
            name,
            mime,
            ..Default::default()
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
    let mut decoded = wire::MessageContent::decode(content)
        .map_err(|e| Error::Protocol(format!("stored content: {e}")))?;
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
        assert!(!found.is_picture);

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
        assert!(found.is_picture);
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
            &content("会议.mp4".into(), 9, "video/mp4".into(), &Look::Video(clip)),
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

        let text = wire::MessageContent {
            kind: Some(Kind::Text(wire::Text::default())),
        }
        .encode_to_vec();
        assert_eq!(of(&text), None);
        assert!(with_file_id(&text, "x").is_err());
    }
}
