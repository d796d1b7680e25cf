//! A command line as upstream's execsnoop writes it: each argument escaped
//! (in double quotes with -q), followed by a space, at most --max-args of
//! them, and ` ...` when there were more.

use crate::output::escape::{push_escaped, Quoting};

/// What stands for an argument that could not be read.
const UNREADABLE: &[u8] = b"(unreadable)";

/// An argument (None: one that could not be read), escaped, in double
/// quotes with `quote`, followed by a space.
pub fn push_argument(out: &mut Vec<u8>, arg: Option<&[u8]>, quote: bool) {
    match (arg, quote) {
        (None, _) => out.extend_from_slice(UNREADABLE),
        (Some(arg), true) => {
            out.push(b'"');
            push_escaped(out, arg, Quoting::DoubleQuoted);
            out.push(b'"');
        }
        (Some(arg), false) => push_escaped(out, arg, Quoting::Bare),
    }
    out.push(b' ');
}

/// The first `max_args` of `args`, then ` ...` when more were given than
/// shown, or `truncated` (more existed than were captured).
pub fn push_args<'a>(
    out: &mut Vec<u8>,
    args: impl Iterator<Item = Option<&'a [u8]>>,
    max_args: usize,
    truncated: bool,
    quote: bool,
) {
    let mut more = truncated;
    for (shown, arg) in args.enumerate() {
        if shown == max_args {
            more = true;
            break;
        }
        push_argument(out, arg, quote);
    }
    if more {
        out.extend_from_slice(b" ...");
    }
}
