//! What makes a clap command line behave like upstream's glibc argp one:
//! unambiguous prefixes of long options (`--max 3`, `--quo`), repeated
//! flags (`-T -T`), option values that look like flags (`-u -1` reaches the
//! uid check), and `--usage`'s compact synopsis, wrapped as argp wraps it.
//!
//! Everything is derived from the tool's clap `Command` at run time, so an
//! option added later is covered without touching this file; only the list
//! of upstream's own long options is declared per tool (next to its clap
//! definition), because it decides what a prefix means where an option only
//! we have shares it (`--print` is upstream's `--print-uid`, although we
//! also have `--print-cpu`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use clap::error::ErrorKind;
use clap::{Arg, Command, Parser};

/// A tool's clap definition, and upstream's long option names (argp's own
/// `help`, `usage` and `version` included).
pub trait ArgpParser: Parser {
    const UPSTREAM_LONG_OPTIONS: &'static [&'static str];
}

/// What a command line asks for.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Run with these flags.
    Run(T),
    /// `--usage`: print this synopsis on stdout and exit 0.
    Usage(String),
    /// `--help`, `-?`, `--version`: clap's text, printed with `Error::print`.
    Display(clap::Error),
}

/// A wrong command line, as one line without the program name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

/// The name the tool was run as: argv[0]'s file name, or `canonical` when
/// argv[0] is missing, empty or not UTF-8.
pub fn invoked_name(argv0: Option<&OsStr>, canonical: &str) -> String {
    argv0
        .and_then(|arg| Path::new(arg).file_name())
        .and_then(OsStr::to_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(canonical)
        .to_string()
}

/// Parses `args` (argv[0] first) the way argp would, for a tool whose
/// command line is `command`, run as `name`.
pub fn parse_from<T: ArgpParser>(
    command: Command,
    name: &str,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Outcome<T>, UsageError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.is_empty() {
        args.push(OsString::from(name));
    }
    let mut cmd = prepare(command, name);
    cmd.build();
    let table = OptionTable::new(&cmd);
    if let Some(usage_at) = table.expand(T::UPSTREAM_LONG_OPTIONS, &mut args)? {
        // argp acts on --usage where it stands: what comes before it must
        // be right, what comes after it is not looked at.
        return match cmd.clone().try_get_matches_from_mut(&args[..usage_at]) {
            Err(err) => clap_outcome(err),
            Ok(_) => Ok(Outcome::Usage(usage_synopsis(&cmd, name))),
        };
    }
    let mut matches = match cmd.try_get_matches_from_mut(args) {
        Ok(matches) => matches,
        Err(err) => return clap_outcome(err),
    };
    match T::from_arg_matches_mut(&mut matches) {
        Ok(cli) => Ok(Outcome::Run(cli)),
        Err(err) => clap_outcome(err),
    }
}

fn clap_outcome<T>(err: clap::Error) -> Result<Outcome<T>, UsageError> {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Ok(Outcome::Display(err)),
        _ => Err(UsageError(one_line(&err))),
    }
}

/// clap's message in one line: its first line, and the valid values where
/// clap lists them on the next (`[possible values: ...]`); usage and tips go.
fn one_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().map(str::trim);
    let first = lines.next().unwrap_or("invalid arguments");
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_string();
    if let Some(values) = lines.find(|line| line.starts_with("[possible values:")) {
        line = format!("{line} {values}");
    }
    line
}

/// The tool's command as argp would parse it, run as `name`: a repeated
/// option overrides itself, every option value may start with `-` (getopt
/// takes the next word as the value, whatever it looks like), and the usage
/// line and examples of --help name the command as it was run.
fn prepare(cmd: Command, name: &str) -> Command {
    let canonical = cmd.get_name().to_string();
    let mut cmd = cmd
        .args_override_self(true)
        .mut_args(|arg| {
            if arg.get_action().takes_values() && !arg.is_positional() {
                arg.allow_hyphen_values(true)
            } else {
                arg
            }
        })
        .bin_name(name);
    if name != canonical {
        if let Some(after_help) = cmd.get_after_help().map(ToString::to_string) {
            cmd = cmd.after_help(rename_examples(&after_help, &canonical, name));
        }
    }
    cmd
}

