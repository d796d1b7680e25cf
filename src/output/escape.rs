//! Makes bytes a traced process chose safe to print: one event stays one line,
//! and nothing reaches the operator's terminal as a control sequence.

/// How arguments are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    /// Bare text; only control characters and invalid UTF-8 are escaped.
    Bare,
    /// Inside double quotes (-q): `"` is escaped as well.
    DoubleQuoted,
}

/// Appends `bytes` to `out`: valid UTF-8 stays as it is, except newline and tab
/// (`\n`, `\t`), carriage return (`\r`), other C0/C1 controls, DEL and
/// invalid bytes (`\xHH`), and Unicode line separators and bidirectional
/// overrides (`\u{HHHH}`), which could make a line lie about its content.
pub fn push_escaped(out: &mut Vec<u8>, bytes: &[u8], quoting: Quoting) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        // Fast path: nothing in this run needs escaping.
        if valid
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"')
        {
            out.extend_from_slice(valid.as_bytes());
        } else {
            for c in valid.chars() {
                push_escaped_char(out, c, quoting);
            }
        }
        for byte in chunk.invalid() {
            push_hex_byte(out, *byte);
        }
    }
}

fn push_escaped_char(out: &mut Vec<u8>, c: char, quoting: Quoting) {
    match c {
        '\n' => out.extend_from_slice(b"\\n"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\r' => out.extend_from_slice(b"\\r"),
        '"' if quoting == Quoting::DoubleQuoted => out.extend_from_slice(b"\\\""),
        '\0'..='\x1f' | '\x7f' => push_hex_byte(out, c as u8),
        '\u{80}'..='\u{9f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => {
            out.extend_from_slice(format!("\\u{{{:04x}}}", c as u32).as_bytes());
        }
        _ => {
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
}

fn push_hex_byte(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        b'x',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ]);
}

/// Appends the escaped text left-aligned in a field of `width` characters
/// (printf's `%-Ns`).
pub fn push_padded(out: &mut Vec<u8>, bytes: &[u8], width: usize) {
    let start = out.len();
    push_escaped(out, bytes, Quoting::Bare);
    let chars = String::from_utf8_lossy(&out[start..]).chars().count();
    out.resize(out.len() + width.saturating_sub(chars), b' ');
}

/// The bytes of a fixed-size, NUL-padded kernel string (such as comm).
pub fn c_str_bytes(raw: &[u8]) -> &[u8] {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    &raw[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(bytes: &[u8], quoting: Quoting) -> String {
        let mut out = Vec::new();
        push_escaped(&mut out, bytes, quoting);
        String::from_utf8(out).expect("escaped output is UTF-8")
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            escaped(b"/usr/bin/ls -la", Quoting::Bare),
            "/usr/bin/ls -la"
        );
        assert_eq!(
            escaped("héllo wörld".as_bytes(), Quoting::Bare),
            "héllo wörld"
        );
        assert_eq!(escaped(br"a\.b", Quoting::Bare), r"a\.b");
    }

    #[test]
    fn line_breaks_and_escapes_cannot_reach_the_terminal() {
        assert_eq!(escaped(b"a\nb\tc\rd", Quoting::Bare), r"a\nb\tc\rd");
        assert_eq!(
            escaped(b"\x1b[31mred\x07", Quoting::Bare),
            r"\x1b[31mred\x07"
        );
        assert_eq!(escaped(b"\x7f\x00", Quoting::Bare), r"\x7f\x00");
        assert_eq!(escaped("\u{9b}2J".as_bytes(), Quoting::Bare), r"\u{009b}2J");
        assert_eq!(
            escaped("x\u{202e}y\u{2028}".as_bytes(), Quoting::Bare),
            r"x\u{202e}y\u{2028}"
        );
    }

    #[test]
    fn invalid_utf8_is_hex_escaped() {
        assert_eq!(escaped(b"ok\xff\xfe!", Quoting::Bare), r"ok\xff\xfe!");
        assert_eq!(escaped(b"\xe2\x82", Quoting::Bare), r"\xe2\x82");
    }

    #[test]
    fn quotes_are_escaped_only_when_quoting() {
        assert_eq!(escaped(b"say \"hi\"", Quoting::Bare), "say \"hi\"");
        assert_eq!(
            escaped(b"say \"hi\"\n", Quoting::DoubleQuoted),
            r#"say \"hi\"\n"#
        );
    }

    #[test]
    fn padding_counts_characters_after_escaping() {
        let mut out = Vec::new();
        push_padded(&mut out, b"ab\n", 6);
        assert_eq!(out, b"ab\\n  ");
        out.clear();
        push_padded(&mut out, b"a-name-longer-than-width", 4);
        assert_eq!(out, b"a-name-longer-than-width");
    }

    #[test]
    fn c_strings_end_at_the_first_nul() {
        assert_eq!(c_str_bytes(b"bash\0\0\0"), b"bash");
        assert_eq!(c_str_bytes(b"0123456789abcdef"), b"0123456789abcdef");
    }
}
