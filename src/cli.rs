//! Command-line handling both tools share: one-line errors, and the value
//! parsers for flags they have in common.

use std::path::PathBuf;
use std::process::exit;

use clap::{ArgAction, Args, Command};
use nix::unistd::User;

use crate::argp::{invoked_name, ArgpParser, Outcome};
use crate::error::Result as ToolResult;
use crate::runtime::channel::{MAX_BYTES as MAX_CHANNEL_BYTES, MIN_BYTES as MIN_CHANNEL_BYTES};

/// Flags every tool has, after its own.
#[derive(Clone, Debug, Default, Args)]
pub struct CommonArgs {
    /// Print one JSON object per event per line (JSON Lines) instead of columns
    #[arg(long)]
    pub json: bool,
    /// Kernel type information (BTF) file to use instead of /sys/kernel/btf/vmlinux
    #[arg(long, value_name = "PATH")]
    pub btf: Option<PathBuf>,
    /// Size of the event channel: bytes, or with K, M or G [default: 64K per CPU, at least 128K]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub buffer_size: Option<usize>,
    /// Verbose debug output (libbpf's log, and how the tool attached, on stderr)
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Print help (also -?, as upstream's argp)
    #[arg(short = 'h', long, short_alias = '?', action = ArgAction::HelpLong)]
    help: Option<bool>,
    /// Print a short usage message: every option, compactly (argp's --usage)
    #[arg(long)]
    usage: bool,
}

/// A --buffer-size value: bytes, or with a K, M or G suffix (powers of
/// 1024), within [MIN_CHANNEL_BYTES, MAX_CHANNEL_BYTES]; rounded up to a power of two.
pub fn parse_size(value: &str) -> std::result::Result<usize, String> {
    let (digits, unit) = match value.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => value.split_at(at),
        None => (value, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(format!(
                "invalid size '{value}': a number of bytes, or with K, M or G"
            ))
        }
    };
    let bytes = digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift));
    match bytes {
        Some(bytes) if (MIN_CHANNEL_BYTES..=MAX_CHANNEL_BYTES).contains(&bytes) => Ok(bytes),
        _ => Err(format!(
            "invalid size '{value}': must be between {}K and {}G",
            MIN_CHANNEL_BYTES >> 10,
            MAX_CHANNEL_BYTES >> 30
        )),
    }
}

/// The pinned-map filters (BCC's --cgroupmap / --mntnsmap), long options
/// here; a tool adds short ones with `mut_arg` where upstream has them.
#[derive(Clone, Debug, Default, Args)]
pub struct PinnedFilterArgs {
    /// Trace cgroups whose ids are keys of this pinned BPF hash map only
    #[arg(long, value_name = "PATH")]
    pub cgroupmap: Option<PathBuf>,
    /// Trace mount namespaces whose ids are keys of this pinned BPF hash map only
    #[arg(long, value_name = "PATH")]
    pub mntnsmap: Option<PathBuf>,
}

/// What every tool's flags say about the parts the pipeline owns.
#[derive(Clone, Debug, Default)]
pub struct SharedOptions {
    /// --json, --btf, --buffer-size, -v.
    pub common: CommonArgs,
    /// -u: the kernel side filters on it (common.bpf.h).
    pub uid: Option<u32>,
    /// --cgroupmap, --mntnsmap.
    pub pinned: PinnedFilterArgs,
}

/// A tool's flags: parsed as argp parses upstream's, with the flags every
/// tool shares where the pipeline finds them (`tool_cli!`).
pub trait ToolCli: ArgpParser {
    fn shared(&self) -> SharedOptions;
}

/// `tool_cli!(Cli, UPSTREAM_LONG_OPTIONS)`: a tool's clap `Cli`, which has
/// the fields `uid`, `pinned` and `common`, with upstream's long options.
macro_rules! tool_cli {
    ($cli:ty, $upstream:expr) => {
        impl $crate::argp::ArgpParser for $cli {
            const UPSTREAM_LONG_OPTIONS: &'static [&'static str] = $upstream;
        }

        impl $crate::cli::ToolCli for $cli {
            fn shared(&self) -> $crate::cli::SharedOptions {
                $crate::cli::SharedOptions {
                    common: self.common.clone(),
                    uid: self.uid,
                    pinned: self.pinned.clone(),
                }
            }
        }
    };
}

/// A tool's whole `main`: parse the flags, run, and turn an error into one
/// line on stderr and exit status 1. Messages name the tool as it was run
/// (argv[0]'s file name), so an installed `bpf-execsnoop` says `bpf-execsnoop:`.
pub fn tool_main<C: ArgpParser>(
    tool: &str,
    command: Command,
    run: impl FnOnce(C) -> ToolResult<()>,
) -> u8 {
    let name = invoked_name(std::env::args_os().next().as_deref(), tool);
    match run(parse_or_exit(command, &name)) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("{name}: {err}");
            1
        }
    }
}

/// Exit status for a wrong command line: EX_USAGE, as upstream's argp uses.
const EXIT_USAGE: i32 = 64;

