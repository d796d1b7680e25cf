//! Makes bytes a traced process chose safe to print: one event stays one line,
//! and nothing reaches the operator's terminal as a control sequence.

/// How arguments are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    /// Bare text: what is invisible or not UTF-8 is escaped; a backslash is
    /// left as it is (see docs/guide.md: unquoted output cannot be split back
    /// into arguments anyway, and paths and patterns read as upstream's).
    Bare,
    /// Inside double quotes (-q): `"` and `\` are escaped as well, so the
    /// text splits back into the exact arguments.
    DoubleQuoted,
}

/// Characters that are invisible or rearrange text when printed: controls
/// (Cc), format characters (Cf: bidirectional overrides, zero-width spaces,
/// tags, ...), separators other than the ASCII space (Zs, Zl, Zp), and the
/// other default-ignorable code points (variation selectors, fillers). A
/// traced process could hide text or fake a column with them. Generated from
/// Unicode 16's tables; a unit test checks one member of each kind.
const INVISIBLE: &[(char, char)] = &[
    ('\u{0000}', '\u{001f}'),
    ('\u{007f}', '\u{00a0}'),
    ('\u{00ad}', '\u{00ad}'),
    ('\u{034f}', '\u{034f}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061c}', '\u{061c}'),
    ('\u{06dd}', '\u{06dd}'),
    ('\u{070f}', '\u{070f}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08e2}', '\u{08e2}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{2000}', '\u{200f}'),
    ('\u{2028}', '\u{202f}'),
    ('\u{205f}', '\u{206f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff0}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{1343f}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0000}', '\u{e0fff}'),
];

/// Whether `c` is escaped wherever text is printed (JSON included).
pub fn is_invisible(c: char) -> bool {
    INVISIBLE
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Appends `bytes` to `out`: valid UTF-8 stays as it is, except newline, tab
/// and carriage return (`\n`, `\t`, `\r`), other C0 controls, DEL and invalid
/// bytes (`\xHH`), and every other invisible character (`\u{HHHH}`), so that
/// a line cannot lie about its content.
pub fn push_escaped(out: &mut Vec<u8>, bytes: &[u8], quoting: Quoting) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        // Fast path: nothing in this run needs escaping.
        if valid
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
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
        '\\' if quoting == Quoting::DoubleQuoted => out.extend_from_slice(b"\\\\"),
        '\0'..='\x1f' | '\x7f' => push_hex_byte(out, c as u8),
        c if is_invisible(c) => {
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
    // Escaped text is valid UTF-8: its characters are the bytes that do not
    // continue one.
    let chars = out[start..].iter().filter(|&&b| b & 0xc0 != 0x80).count();
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
    fn invisible_characters_are_escaped() {
        let invisible = "a\u{200b}b\u{feff}c\u{ad}d\u{61c}e\u{e0041}f\u{a0}g\u{3000}h\u{fe0f}";
        assert_eq!(
            escaped(invisible.as_bytes(), Quoting::Bare),
            r"a\u{200b}b\u{feff}c\u{00ad}d\u{061c}e\u{e0041}f\u{00a0}g\u{3000}h\u{fe0f}"
        );
        assert_eq!(escaped("é ü ☃ 中".as_bytes(), Quoting::Bare), "é ü ☃ 中");
    }

    /// The table: sorted ranges, and one member of each kind of character it
    /// covers (it was generated from the Unicode classes Cc, Cf, Zs, Zl, Zp
    /// and Default_Ignorable_Code_Point of Unicode 16, the space left out).
    #[test]
    fn the_invisible_table_is_sorted_and_covers_each_kind() {
        assert!(INVISIBLE.iter().all(|(first, last)| first <= last));
        assert!(INVISIBLE.windows(2).all(|pair| pair[0].1 < pair[1].0));
        for invisible in [
            '\0',
            '\u{85}',
            '\u{a0}',
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{180e}',
            '\u{2000}',
            '\u{200b}',
            '\u{2028}',
            '\u{2029}',
            '\u{202e}',
            '\u{2066}',
            '\u{3000}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e01ef}',
        ] {
            assert!(is_invisible(invisible), "U+{:04X}", invisible as u32);
        }
        for visible in [
            ' ',
            'a',
            '~',
            '\u{a1}',
            'é',
            '\u{606}',
            '中',
            '☃',
            '\u{1f600}',
        ] {
            assert!(!is_invisible(visible), "U+{:04X}", visible as u32);
        }
    }

    #[test]
    fn quotes_are_escaped_only_when_quoting() {
        assert_eq!(escaped(b"say \"hi\"", Quoting::Bare), "say \"hi\"");
        assert_eq!(
            escaped(b"say \"hi\"\n", Quoting::DoubleQuoted),
            r#"say \"hi\"\n"#
        );
        // A backslash is escaped too, so `q\"x` cannot pass for `q"x`.
        assert_eq!(escaped(br#"q\"x"#, Quoting::DoubleQuoted), r#"q\\\"x"#);
        assert_eq!(escaped(br"a\n", Quoting::Bare), r"a\n");
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
