//! How often a transfer's progress is reported.

/// Most progress reports per second of one transfer.
pub const REPORTS_PER_SECOND: i64 = 10;

/// Whether a progress report at `now_ms` is due: the last one, and at most
/// [`REPORTS_PER_SECOND`] in between.
pub fn report_due(last_ms: Option<i64>, now_ms: i64, done: u64, total: u64) -> bool {
    done >= total || last_ms.is_none_or(|last| now_ms - last >= 1000 / REPORTS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_reported_ten_times_a_second_and_always_at_the_end() {
        assert!(report_due(None, 0, 1, 10));
        assert!(!report_due(Some(1000), 1050, 5, 10));
        assert!(report_due(Some(1000), 1100, 5, 10));
        assert!(report_due(Some(1000), 1001, 10, 10));
    }
}