/// Parses the command line as argp would (src/argp.rs), for a tool run as
/// `name`. `--help`, `--usage` and `--version` print and exit 0; any mistake
/// is one line on stderr and exit status 64 (EX_USAGE).
pub fn parse_or_exit<T: ArgpParser>(command: Command, name: &str) -> T {
    match crate::argp::parse_from(command, name, std::env::args_os()) {
        Ok(Outcome::Run(cli)) => cli,
        Ok(Outcome::Display(help)) => {
            // Printing help can only fail on a closed stdout; nothing to add then.
            let _ = help.print();
            exit(0)
        }
        Ok(Outcome::Usage(usage)) => {
            // As for help: a closed stdout leaves nothing to add.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), usage.as_bytes());
            exit(0)
        }
        Err(err) => {
            eprintln!("{name}: {} (see '{name} --help')", err.0);
            exit(EXIT_USAGE)
        }
    }
}

/// A user id: a number in [0, 2^32 - 2] (as upstream), or a user name. A
/// number out of that range (negative, or too big for any integer type) is
/// said to be one, as upstream's `Invalid UID` does.
pub fn parse_uid(value: &str) -> Result<u32, String> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Any count of digits: what fits no integer type is out of range too.
        return match value.parse::<i128>().map(u32::try_from) {
            Ok(Ok(uid)) if uid != u32::MAX => Ok(uid),
            _ => Err(format!(
                "Invalid UID {value}: out of range [0, {}]",
                u32::MAX - 1
            )),
        };
    }
    match User::from_name(value) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        Ok(None) => Err(format!("no such user '{value}'")),
        Err(errno) => Err(format!("cannot look up user '{value}': {errno}")),
    }
}

/// A regular expression (-n, -l), matched against bytes (a name or an
/// argument need not be UTF-8): `.` is any byte, and classes such as `\w`
/// and `(?i)` are ASCII. Its error in one line, naming the problem.
pub fn parse_regex(value: &str) -> Result<regex::bytes::Regex, String> {
    let regex = regex::bytes::RegexBuilder::new(value)
        .unicode(false)
        .build();
    regex.map_err(|err| {
        let text = err.to_string();
        // A syntax error spans lines (pattern, caret, "error: ..."): keep the last.
        let problem = text.lines().rev().find(|line| !line.trim().is_empty());
        let problem = problem.unwrap_or("invalid");
        format!(
            "not a valid regular expression: {}",
            problem.trim().trim_start_matches("error: ")
        )
    })
}

/// A process id in [1, INT_MAX].
pub fn parse_pid(value: &str) -> Result<i32, String> {
    match value.parse::<i32>() {
        Ok(pid) if pid >= 1 => Ok(pid),
        _ => Err(format!(
            "'{value}' is not a process id (a number in [1, {}])",
            i32::MAX
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_numbers_or_user_names() {
        assert_eq!(parse_uid("0"), Ok(0));
        assert_eq!(parse_uid("1000"), Ok(1000));
        assert_eq!(parse_uid("4294967294"), Ok(4_294_967_294));
        assert!(parse_uid("4294967295")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_uid("99999999999")
            .unwrap_err()
            .contains("out of range"));
        for bad in [
            "-1",
            "99999999999999999999",
            "-99999999999999999999",
            "1".repeat(60).as_str(),
        ] {
            assert_eq!(
                parse_uid(bad),
                Err(format!("Invalid UID {bad}: out of range [0, 4294967294]"))
            );
        }
        assert_eq!(parse_uid("+7"), Ok(7));
        assert_eq!(parse_uid("-0"), Ok(0));
        assert_eq!(parse_uid("root"), Ok(0));
        assert_eq!(
            parse_uid("no-such-user-here"),
            Err("no such user 'no-such-user-here'".into())
        );
    }

    #[test]
    fn regex_errors_are_one_line_that_names_the_problem() {
        assert!(parse_regex("^ba.h$").unwrap().is_match(b"bash"));
        assert!(parse_regex(r"(?i)^\w+SH$").unwrap().is_match(b"bash"));
        assert!(parse_regex("é").unwrap().is_match("café".as_bytes()));
        assert!(parse_regex("^x.y$").unwrap().is_match(b"x\xffy"));
        assert_eq!(
            parse_regex("(").unwrap_err(),
            "not a valid regular expression: unclosed group"
        );
    }

    #[test]
    fn sizes_take_binary_suffixes_within_bounds() {
        assert_eq!(parse_size("65536"), Ok(64 << 10));
        assert_eq!(parse_size("256K"), Ok(256 << 10));
        assert_eq!(parse_size("4m"), Ok(4 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in [
            "",
            "K",
            "12",
            "63K",
            "2G",
            "4X",
            "-1M",
            "1.5M",
            "99999999999999999999G",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn pids_are_positive_ints() {
        assert_eq!(parse_pid("1"), Ok(1));
        assert_eq!(parse_pid("2147483647"), Ok(i32::MAX));
        for bad in ["0", "-1", "abc", "2147483648", ""] {
            assert!(parse_pid(bad).is_err(), "{bad} accepted");
        }
    }
}
