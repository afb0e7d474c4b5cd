//! The voice message being recorded, as the composer shows it: started by the user, fed by
//! [`Event::Recording`](flint_proto::ipc::Event::Recording) while it runs, and gone once sent
//! or cancelled (news arriving after that is ignored).

use flint_proto::files::MIN_VOICE_MS;

/// A recording in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recording {
    /// Milliseconds recorded.
    pub elapsed_ms: u32,
    /// Loudness of the last 20 ms, 0–255.
    pub level: u8,
    /// It reached its longest; only sending or cancelling is left.
    pub full: bool,
}

impl Recording {
    /// The recording after news from the engine; `None` stays `None` (the user already sent
    /// or cancelled it).
    pub fn updated(now: Option<Self>, news: Self) -> Option<Self> {
        now.map(|_| news)
    }

    /// Whether it is long enough to send (shorter ones are thrown away with a hint).
    pub fn long_enough(&self) -> bool {
        self.elapsed_ms >= MIN_VOICE_MS
    }

    /// The level meter's width, in percent.
    pub fn level_percent(&self) -> u32 {
        u32::from(self.level) * 100 / 255
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_after_sending_or_cancelling_is_ignored() {
        let news = Recording {
            elapsed_ms: 500,
            level: 9,
            full: false,
        };
        assert_eq!(Recording::updated(None, news), None);
        assert_eq!(
            Recording::updated(Some(Recording::default()), news),
            Some(news)
        );
    }

    #[test]
    fn under_a_second_is_too_short() {
        let at = |elapsed_ms| Recording {
            elapsed_ms,
            ..Recording::default()
        };
        assert!(!at(980).long_enough());
        assert!(at(1_000).long_enough());
        assert_eq!(
            Recording {
                level: 255,
                ..at(0)
            }
            .level_percent(),
            100
        );
    }
}
