//! Input rules shared by REST and the WebSocket gateway. Each returns the cleaned value or a
//! `BadRequest`/`TooLarge` that says what is wrong.

use flint_proto::wire::{self, message_content::Kind};
use prost::Message as _;
use unicode_normalization::UnicodeNormalization;
use unicode_security::GeneralSecurityProfile;
use unicode_width::UnicodeWidthStr;

use crate::config::Limits;
use crate::error::AppError;
use crate::store::FileRef;
use flint_proto::files;

/// A username as it is stored: NFKC-normalised (so `ａｄｍｉｎ` is `admin`), 3 to 32
/// characters wide (a CJK character counts as two, so `张伟` is allowed and `ab` is not) and at
/// most 32 characters; letters, digits, `_`, `.` or `-`, none of the characters Unicode's
/// security profile sets aside as obsolete or confusing in identifiers.
pub fn username(raw: &str) -> Result<String, AppError> {
    let name = normal_username(raw);
    let allowed =
        |c: char| (c.is_alphanumeric() || matches!(c, '_' | '.' | '-')) && c.identifier_allowed();
    let fits = name.width() >= 3 && name.chars().count() <= 32;
    if !fits || !name.chars().all(allowed) {
        return Err(AppError::BadRequest(
            "username must be 3–32 characters (2 CJK) of letters, digits, '_', '.' or '-'".into(),
        ));
    }
    Ok(name)
}

/// A username as typed, in the form names are stored in (NFKC, trimmed): what sign-in looks
/// up, so a name typed in full-width letters finds its account.
pub fn normal_username(raw: &str) -> String {
    raw.trim().nfkc().collect()
}

/// What two usernames share when they look alike: the Unicode confusable skeleton (UTS #39)
/// of the normalised name, lower-cased and taken again (capitals have look-alikes of their own:
/// `M`, Cyrillic `М` and Greek `Μ` all become `m`, which the second pass turns into `rn` like
/// every `m`). So `alice`, `Alice`, `аlice` (Cyrillic `а`), `aIice` and `a1ice` share one key,
/// and so do `mike` and `Мike`. Registration refuses a name whose key is taken.
pub fn username_key(name: &str) -> String {
    let normal: String = name.nfkc().collect();
    let once: String = unicode_security::skeleton(&normal).collect();
    unicode_security::skeleton(&once.to_lowercase()).collect()
}

/// Characters that change text direction or draw nothing: a name made of them (or hiding
/// behind them) misleads.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// A name shown to people (display name, group name): 1–64 characters after trimming, no
/// control or direction-changing characters, and something visible in it. A zero-width
/// joiner is allowed between visible characters (emoji sequences use it).
fn shown_name(raw: &str, what: &str) -> Result<String, AppError> {
    let name = raw.trim();
    let count = name.chars().count();
    let forbidden = |c: char| c.is_control() || (is_invisible_or_bidi(c) && c != '\u{200D}');
    let visible = name
        .chars()
        .any(|c| !c.is_whitespace() && !is_invisible_or_bidi(c) && !c.is_control());
    if count == 0 || count > 64 || name.chars().any(forbidden) || !visible {
        return Err(AppError::BadRequest(format!(
            "{what} must be 1–64 visible characters, without control or direction marks"
        )));
    }
    Ok(name.to_owned())
}

/// 8–128 characters.
pub fn password(raw: &str) -> Result<(), AppError> {
    if !(8..=128).contains(&raw.chars().count()) {
        return Err(AppError::BadRequest(
            "password must be 8–128 characters".into(),
        ));
    }
    Ok(())
}

/// A shown name (see [`shown_name`]); the username when empty.
pub fn display_name(raw: &str, username: &str) -> Result<String, AppError> {
    if raw.trim().is_empty() {
        return Ok(username.to_owned());
    }
    shown_name(raw, "display name")
}

