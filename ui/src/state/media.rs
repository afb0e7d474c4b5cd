//! Rules for pictures and files in the message list, over plain data: how large a picture's
//! bubble (or a sticker) is before it loads, what kind of file a name is, how far an upload has come.

/// Longest side of a picture's bubble, in CSS pixels.
pub const BUBBLE_SIDE: u32 = 240;
/// Shortest side a picture's bubble keeps (so a thin strip stays clickable).
const MIN_SIDE: u32 = 48;

/// Longest side of a sticker, in CSS pixels.
pub const STICKER_SIDE: u32 = 160;

/// The bubble's size for a picture of `width` × `height`: its shape, within [`BUBBLE_SIDE`],
/// never enlarged; a square when the size is unknown.
pub fn bubble_size(width: u32, height: u32) -> (u32, u32) {
    fit_within(width, height, BUBBLE_SIDE)
}

/// A sticker's size: as a picture's, within [`STICKER_SIDE`].
pub fn sticker_size(width: u32, height: u32) -> (u32, u32) {
    fit_within(width, height, STICKER_SIDE)
}

fn fit_within(width: u32, height: u32, longest: u32) -> (u32, u32) {
    if width == 0 || height == 0 {
        return (longest / 2, longest / 2);
    }
    let scale = (longest as f64 / width.max(height) as f64).min(1.0);
    let fit = |side: u32| ((side as f64 * scale).round() as u32).max(MIN_SIDE);
    (fit(width), fit(height))
}

/// What kind of file a name is, for its icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Word processing, PDF, plain text.
    Document,
    /// Spreadsheets.
    Sheet,
    /// Slides.
    Slides,
    /// Archives.
    Archive,
    /// Pictures sent as files.
    Picture,
    /// Sound.
    Audio,
    /// Video.
    Video,
    /// Source code.
    Code,
    /// Anything else.
    Other,
}

/// The kind of a file from its name's extension.
pub fn file_kind(name: &str) -> FileKind {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" | "doc" | "docx" | "txt" | "md" | "rtf" | "odt" | "wps" => FileKind::Document,
        "xls" | "xlsx" | "csv" | "ods" | "et" => FileKind::Sheet,
        "ppt" | "pptx" | "odp" | "key" | "dps" => FileKind::Slides,
        "zip" | "rar" | "7z" | "tar" | "gz" | "xz" | "bz2" => FileKind::Archive,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "svg" | "heic" => FileKind::Picture,
        "mp3" | "wav" | "ogg" | "opus" | "m4a" | "flac" | "amr" => FileKind::Audio,
        "mp4" | "mov" | "mkv" | "webm" | "avi" => FileKind::Video,
        "rs" | "js" | "ts" | "py" | "java" | "go" | "c" | "cpp" | "h" | "json" | "html" | "css"
        | "sh" => FileKind::Code,
        _ => FileKind::Other,
    }
}

/// An upload's progress in whole percent.
pub fn percent(sent: u64, total: u64) -> u32 {
    if total == 0 {
        return 0;
    }
    ((sent.min(total) as f64 / total as f64) * 100.0).floor() as u32
}

/// A clip's length, its last part-second counted as a whole one.
pub fn duration(ms: u32) -> String {
    crate::time::span(u64::from(ms.div_ceil(1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bubbles_keep_the_picture_s_shape_within_bounds() {
        assert_eq!(bubble_size(4000, 3000), (240, 180));
        assert_eq!(bubble_size(3000, 4000), (180, 240));
        assert_eq!(bubble_size(100, 50), (100, 50), "never enlarged");
        assert_eq!(
            bubble_size(10_000, 10),
            (240, 48),
            "a strip stays clickable"
        );
        assert_eq!(bubble_size(0, 0), (120, 120));
    }

    #[test]
    fn stickers_are_smaller_than_pictures() {
        assert_eq!(sticker_size(512, 512), (160, 160));
        assert_eq!(sticker_size(240, 120), (160, 80));
        assert_eq!(sticker_size(0, 0), (80, 80));
    }

    #[test]
    fn names_say_what_kind_of_file() {
        assert_eq!(file_kind("季度报告.PDF"), FileKind::Document);
        assert_eq!(file_kind("data.xlsx"), FileKind::Sheet);
        assert_eq!(file_kind("backup.tar.gz"), FileKind::Archive);
        assert_eq!(file_kind("README"), FileKind::Other);
    }

    #[test]
    fn progress_and_durations_read_as_people_expect() {
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(999, 1000), 99);
        assert_eq!(percent(5, 4), 100);
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(61_001), "1:02");
    }
}