/// Example lines (`    execsnoop -x   # ...`) naming `installed` instead of
/// `canonical`; other lines stay as they are.
pub fn rename_examples(text: &str, canonical: &str, installed: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        match body.strip_prefix(canonical) {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\n']) => {
                out.push_str(indent);
                out.push_str(installed);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// One option as the command line sees it.
struct OptionSpec {
    /// Its long name as shown (`--cgroup`), if it has one.
    long: Option<String>,
    /// Its long name and every alias, hidden or not.
    longs: Vec<String>,
    /// Its short name and every short alias.
    shorts: Vec<char>,
    takes_value: bool,
}

struct OptionTable(Vec<OptionSpec>);

enum Resolution<'a> {
    Found(&'a OptionSpec),
    Unknown,
    Ambiguous(Vec<&'a OptionSpec>),
}

impl OptionTable {
    fn new(cmd: &Command) -> Self {
        let specs = cmd
            .get_arguments()
            .filter(|arg| !arg.is_positional())
            .map(|arg| {
                let mut longs: Vec<String> = arg.get_long().into_iter().map(String::from).collect();
                longs.extend(
                    arg.get_all_aliases()
                        .unwrap_or_default()
                        .into_iter()
                        .map(String::from),
                );
                let mut shorts: Vec<char> = arg.get_short().into_iter().collect();
                shorts.extend(arg.get_all_short_aliases().unwrap_or_default());
                OptionSpec {
                    long: arg.get_long().map(String::from),
                    longs,
                    shorts,
                    takes_value: takes_value(arg),
                }
            })
            .collect();
        Self(specs)
    }

    /// What `--name` means: an exact name (or alias) first; then the one
    /// upstream option it is a prefix of; then the one option of ours.
    fn resolve(&self, name: &str, upstream: &[&str]) -> Resolution<'_> {
        if name.is_empty() {
            return Resolution::Unknown;
        }
        if let Some(spec) = self
            .0
            .iter()
            .find(|spec| spec.longs.iter().any(|l| l == name))
        {
            return Resolution::Found(spec);
        }
        let mut upstream_matches = upstream.iter().filter(|long| long.starts_with(name));
        if let (Some(only), None) = (upstream_matches.next(), upstream_matches.next()) {
            if let Some(spec) = self
                .0
                .iter()
                .find(|spec| spec.longs.iter().any(|l| l == only))
            {
                return Resolution::Found(spec);
            }
        }
        let candidates: Vec<&OptionSpec> = self
            .0
            .iter()
            .filter(|spec| spec.longs.iter().any(|l| l.starts_with(name)))
            .collect();
        match candidates.as_slice() {
            [] => Resolution::Unknown,
            [only] => Resolution::Found(only),
            _ => Resolution::Ambiguous(candidates),
        }
    }

    fn short(&self, c: char) -> Option<&OptionSpec> {
        self.0.iter().find(|spec| spec.shorts.contains(&c))
    }

    /// Rewrites every long option given by a prefix to its full name, up to
    /// `--`, stepping over option values as getopt does; returns where a
    /// `--usage` option stands, if one does.
    fn expand(
        &self,
        upstream: &[&str],
        args: &mut [OsString],
    ) -> Result<Option<usize>, UsageError> {
        let mut i = 1;
        while i < args.len() {
            let bytes = args[i].as_bytes();
            if bytes == b"--" {
                break;
            }
            if let Some(option) = bytes.strip_prefix(b"--") {
                let (name, value) = match option.iter().position(|&b| b == b'=') {
                    Some(eq) => (&option[..eq], Some(option[eq + 1..].to_vec())),
                    None => (option, None),
                };
                // A name that is not UTF-8 is no option of ours: clap says so.
                let Ok(name) = std::str::from_utf8(name) else {
                    i += 1;
                    continue;
                };
                match self.resolve(name, upstream) {
                    Resolution::Found(spec) => {
                        let full = spec.long.clone().unwrap_or_else(|| name.to_string());
                        if full == "usage" && value.is_none() {
                            return Ok(Some(i));
                        }
                        let mut rewritten = format!("--{full}").into_bytes();
                        if let Some(value) = &value {
                            rewritten.push(b'=');
                            rewritten.extend_from_slice(value);
                        }
                        args[i] = OsString::from_vec(rewritten);
                        if value.is_none() && spec.takes_value {
                            // The next word is the value, whatever it looks like.
                            i += 1;
                        }
                    }
                    Resolution::Ambiguous(candidates) => {
                        let names: Vec<String> = candidates
                            .iter()
                            .filter_map(|spec| spec.long.as_ref())
                            .map(|long| format!("'--{long}'"))
                            .collect();
                        return Err(UsageError(format!(
                            "option '--{name}' is ambiguous; possibilities: {}",
                            names.join(" ")
                        )));
                    }
                    Resolution::Unknown => {}
                }
            } else if let Some(cluster) = bytes.strip_prefix(b"-").filter(|c| !c.is_empty()) {
                // -Tx, -u1000, -xu 1000: the first option taking a value
                // takes the rest of the word, or the next word.
                let cluster = String::from_utf8_lossy(cluster).into_owned();
                for (at, c) in cluster.char_indices() {
                    if self.short(c).is_some_and(|spec| spec.takes_value) {
                        if at + c.len_utf8() == cluster.len() {
                            i += 1;
                        }
                        break;
                    }
                }
            }
            i += 1;
        }
        Ok(None)
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().map_or_else(
        || arg.get_action().takes_values(),
        |range| range.takes_values(),
    )
}

/// glibc argp's default right margin and usage indent (argp-help.c).
const RMARGIN: usize = 79;
const USAGE_INDENT: usize = 12;

/// One option in argp's "hol" (help option list): what --usage and --help
/// list, in argp's order.
struct HolEntry {
    /// argp's own options (help, usage, version) are group -1, listed last.
    group: i32,
    shorts: Vec<char>,
    longs: Vec<String>,
    /// The value's name, and whether the value is optional.
    arg: Option<(String, bool)>,
}

impl HolEntry {
    fn from_arg(arg: &Arg) -> Self {
        let id = arg.get_id().as_str();
        let argp_own = matches!(id, "help" | "usage" | "version");
        let shorts = if id == "help" {
            // argp's help is -?; upstream's -h is a hidden option.
            vec!['?']
        } else {
            arg.get_short_and_visible_aliases().unwrap_or_default()
        };
        let longs = arg
            .get_long_and_visible_aliases()
            .unwrap_or_default()
            .into_iter()
            .map(String::from)
            .collect();
        let value = takes_value(arg).then(|| {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| id.to_uppercase(), ToString::to_string);
            let optional = arg
                .get_num_args()
                .is_some_and(|range| range.min_values() == 0);
            (name, optional)
        });
        Self {
            group: if argp_own { -1 } else { 0 },
            shorts,
            longs,
            arg: value,
        }
    }

    /// argp's sort key character: the first short option, else the first
    /// letter of the first long one.
    fn first(&self) -> u8 {
        match (self.shorts.first(), self.longs.first()) {
            (Some(&c), _) => u8::try_from(c).unwrap_or(u8::MAX),
            (None, Some(long)) => long.bytes().next().unwrap_or(0),
            (None, None) => 0,
        }
    }
}

/// argp-help.c's hol_entry_cmp for entries outside clusters and docs:
/// groups 0, 1, ..., then negative ones; then by first character ignoring
/// case, lower case first; entries with a short option first; then long
/// names ignoring case.
fn hol_order(a: &HolEntry, b: &HolEntry) -> std::cmp::Ordering {
    let group_key = |g: i32| (g < 0, g);
    let (fa, fb) = (a.first(), b.first());
    group_key(a.group)
        .cmp(&group_key(b.group))
        .then(fa.to_ascii_lowercase().cmp(&fb.to_ascii_lowercase()))
        .then(fb.cmp(&fa))
        // glibc 2.36 puts the entries without a short option first (its
        // comment says the opposite; its code, and its output, do this).
        .then(a.shorts.is_empty().cmp(&b.shorts.is_empty()).reverse())
        .then_with(|| {
            if a.shorts.is_empty() && b.shorts.is_empty() {
                let lower = |e: &HolEntry| e.longs.first().map(|l| l.to_ascii_lowercase());
                lower(a).cmp(&lower(b))
            } else {
                std::cmp::Ordering::Equal
            }
        })
}

/// `--usage`: argp's synopsis of every visible option, `name` first,
/// wrapped at column 79 with continuation lines indented by 12, byte for
/// byte as glibc's argp prints it.
pub fn usage_synopsis(cmd: &Command, name: &str) -> String {
    let mut cmd = cmd.clone();
    cmd.build();
    let mut entries: Vec<HolEntry> = cmd
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
        .map(HolEntry::from_arg)
        .collect();
    entries.sort_by(hol_order);

    let mut fs = FmtStream::new(RMARGIN);
    let old_wmargin = fs.set_wmargin(USAGE_INDENT);
    fs.write(&format!("Usage: {name}"));
    let old_lmargin = fs.set_lmargin(USAGE_INDENT);

    // Short options without a value, as one cluster.
    let argless: String = entries
        .iter()
        .filter(|entry| entry.arg.is_none())
        .flat_map(|entry| entry.shorts.iter())
        .collect();
    if !argless.is_empty() {
        fs.write(&format!(" [-{argless}]"));
    }
    // Short options with a value, each kept on one line.
    for entry in &entries {
        let Some((value, optional)) = &entry.arg else {
            continue;
        };
        for short in &entry.shorts {
            if *optional {
                fs.write(&format!(" [-{short}[{value}]]"));
            } else {
                fs.space(6 + value.len());
                fs.write(&format!("[-{short} {value}]"));
            }
        }
    }
    // Every long option.
    for entry in &entries {
        for long in &entry.longs {
            match &entry.arg {
                Some((value, true)) => fs.write(&format!(" [--{long}[={value}]]")),
                Some((value, false)) => fs.write(&format!(" [--{long}={value}]")),
                None => fs.write(&format!(" [--{long}]")),
            }
        }
    }

    fs.set_wmargin(old_wmargin);
    fs.set_lmargin(old_lmargin);
    fs.write("\n");
    fs.finish()
}

/// glibc's argp-fmtstream: text written in pieces, wrapped at word
/// boundaries when a line reaches the right margin; `lmargin` indents the
/// line after an explicit newline, `wmargin` the line after a wrap. Wrapping
/// happens lazily (when the column is asked for, a margin changes, or at the
/// end), exactly as there, since that decides where lines break.
struct FmtStream {
    buf: Vec<u8>,
    /// How much of `buf` has been wrapped.
    point_offs: usize,
    /// The column at `point_offs`; -1 right after a wrap with no wmargin.
    point_col: isize,
    lmargin: usize,
    wmargin: usize,
    rmargin: usize,
}

impl FmtStream {
    fn new(rmargin: usize) -> Self {
        Self {
            buf: Vec::new(),
            point_offs: 0,
            point_col: 0,
            lmargin: 0,
            wmargin: 0,
            rmargin,
        }
    }

    fn write(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn set_lmargin(&mut self, lmargin: usize) -> usize {
        self.update();
        std::mem::replace(&mut self.lmargin, lmargin)
    }

    fn set_wmargin(&mut self, wmargin: usize) -> usize {
        self.update();
        std::mem::replace(&mut self.wmargin, wmargin)
    }

    fn point(&mut self) -> usize {
        self.update();
        usize::try_from(self.point_col).unwrap_or(0)
    }

    /// argp-help.c's space(): a blank, or a newline when fewer than
    /// `ensure` columns are left.
    fn space(&mut self, ensure: usize) {
        if self.point() + ensure >= self.rmargin {
            self.write("\n");
        } else {
            self.write(" ");
        }
    }

    fn finish(mut self) -> String {
        self.update();
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    fn blank(&self, at: isize) -> bool {
        usize::try_from(at)
            .ok()
            .and_then(|at| self.buf.get(at))
            .is_some_and(|&b| b == b' ' || b == b'\t')
    }

    /// __argp_fmtstream_update: wraps what was written since the last call.
    fn update(&mut self) {
        let rmargin = self.rmargin as isize;
        let mut start = self.point_offs;
        while start < self.buf.len() {
            if self.point_col == 0 && self.lmargin != 0 {
                // A new line: indent it to the left margin.
                let pad = self.lmargin;
                self.buf
                    .splice(start..start, std::iter::repeat_n(b' ', pad));
                start += pad;
                self.point_col = pad as isize;
            }
            let len = (self.buf.len() - start) as isize;
            let newline = self.buf[start..].iter().position(|&b| b == b'\n');
            if self.point_col < 0 {
                self.point_col = 0;
            }
            let line_end = match newline {
                None if self.point_col + len < rmargin => {
                    self.point_col += len;
                    break;
                }
                None => self.buf.len(),
                Some(at) if self.point_col + (at as isize) < rmargin => {
                    self.point_col = 0;
                    start += at + 1;
                    continue;
                }
                Some(at) => start + at,
            } as isize;

            // Too long: break at the last blank at or before the column
            // just past the margin, or after an overlong word.
            let first = start as isize;
            let past_margin = first + (rmargin - self.point_col);
            let mut p = past_margin;
            while p >= first && !self.blank(p) {
                p -= 1;
            }
            let (break_at, next_line) = if p + 1 > first {
                // Swallow the blanks before the break too.
                let next_line = p + 1;
                p -= 1;
                while p >= first && self.blank(p) {
                    p -= 1;
                }
                (p + 1, next_line)
            } else {
                let mut p = past_margin + 1;
                while p < line_end && !self.blank(p) {
                    p += 1;
                }
                if p == line_end {
                    // The long word already ends its line.
                    self.point_col = 0;
                    start = line_end as usize + 1;
                    continue;
                }
                let break_at = p;
                p += 1;
                while self.blank(p) {
                    p += 1;
                }
                (break_at, p)
            };
            let (break_at, next_line) = (break_at as usize, next_line as usize);
            let indent = std::iter::once(b'\n').chain(std::iter::repeat_n(b' ', self.wmargin));
            self.buf.splice(break_at..next_line, indent);
            start = break_at + 1 + self.wmargin;
            self.point_col = if self.wmargin == 0 {
                -1
            } else {
                self.wmargin as isize
            };
        }
        self.point_offs = self.buf.len();
    }
}

/// For each tool's tests: every long option of upstream's is one of ours
/// (argp's `help`, `usage` and `version` included).
#[cfg(test)]
pub(crate) fn assert_upstream_long_options_are_ours<T: ArgpParser>() {
    let mut cmd = T::command();
    cmd.build();
    for name in T::UPSTREAM_LONG_OPTIONS {
        assert!(
            cmd.get_arguments().any(|arg| arg.get_long() == Some(name)),
            "--{name} is upstream's but not an option of {}",
            cmd.get_name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ArgAction;

    /// A command with upstream's options: (short, long, value name), in any
    /// order, plus argp's own help, usage and version.
    fn upstream_model(
        name: &'static str,
        options: &[(Option<char>, &'static str, Option<&'static str>)],
    ) -> Command {
        let mut cmd = Command::new(name)
            .disable_help_flag(true)
            .disable_version_flag(true);
        for &(short, long, value) in options {
            let mut arg = Arg::new(long).long(long);
            if let Some(short) = short {
                arg = arg.short(short);
            }
            arg = match value {
                Some(value) => arg.value_name(value).action(ArgAction::Set),
                None => arg.action(ArgAction::SetTrue),
            };
            cmd = cmd.arg(arg);
        }
        cmd.arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help),
        )
        .arg(Arg::new("usage").long("usage").action(ArgAction::SetTrue))
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version),
        )
    }

    #[test]
    fn usage_is_argps_byte_for_byte() {
        // Debian bookworm's libbpf-tools 0.26, `execsnoop --usage`.
        let execsnoop = upstream_model(
            "execsnoop",
            &[
                (Some('T'), "time", None),
                (Some('t'), "timestamp", None),
                (Some('x'), "fails", None),
                (Some('u'), "uid", Some("UID")),
                (Some('q'), "quote", None),
                (Some('n'), "name", Some("NAME")),
                (Some('l'), "line", Some("LINE")),
                (Some('U'), "print-uid", None),
                (None, "max-args", Some("MAX_ARGS")),
                (Some('c'), "cgroup", Some("/sys/fs/cgroup/unified")),
                (Some('v'), "verbose", None),
            ],
        );
        assert_eq!(
            usage_synopsis(&execsnoop, "execsnoop"),
            "Usage: execsnoop [-qtTUvx?V] [-c /sys/fs/cgroup/unified] [-l LINE] [-n NAME]
            [-u UID] [--cgroup=/sys/fs/cgroup/unified] [--line=LINE]
            [--max-args=MAX_ARGS] [--name=NAME] [--quote] [--timestamp]
            [--time] [--uid=UID] [--print-uid] [--verbose] [--fails] [--help]
            [--usage] [--version]
"
        );
        let tcpconnect = upstream_model(
            "tcpconnect",
            &[
                (Some('t'), "timestamp", None),
                (Some('p'), "pid", Some("PID")),
                (Some('u'), "uid", Some("UID")),
                (Some('U'), "print-uid", None),
                (Some('c'), "count", None),
                (Some('s'), "source-port", None),
                (Some('P'), "port", Some("PORTS")),
                (Some('C'), "cgroupmap", Some("PATH")),
                (Some('M'), "mntnsmap", Some("PATH")),
                (Some('v'), "verbose", None),
            ],
        );
        assert_eq!(
            usage_synopsis(&tcpconnect, "tcpconnect"),
            "Usage: tcpconnect [-cstUv?V] [-C PATH] [-M PATH] [-p PID] [-P PORTS] [-u UID]
            [--count] [--cgroupmap=PATH] [--mntnsmap=PATH] [--pid=PID]
            [--port=PORTS] [--source-port] [--timestamp] [--uid=UID]
            [--print-uid] [--verbose] [--help] [--usage] [--version]
"
        );
        // opensnoop's second line is 79 columns: a wrap where the column
        // just past the margin is the blank.
        let opensnoop = upstream_model(
            "opensnoop",
            &[
                (Some('d'), "duration", Some("DURATION")),
                (Some('e'), "extended-fields", None),
                (Some('n'), "name", Some("NAME")),
                (Some('p'), "pid", Some("PID")),
                (Some('t'), "tid", Some("TID")),
                (Some('T'), "timestamp", None),
                (Some('u'), "uid", Some("UID")),
                (Some('U'), "print-uid", None),
                (Some('v'), "verbose", None),
                (Some('x'), "failed", None),
            ],
        );
        assert_eq!(
            usage_synopsis(&opensnoop, "opensnoop"),
            "Usage: opensnoop [-eTUvx?V] [-d DURATION] [-n NAME] [-p PID] [-t TID] [-u UID]
            [--duration=DURATION] [--extended-fields] [--name=NAME] [--pid=PID]
            [--tid=TID] [--timestamp] [--uid=UID] [--print-uid] [--verbose]
            [--failed] [--help] [--usage] [--version]
"
        );
    }

    #[test]
    fn usage_orders_as_glibc_236() {
        // Checked against a C program using glibc 2.36's argp: long-only
        // entries come before the short option of the same letter, lower
        // case before upper case; an optional value is bracketed.
        let cmd = upstream_model(
            "t",
            &[
                (None, "cgroupmap", Some("PATH")),
                (Some('c'), "cgroup", Some("PATH")),
                (Some('C'), "print-cpu", None),
                (None, "mntnsmap", Some("PATH")),
                (None, "max-args", Some("MAX_ARGS")),
                (Some('M'), "print-pcomm", None),
                (Some('z'), "zz", None),
                (None, "zlong", None),
                (Some('Z'), "Zed", None),
                (Some('P'), "ppid", Some("PPID")),
                (None, "btf", Some("PATH")),
                (None, "json", None),
            ],
        )
        .arg(
            Arg::new("opt")
                .short('o')
                .long("opt")
                .value_name("X")
                .num_args(0..=1),
        );
        assert_eq!(
            usage_synopsis(&cmd, "t"),
            "Usage: t [-CMzZ?V] [-c PATH] [-o[X]] [-P PPID] [--btf=PATH] [--cgroupmap=PATH]
            [--cgroup=PATH] [--print-cpu] [--json] [--max-args=MAX_ARGS]
            [--mntnsmap=PATH] [--print-pcomm] [--opt[=X]] [--ppid=PPID]
            [--zlong] [--zz] [--Zed] [--help] [--usage] [--version]
"
        );
    }

    #[test]
    fn hidden_options_are_not_listed() {
        let cmd = upstream_model("t", &[(Some('a'), "all", None)]).arg(
            Arg::new("secret")
                .long("secret")
                .hide(true)
                .action(ArgAction::SetTrue),
        );
        assert_eq!(
            usage_synopsis(&cmd, "t"),
            "Usage: t [-a?V] [--all] [--help] [--usage] [--version]\n"
        );
    }

    #[test]
    fn an_overlong_word_gets_a_line_of_its_own() {
        let long = "x".repeat(90);
        let mut fs = FmtStream::new(RMARGIN);
        fs.set_wmargin(4);
        fs.write(&format!("Usage: t [--a] [--{long}] [--b]"));
        fs.set_wmargin(0);
        fs.write("\n");
        assert_eq!(
            fs.finish(),
            format!("Usage: t [--a]\n    [--{long}]\n    [--b]\n")
        );
    }

    #[test]
    fn invoked_name_is_argv0s_file_name() {
        let name = |argv0: Option<&str>| invoked_name(argv0.map(OsStr::new), "execsnoop");
        assert_eq!(name(Some("/usr/sbin/bpf-execsnoop")), "bpf-execsnoop");
        assert_eq!(name(Some("execsnoop-libbpf")), "execsnoop-libbpf");
        assert_eq!(name(Some("./x/")), "x");
        assert_eq!(name(Some("")), "execsnoop");
        assert_eq!(name(Some("/")), "execsnoop");
        assert_eq!(name(None), "execsnoop");
        let not_utf8 = OsStr::from_bytes(b"/usr/sbin/\xffsnoop");
        assert_eq!(invoked_name(Some(not_utf8), "execsnoop"), "execsnoop");
    }

    #[test]
    fn examples_follow_the_installed_name() {
        let text = "EXAMPLES:\n    execsnoop           # all\n    execsnoop -x        # failed too\n    not execsnoop\n    execsnoopx -y\n";
        assert_eq!(
            rename_examples(text, "execsnoop", "bpf-execsnoop"),
            "EXAMPLES:\n    bpf-execsnoop           # all\n    bpf-execsnoop -x        # failed too\n    not execsnoop\n    execsnoopx -y\n"
        );
    }
}
