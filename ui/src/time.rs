//! Times and days as people read them, in the local time zone.

use js_sys::Date;

fn date(ms: i64) -> Date {
    Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
}

/// `HH:MM`.
pub fn clock(ms: i64) -> String {
    let d = date(ms);
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// A length of time as a clock shows it: `m:ss`, or `h:mm:ss` from an hour on.
pub fn span(seconds: u64) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// A key that is equal for two times on the same local day.
pub fn day_key(ms: i64) -> (u32, u32, u32) {
    let d = date(ms);
    (d.get_full_year(), d.get_month(), d.get_date())
}

/// Today, yesterday, or the date.
pub fn day_label(ms: i64, zh: bool) -> String {
    let now = Date::now() as i64;
    let day = day_key(ms);
    if day == day_key(now) {
        return if zh { "今天".into() } else { "Today".into() };
    }
    if day == day_key(now - 86_400_000) {
        return if zh {
            "昨天".into()
        } else {
            "Yesterday".into()
        };
    }
    if zh {
        format!("{}年{}月{}日", day.0, day.1 + 1, day.2)
    } else {
        format!("{}-{:02}-{:02}", day.0, day.1 + 1, day.2)
    }
}

/// The list's time column: the clock today, else the date.
pub fn list_time(ms: i64, zh: bool) -> String {
    if ms <= 0 {
        return String::new();
    }
    if day_key(ms) == day_key(Date::now() as i64) {
        clock(ms)
    } else {
        let d = date(ms);
        if zh {
            format!("{}月{}日", d.get_month() + 1, d.get_date())
        } else {
            format!("{:02}/{:02}", d.get_month() + 1, d.get_date())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_reads_as_a_clock_does() {
        assert_eq!(span(0), "0:00");
        assert_eq!(span(59), "0:59");
        assert_eq!(span(61), "1:01");
        assert_eq!(span(3599), "59:59");
        assert_eq!(span(3600), "1:00:00");
        assert_eq!(span(36_061), "10:01:01");
    }
}