/// 1–64 characters of `[A-Za-z0-9_-]`.
pub fn device_id(raw: &str) -> Result<String, AppError> {
    let ok = (1..=64).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !ok {
        return Err(AppError::BadRequest(
            "device_id must be 1–64 of [A-Za-z0-9_-]".into(),
        ));
    }
    Ok(raw.to_owned())
}

/// 1–64 characters after trimming.
pub fn search_query(raw: &str) -> Result<String, AppError> {
    let query = raw.trim();
    if query.is_empty() || query.chars().count() > 64 {
        return Err(AppError::BadRequest(
            "search query must be 1–64 characters".into(),
        ));
    }
    Ok(query.to_owned())
}

/// A shown name (see [`shown_name`]).
pub fn group_name(raw: &str) -> Result<String, AppError> {
    shown_name(raw, "group name")
}

/// What a device calls itself: up to 64 characters, control characters dropped.
pub fn device_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_or_bidi(*c))
        .take(64)
        .collect()
}

/// A client id is a 16-byte UUID.
pub fn client_id(raw: &[u8]) -> Result<(), AppError> {
    if raw.len() != 16 {
        return Err(AppError::BadRequest("client_id must be 16 bytes".into()));
    }
    Ok(())
}

/// Longest SDP relayed for a call, in bytes (a video offer with every codec is ~6 KiB).
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// Longest ICE candidate line or `mid`, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// Call signalling the server relays: a body, and text bounded in bytes.
pub fn call_signal(signal: &wire::CallSignal) -> Result<(), AppError> {
    use wire::call_signal::Body;
    let too_large =
        |what: &str, limit: usize| Err(AppError::TooLarge(format!("{what} is over {limit} bytes")));
    match &signal.body {
        None => Err(AppError::BadRequest("call signal has no body".into())),
        Some(Body::Description(description)) => {
            if description.kind() == wire::SdpKind::Unspecified {
                return Err(AppError::BadRequest(
                    "an SDP is an offer or an answer".into(),
                ));
            }
            if description.sdp.len() > MAX_SDP_BYTES {
                return too_large("the SDP", MAX_SDP_BYTES);
            }
            Ok(())
        }
        Some(Body::Candidate(candidate)) => {
            if candidate.candidate.len() > MAX_CANDIDATE_BYTES
                || candidate.sdp_mid.len() > MAX_CANDIDATE_BYTES
            {
                return too_large("the ICE candidate", MAX_CANDIDATE_BYTES);
            }
            Ok(())
        }
        Some(Body::MediaState(_)) => Ok(()),
    }
}

/// At most `limit` distinct user ids.
pub fn user_ids(raw: &[i64], limit: usize) -> Result<Vec<i64>, AppError> {
    let mut ids = raw.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > limit {
        return Err(AppError::TooLarge(format!("at most {limit} users at once")));
    }
    Ok(ids)
}

/// What the store must check about valid content beyond membership.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// The message a recall withdraws (the store checks it is the sender's own).
    pub recalls: Option<i64>,
    /// The files the message refers to (the store checks the sender may send them).
    pub files: Vec<FileRef>,
}

