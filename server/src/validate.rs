//! Input rules shared by REST and the WebSocket gateway. Each returns the cleaned value or a
//! `BadRequest`/`TooLarge` that says what is wrong.

use flint_proto::wire::{self, message_content::Kind};
use prost::Message as _;

use crate::config::Limits;
use crate::error::AppError;

/// 2–32 letters (any script), digits, `_`, `.` or `-`.
pub fn username(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    let length = name.chars().count();
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !(2..=32).contains(&length) || !name.chars().all(allowed) {
        return Err(AppError::BadRequest(
            "username must be 2–32 letters, digits, '_', '.' or '-'".into(),
        ));
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

/// Up to 64 printable characters; the username when empty.
pub fn display_name(raw: &str, username: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(username.to_owned());
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "display name must be at most 64 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
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

/// 1–64 characters, no control characters.
pub fn group_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "group name must be 1–64 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// A client id is a 16-byte UUID.
pub fn client_id(raw: &[u8]) -> Result<(), AppError> {
    if raw.len() != 16 {
        return Err(AppError::BadRequest("client_id must be 16 bytes".into()));
    }
    Ok(())
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

/// Content a client may send: decodable, not a system notice, text within the limit.
/// Kinds this server does not know are accepted as they are and stored unchanged.
pub fn content(raw: &[u8], limits: &Limits) -> Result<(), AppError> {
    if raw.is_empty() {
        return Err(AppError::BadRequest("message content is empty".into()));
    }
    let content = wire::MessageContent::decode(raw)
        .map_err(|_| AppError::BadRequest("message content is not valid protobuf".into()))?;
    match content.kind {
        Some(Kind::System(_)) => Err(AppError::BadRequest(
            "system notices are written by the server only".into(),
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
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_accept_cjk_and_reject_spaces() {
        assert_eq!(username(" 张伟 ").unwrap(), "张伟");
        assert!(username("a b").is_err());
        assert!(username("x").is_err());
        assert!(username(&"a".repeat(33)).is_err());
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
        assert!(content(&text("你好吗"), &limits).is_ok());
        assert!(matches!(
            content(&text("你好吗?"), &limits),
            Err(AppError::TooLarge(_))
        ));
        assert!(content(&text("  "), &limits).is_err());
        assert!(content(&[0xff, 0xff], &limits).is_err());
    }

    #[test]
    fn unknown_content_kinds_are_kept() {
        // Field 99 of MessageContent: a kind from a newer protocol.
        let unknown = [0x9a, 0x06, 0x01, 0x41];
        assert!(content(&unknown, &Limits::default()).is_ok());
    }
}
