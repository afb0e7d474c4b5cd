//! What the user is told when an action on a message's file fails (open, show in folder,
//! save, copy, download), a voice message cannot be recorded, a sticker cannot be kept or a
//! call cannot be placed: one
//! line of words for each kind of failure, over plain data.

use flint_proto::ErrorCode;

/// An action on a message's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAction {
    /// Open it with the system's application.
    Open,
    /// Show it in the file manager.
    Reveal,
    /// Save a copy elsewhere.
    Save,
    /// Put the picture on the clipboard.
    Copy,
}

/// The words (an i18n key) for a failed file action; `None` when there is nothing to tell
/// (the user stopped the download themselves).
pub fn file_problem(action: FileAction, code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::Cancelled => return None,
        ErrorCode::NotFound | ErrorCode::Forbidden => "problem.file_gone",
        ErrorCode::Unavailable => "problem.offline",
        ErrorCode::ChecksumMismatch => "problem.file_damaged",
        _ => match action {
            FileAction::Open => "problem.cannot_open",
            FileAction::Reveal => "problem.cannot_reveal",
            FileAction::Save => "problem.cannot_save",
            FileAction::Copy => "problem.cannot_copy",
        },
    })
}

/// The words (an i18n key) for a voice message that could not be recorded or sent.
pub fn voice_problem(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NoDevice => "problem.no_microphone",
        _ => "problem.voice_failed",
    }
}

/// The words (an i18n key) for a picture that could not be kept as a sticker, or a sticker
/// that could not be sent or removed.
pub fn sticker_problem(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::TooLarge => "problem.sticker_too_large",
        ErrorCode::Unavailable => "problem.offline",
        ErrorCode::NotFound | ErrorCode::Forbidden => "problem.file_gone",
        _ => "problem.sticker_failed",
    }
}

/// The words (an i18n key) for a call that could not be placed.
pub fn call_problem(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Busy => "problem.peer_busy",
        ErrorCode::Unavailable => "problem.call_offline",
        ErrorCode::NoDevice => "problem.no_microphone",
        _ => "problem.call_failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_call_says_why() {
        assert_eq!(call_problem(ErrorCode::Busy), "problem.peer_busy");
        assert_eq!(call_problem(ErrorCode::Unavailable), "problem.call_offline");
        assert_eq!(call_problem(ErrorCode::Forbidden), "problem.call_failed");
    }

    #[test]
    fn a_picture_too_large_for_a_sticker_is_told_as_such() {
        let told = sticker_problem(ErrorCode::TooLarge);
        assert_eq!(told, "problem.sticker_too_large");
        assert_eq!(
            sticker_problem(ErrorCode::BadRequest),
            "problem.sticker_failed"
        );
    }

    #[test]
    fn no_microphone_is_told_as_such() {
        assert_eq!(voice_problem(ErrorCode::NoDevice), "problem.no_microphone");
        assert_eq!(voice_problem(ErrorCode::Internal), "problem.voice_failed");
    }

    #[test]
    fn a_download_the_user_stopped_is_not_a_problem() {
        assert_eq!(file_problem(FileAction::Open, ErrorCode::Cancelled), None);
    }

    #[test]
    fn the_cause_is_told_before_the_action() {
        assert_eq!(
            file_problem(FileAction::Save, ErrorCode::NotFound),
            Some("problem.file_gone")
        );
        assert_eq!(
            file_problem(FileAction::Reveal, ErrorCode::Unavailable),
            Some("problem.offline")
        );
        assert_eq!(
            file_problem(FileAction::Open, ErrorCode::Internal),
            Some("problem.cannot_open")
        );
        assert_eq!(
            file_problem(FileAction::Save, ErrorCode::Internal),
            Some("problem.cannot_save")
        );
        assert_eq!(
            file_problem(FileAction::Copy, ErrorCode::BadRequest),
            Some("problem.cannot_copy")
        );
    }
}