/// Content a client may send: decodable, not a system notice, text within the limit.
/// Kinds this server does not know are accepted as they are and stored unchanged.
pub fn content(raw: &[u8], limits: &Limits) -> Result<Checked, AppError> {
    if raw.is_empty() {
        return Err(AppError::BadRequest("message content is empty".into()));
    }
    let content = wire::MessageContent::decode(raw)
        .map_err(|_| AppError::BadRequest("message content is not valid protobuf".into()))?;
    match content.kind {
        Some(Kind::System(_)) => Err(AppError::BadRequest(
            "system notices are written by the server only".into(),
        )),
        Some(Kind::CallLog(_)) => Err(AppError::BadRequest(
            "call records are written by the server only".into(),
        )),
        Some(Kind::Text(text)) => {
            let chars = text.body.chars().count();
            if text.body.trim().is_empty() {
                Err(AppError::BadRequest("text message is empty".into()))
            } else if chars > limits.max_text_chars {
                Err(AppError::TooLarge(format!(
                    "text is {chars} characters; the limit is {}",
                    limits.max_text_chars
                )))
            } else {
                Ok(Checked::default())
            }
        }
        Some(Kind::Recall(recall)) => Ok(Checked {
            recalls: Some(recall.message_id),
            files: Vec::new(),
        }),
        Some(Kind::Image(image)) => {
            preview(&image.preview)?;
            shown_file_name_or_empty(&image.name)?;
            attachments(
                &image.file_id,
                image.size,
                Some("image"),
                &image.thumbnail_id,
            )
        }
        Some(Kind::File(file)) => {
            file_name(&file.name)?;
            attachments(&file.file_id, file.size, None, "")
        }
        Some(Kind::Voice(voice)) => {
            if voice.waveform.len() > files::MAX_WAVEFORM_BARS {
                return Err(AppError::TooLarge(format!(
                    "a waveform has at most {} bars",
                    files::MAX_WAVEFORM_BARS
                )));
            }
            attachments(&voice.file_id, voice.size, Some("audio"), "")
        }
        Some(Kind::Video(video)) => {
            preview(&video.preview)?;
            shown_file_name_or_empty(&video.name)?;
            attachments(
                &video.file_id,
                video.size,
                Some("video"),
                &video.thumbnail_id,
            )
        }
        Some(Kind::Sticker(sticker)) => {
            attachments(&sticker.file_id, sticker.size, Some("image"), "")
        }
        _ => Ok(Checked::default()),
    }
}

/// An inline preview within its size.
fn preview(bytes: &[u8]) -> Result<(), AppError> {
    if bytes.len() > files::MAX_PREVIEW_BYTES {
        return Err(AppError::TooLarge(format!(
            "an inline preview is {} bytes; the limit is {}",
            bytes.len(),
            files::MAX_PREVIEW_BYTES
        )));
    }
    Ok(())
}

/// A file a message names, with the size it states.
fn file_ref(
    file_id: &str,
    size: Option<u64>,
    family: Option<&'static str>,
) -> Result<FileRef, AppError> {
    Ok(FileRef {
        file_id: object_id(file_id, "file")?,
        size,
        family,
    })
}

/// The files of an attachment: the file itself (of `family`, when it is shown as media),
/// and its thumbnail (a picture) when it has one.
fn attachments(
    file_id: &str,
    size: u64,
    family: Option<&'static str>,
    thumbnail_id: &str,
) -> Result<Checked, AppError> {
    let mut files = vec![file_ref(file_id, Some(size), family)?];
    if !thumbnail_id.is_empty() {
        files.push(file_ref(thumbnail_id, None, Some("image"))?);
    }
    Ok(Checked {
        recalls: None,
        files,
    })
}

/// A file or upload id as the server makes them: 32 lowercase hex digits. Anything else is
/// as missing as an unknown id.
pub fn object_id(raw: &str, what: &'static str) -> Result<String, AppError> {
    if files::is_object_id(raw) {
        Ok(raw.to_owned())
    } else {
        Err(AppError::NotFound(what))
    }
}

/// A file's name as people see it: the last part of any path it came with (so `../x` is
/// `x`), without control characters, at most [`files::MAX_NAME_BYTES`] bytes, not empty.
pub fn file_name(raw: &str) -> Result<String, AppError> {
    if raw
        .chars()
        .any(|c| c.is_control() || (is_invisible_or_bidi(c) && c != '\u{200D}'))
    {
        return Err(AppError::BadRequest(
            "a file name may not hold control or direction-changing characters".into(),
        ));
    }
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(AppError::BadRequest("the file has no name".into()));
    }
    if base.len() > files::MAX_NAME_BYTES {
        return Err(AppError::TooLarge(format!(
            "a file name is at most {} bytes",
            files::MAX_NAME_BYTES
        )));
    }
    Ok(base.to_owned())
}

