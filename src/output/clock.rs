//! Timestamps for the TIME columns: kernel events carry CLOCK_MONOTONIC
//! nanoseconds; the operator wants wall-clock time or seconds since start.

use nix::time::{clock_gettime, ClockId};

fn clock_ns(clock: ClockId) -> u64 {
    // These clocks cannot fail on Linux; a zero would only skew the column.
    clock_gettime(clock)
        .map(|ts| ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
        .unwrap_or(0)
}

/// The clock bpf_ktime_get_ns() reads.
pub fn monotonic_ns() -> u64 {
    clock_ns(ClockId::CLOCK_MONOTONIC)
}

pub fn realtime_ns() -> u64 {
    clock_ns(ClockId::CLOCK_REALTIME)
}

/// Turns kernel timestamps into wall-clock time of day, caching the
/// formatted second.
#[derive(Debug, Default)]
pub struct WallClock {
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, refreshed by `resync`.
    offset_ns: i128,
    cached_second: Option<i64>,
    cached_text: String,
}

impl WallClock {
    pub fn new() -> Self {
        let mut clock = Self::default();
        clock.resync();
        clock
    }

    /// Follows wall-clock steps (NTP, suspend); called once per batch of events.
    pub fn resync(&mut self) {
        self.offset_ns = i128::from(realtime_ns()) - i128::from(monotonic_ns());
    }

    /// Nanoseconds since the Unix epoch of a CLOCK_MONOTONIC timestamp.
    pub fn unix_ns(&self, monotonic_ns: u64) -> i128 {
        i128::from(monotonic_ns) + self.offset_ns
    }

    /// Local time of day as HH:MM:SS.
    pub fn time_of_day(&mut self, monotonic_ns: u64) -> &str {
        let second = (self.unix_ns(monotonic_ns) / 1_000_000_000) as i64;
        if self.cached_second != Some(second) {
            self.cached_text = format_local_hms(second);
            self.cached_second = Some(second);
        }
        &self.cached_text
    }
}

fn format_local_hms(unix_second: i64) -> String {
    let time = unix_second as libc::time_t;
    // SAFETY: localtime_r only writes the tm we pass; zeroed tm is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let converted = unsafe { !libc::localtime_r(&time, &mut tm).is_null() };
    if !converted {
        return "??:??:??".to_string();
    }
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_is_hh_mm_ss() {
        let mut clock = WallClock::new();
        let text = clock.time_of_day(monotonic_ns()).to_string();
        assert_eq!(text.len(), 8);
        assert_eq!(&text[2..3], ":");
        assert_eq!(&text[5..6], ":");
        assert!(text.chars().filter(char::is_ascii_digit).count() == 6);
    }

    #[test]
    fn monotonic_maps_to_now() {
        let clock = WallClock::new();
        let diff = clock.unix_ns(monotonic_ns()) - i128::from(realtime_ns());
        assert!(diff.abs() < 1_000_000_000, "offset off by {diff} ns");
    }
}
