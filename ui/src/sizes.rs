//! File sizes as people read them: `900 B`, `1.5 KB`, `20 MB`, `1.1 GB` (1024-based, as file
//! managers on every desktop show them).

/// A byte count in the largest unit that keeps it at least 1.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes_pick_their_unit() {
        assert_eq!(bytes(900), "900 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(20 << 20), "20 MB");
        assert_eq!(bytes(1 << 30), "1.0 GB");
    }
}