/// An optional file name (images and videos may come without one).
fn shown_file_name_or_empty(raw: &str) -> Result<(), AppError> {
    if raw.is_empty() {
        Ok(())
    } else {
        file_name(raw).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_accept_cjk_and_reject_spaces_and_short_names() {
        assert_eq!(username(" 张伟 ").unwrap(), "张伟");
        assert_eq!(username("bob").unwrap(), "bob");
        for bad in ["a b", "x", "ab", "张", "", "a\u{202E}bc"] {
            assert!(username(bad).is_err(), "{bad:?}");
        }
        assert!(username(&"a".repeat(33)).is_err());
        assert!(username(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn full_width_names_are_normalised_to_their_plain_form() {
        assert_eq!(username("ａｄｍｉｎ").unwrap(), "admin");
    }

    #[test]
    fn look_alike_names_share_a_key() {
        let latin = username_key("alice");
        for twin in ["аlice", "Alice", "aIice", "a1ice", "ａｌｉｃｅ"] {
            assert_eq!(username_key(twin), latin, "{twin}");
        }
        for twin in ["Мike", "Μike", "Mike", "rnike"] {
            assert_eq!(username_key(twin), username_key("mike"), "{twin}");
        }
        assert_ne!(username_key("alicia"), latin);
        assert_ne!(username_key("张伟"), username_key("张三"));
    }

    #[test]
    fn shown_names_need_something_visible_and_no_direction_marks() {
        assert_eq!(display_name("  王芳 ", "wf").unwrap(), "王芳");
        assert_eq!(display_name("", "wf").unwrap(), "wf");
        assert_eq!(
            display_name("👨\u{200D}👩\u{200D}👧", "wf").unwrap(),
            "👨\u{200D}👩\u{200D}👧"
        );
        for bad in [
            "\u{202E}",
            "\u{200B}\u{200B}",
            "evil\u{202E}gnp.exe",
            "\u{2066}x",
            "a\u{0007}",
        ] {
            assert!(display_name(bad, "wf").is_err(), "{bad:?}");
            assert!(group_name(bad).is_err(), "{bad:?}");
        }
        assert!(group_name("   ").is_err());
    }

    #[test]
    fn text_content_is_bounded() {
        let limits = Limits {
            max_text_chars: 3,
            ..Limits::default()
        };
        let text = |body: &str| {
            wire::MessageContent {
                kind: Some(Kind::Text(wire::Text {
                    body: body.into(),
                    ..Default::default()
                })),
            }
            .encode_to_vec()
        };
        assert_eq!(
            content(&text("你好吗"), &limits).unwrap(),
            Checked::default()
        );
        assert!(matches!(
            content(&text("你好吗?"), &limits),
            Err(AppError::TooLarge(_))
        ));
        assert!(content(&text("  "), &limits).is_err());
        assert!(content(&[0xff, 0xff], &limits).is_err());
    }

    #[test]
    fn a_recall_names_the_message_the_store_must_check() {
        let recall = wire::MessageContent {
            kind: Some(Kind::Recall(wire::Recall { message_id: 42 })),
        }
        .encode_to_vec();
        let checked = content(&recall, &Limits::default()).unwrap();
        assert_eq!(checked.recalls, Some(42));
    }

    #[test]
    fn unknown_content_kinds_are_kept() {
        // Field 99 of MessageContent: a kind from a newer protocol.
        let unknown = [0x9a, 0x06, 0x01, 0x41];
        assert!(content(&unknown, &Limits::default()).is_ok());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn names_are_judged_without_panicking_and_normalise_once(raw in "\\PC{0,40}") {
            if let Ok(name) = username(&raw) {
                prop_assert_eq!(username(&name).ok(), Some(name.clone()));
                prop_assert_eq!(username_key(&name), username_key(&normal_username(&raw)));
            }
            if let Ok(shown) = display_name(&raw, "fallback") {
                prop_assert!(!shown.chars().any(|c| c.is_control()));
                let bidi = shown.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'));
                prop_assert!(!bidi, "direction marks in {:?}", shown);
            }
        }

        #[test]
        fn any_bytes_as_content_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = content(&bytes, &Limits::default());
        }
    }
}
