//! JSON Lines output: one object per line, strings exact.
//!
//! A string that is valid UTF-8 is written as a JSON string. One that is not
//! (a traced process can put any bytes in its arguments) is written with each
//! invalid sequence replaced by U+FFFD, and the exact bytes are given as well,
//! base64-encoded, in a sibling field named `<field>_base64`. Consumers that
//! only read text get readable text; nothing is lost for those that need it.

use std::io::Write;

use crate::output::clock::{monotonic_ns, WallClock};
use crate::output::escape::is_invisible;

/// Appends `bytes` as a JSON string; false when invalid UTF-8 was replaced.
pub fn push_string(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let mut exact = true;
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\r' => out.extend_from_slice(b"\\r"),
                // Other controls, the separators some JSON readers
                // (JavaScript before ES2019) take for line ends, and what
                // would be invisible where the line is shown: escaped, the
                // string is still exact.
                c if is_invisible(c) => {
                    let mut utf16 = [0u16; 2];
                    for unit in c.encode_utf16(&mut utf16) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
                _ => {
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
            exact = false;
        }
    }
    out.push(b'"');
    exact
}

/// Standard base64 with padding (RFC 4648).
pub fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(ALPHABET[(n >> shift & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

/// RFC 3339 time in UTC with nanoseconds: `2026-11-22T02:05:18.123456789Z`.
pub fn rfc3339_utc(unix_ns: i128) -> String {
    let seconds = unix_ns.div_euclid(1_000_000_000) as i64;
    let nanos = unix_ns.rem_euclid(1_000_000_000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What every event line starts with: the event's wall-clock time (RFC 3339,
/// UTC) and its kernel timestamp (CLOCK_MONOTONIC nanoseconds).
#[derive(Debug, Default)]
pub struct JsonEvents {
    clock: WallClock,
}

impl JsonEvents {
    pub fn new() -> Self {
        Self {
            clock: WallClock::new(),
        }
    }

    /// Begins the line of an event that happened at `timestamp_ns`.
    pub fn begin<'o>(&self, out: &'o mut Vec<u8>, timestamp_ns: u64) -> JsonObject<'o> {
        let time = rfc3339_utc(self.clock.unix_ns(timestamp_ns));
        let mut object = JsonObject::begin(out);
        object
            .string("time", time.as_bytes())
            .number("timestamp_ns", timestamp_ns);
        object
    }

    /// Follows wall-clock steps; called once per batch.
    pub fn resync_clock(&mut self) {
        self.clock.resync();
    }

    /// A loss record: `count` events (on `cpu`, for per-CPU buffers) could
    /// not be delivered, noticed now.
    pub fn write_loss(&self, out: &mut Vec<u8>, count: u64, cpu: Option<usize>) {
        let mut object = self.begin(out, monotonic_ns());
        object.number("lost", count);
        if let Some(cpu) = cpu {
            object.number("cpu", cpu as u64);
        }
        object.end();
    }
}

/// Builds one JSON object, field by field, ending the line.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    pub fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    fn key(&mut self, name: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn number(&mut self, name: &str, value: impl Into<i128>) -> &mut Self {
        self.key(name);
        let _ = write!(self.out, "{}", value.into());
        self
    }

    pub fn boolean(&mut self, name: &str, value: bool) -> &mut Self {
        self.key(name);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// A text field; `<name>_base64` follows when the bytes are not UTF-8.
    pub fn string(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.key(name);
        if !push_string(self.out, value) {
            self.key(&format!("{name}_base64"));
            self.out.push(b'"');
            push_base64(self.out, value);
            self.out.push(b'"');
        }
        self
    }

    /// An array of text, where None is `null` (a value that could not be
    /// read); `<name>_base64`, an array of every element in base64 (and the
    /// same `null`s), follows when any element is not UTF-8.
    pub fn strings<'v>(
        &mut self,
        name: &str,
        values: impl Iterator<Item = Option<&'v [u8]>> + Clone,
    ) -> &mut Self {
        self.key(name);
        self.out.push(b'[');
        let mut exact = true;
        for (i, value) in values.clone().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            match value {
                Some(value) => exact &= push_string(self.out, value),
                None => self.out.extend_from_slice(b"null"),
            }
        }
        self.out.push(b']');
        if !exact {
            self.key(&format!("{name}_base64"));
            self.out.push(b'[');
            for (i, value) in values.enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                match value {
                    Some(value) => {
                        self.out.push(b'"');
                        push_base64(self.out, value);
                        self.out.push(b'"');
                    }
                    None => self.out.extend_from_slice(b"null"),
                }
            }
            self.out.push(b']');
        }
        self
    }

    /// A value already in JSON (a nested array or object).
    pub fn raw(&mut self, name: &str, json: &[u8]) -> &mut Self {
        self.key(name);
        self.out.extend_from_slice(json);
        self
    }

    /// Closes the object and the line.
    pub fn end(&mut self) {
        self.out.extend_from_slice(b"}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8]) -> (String, bool) {
        let mut out = Vec::new();
        let exact = push_string(&mut out, bytes);
        (String::from_utf8(out).unwrap(), exact)
    }

    #[test]
    fn strings_are_escaped_per_rfc_8259() {
        assert_eq!(string(b"plain"), ("\"plain\"".into(), true));
        assert_eq!(
            string(b"a\"b\\c\nd\te\x01\x1b"),
            (r#""a\"b\\c\nd\te\u0001\u001b""#.into(), true)
        );
        assert_eq!(
            string("é\u{2028}".as_bytes()),
            ("\"é\\u2028\"".into(), true)
        );
        // Invisible characters, astral ones as surrogate pairs.
        assert_eq!(
            string("a\u{200b}\u{e0041}".as_bytes()),
            ("\"a\\u200b\\udb40\\udc41\"".into(), true)
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        assert_eq!(string(b"ok\xff!"), ("\"ok\u{fffd}!\"".into(), false));
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            push_base64(&mut out, raw.as_bytes());
            assert_eq!(out, encoded.as_bytes(), "{raw}");
        }
    }

    #[test]
    fn rfc3339_in_utc_with_nanoseconds() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339_utc(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(
            rfc3339_utc(1_795_313_118_123_456_789),
            "2026-11-22T02:05:18.123456789Z"
        );
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn objects_carry_base64_siblings_only_when_needed() {
        let mut out = Vec::new();
        JsonObject::begin(&mut out)
            .number("pid", 7u32)
            .boolean("ok", true)
            .string("comm", b"sh")
            .string("bad", b"\xff")
            .strings(
                "args",
                [Some(&b"a"[..]), Some(&b"\xfe"[..]), None].into_iter(),
            )
            .end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"pid\":7,\"ok\":true,\"comm\":\"sh\",\"bad\":\"\u{fffd}\",\"bad_base64\":\"/w==\",\
             \"args\":[\"a\",\"\u{fffd}\",null],\"args_base64\":[\"YQ==\",\"/g==\",null]}\n"
        );
    }
}
