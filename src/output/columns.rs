//! Left-aligned columns as printf's `%-Nu` and `%-Ns` print them, written
//! straight into the line buffer: a line is built without allocating and
//! without core::fmt's padding, which was most of a connect's cost in user
//! space (an event per connect adds up in a storm).

use std::fmt::Display;
use std::io::Write;
use std::net::IpAddr;

/// Pads what was appended since `start` (ASCII) with spaces to `width`.
fn pad_from(out: &mut Vec<u8>, start: usize, width: usize) {
    let written = out.len() - start;
    out.resize(out.len() + width.saturating_sub(written), b' ');
}

/// `value` in decimal, left-aligned in `width` columns.
pub fn push_uint(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = out.len();
    out.extend_from_slice(&digits[at..]);
    pad_from(out, start, width);
}

/// An address as std prints it, left-aligned in `width` columns. IPv4, the
/// common case, is written digit by digit.
pub fn push_ip(out: &mut Vec<u8>, address: IpAddr, width: usize) {
    let start = out.len();
    match address {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_uint(out, u64::from(octet), 0);
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
    pad_from(out, start, width);
}

/// ASCII `value` (a number, a name we chose) left-aligned in `width`
/// columns, and at least one space after it, so that a value as wide as its
/// column cannot run into the next one.
pub fn push_spaced(out: &mut Vec<u8>, value: impl Display, width: usize) {
    let start = out.len();
    let _ = write!(out, "{value}");
    let written = out.len() - start;
    pad_from(out, start, width);
    if written >= width {
        out.push(b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn text(push: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        push(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_pad_like_printf() {
        assert_eq!(text(|o| push_uint(o, 0, 6)), "0     ");
        assert_eq!(text(|o| push_uint(o, 1234567, 6)), "1234567");
        assert_eq!(text(|o| push_uint(o, u64::MAX, 0)), u64::MAX.to_string());
    }

    #[test]
    fn addresses_print_as_std_does() {
        for address in [
            IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(255, 10, 200, 7)),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6("2001:db8::ff00:42:8329".parse().unwrap()),
        ] {
            assert_eq!(text(|o| push_ip(o, address, 16)), format!("{address:<16}"));
        }
    }

    #[test]
    fn spaced_values_never_touch_the_next_column() {
        assert_eq!(text(|o| push_spaced(o, 12, 6)), "12    ");
        assert_eq!(text(|o| push_spaced(o, 123456, 6)), "123456 ");
        assert_eq!(
            text(|o| push_spaced(o, "ECONNREFUSED", 13)),
            "ECONNREFUSED "
        );
    }
}
