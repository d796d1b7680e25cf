//! exitsnoop's flags: libbpf-tools' set, plus BCC Python's that do not clash.

use std::path::PathBuf;

use clap::Parser;

use crate::bpf_constants::MAX_ARGS;
use crate::cli::{parse_pid, parse_uid, CommonArgs, PinnedFilterArgs};

/// Upstream's long options (libbpf-tools exitsnoop, with argp's own): a
/// prefix unique among these means that option, even where one of ours
/// shares it (src/argp.rs).
pub const UPSTREAM_LONG_OPTIONS: &[&str] = &[
    "timestamp",
    "failed",
    "pid",
    "threaded",
    "cgroup",
    "verbose",
    "help",
    "usage",
    "version",
];

#[derive(Debug, Parser)]
#[command(
    version,
    disable_help_flag = true,
    about = "Trace process termination"
)]
pub struct Cli {
    /// Include a time column on output (HH:MM:SS, the local wall clock)
    #[arg(short = 't', long)]
    pub timestamp: bool,
    /// Trace error exits only (a non-zero exit code, or a signal)
    #[arg(short = 'x', long)]
    pub failed: bool,
    /// Process ID to trace
    #[arg(short = 'p', long, value_name = "PID", value_parser = parse_pid)]
    pub pid: Option<i32>,
    /// Trace every thread that exits (default: each process, when its last thread does)
    #[arg(short = 'T', long)]
    pub threaded: bool,
    /// Trace processes in this cgroup v2 directory (and below it) only
    #[arg(short = 'c', long, value_name = "PATH")]
    pub cgroup: Option<PathBuf>,
    /// Trace this UID only (a number or a user name)
    #[arg(short = 'u', long, value_name = "UID", value_parser = parse_uid)]
    pub uid: Option<u32>,
    /// As -T (BCC Python's name)
    #[arg(long)]
    pub per_thread: bool,
    /// Include a time column in UTC, with milliseconds (implies -t)
    #[arg(long)]
    pub utc: bool,
    /// Add a LABEL column with this text (to tell several runs' logs apart)
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Print the command line of each process that exits: at most MAX_ARGS arguments, in [1, 60] (ARGS column)
    #[arg(long, value_name = "MAX_ARGS", value_parser = parse_max_args, allow_negative_numbers = true)]
    pub max_args: Option<usize>,
    /// Print the container (short id), else the systemd unit, else the cgroup v2 path (CONTAINER column)
    #[arg(long)]
    pub container: bool,
    /// Print the chain of parent processes, comm(pid) joined by '<' (ANCESTORS column)
    #[arg(long)]
    pub ancestors: bool,
    #[command(flatten)]
    pub pinned: PinnedFilterArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

tool_cli!(Cli, UPSTREAM_LONG_OPTIONS);

impl Cli {
    /// A row per thread (-T, --per-thread).
    pub fn per_thread(&self) -> bool {
        self.threaded || self.per_thread
    }

    /// Whether a time column is shown (-t, --utc).
    pub fn time_column(&self) -> bool {
        self.timestamp || self.utc
    }
}

fn parse_max_args(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_ARGS).contains(&n) => Ok(n),
        _ => Err(format!(
            "Invalid MAX_ARGS {value}, should be in [1, {MAX_ARGS}] range"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    use crate::argp::{parse_from, Outcome};
    use crate::runtime::pipeline::command;

    /// The command line as the tool parses it (src/argp.rs).
    fn parse(args: &[&str]) -> Result<Cli, String> {
        let argv = std::iter::once("exitsnoop").chain(args.iter().copied());
        let command = command::<super::super::Exitsnoop>();
        match parse_from(command, "exitsnoop", argv.map(OsString::from)).map_err(|err| err.0)? {
            Outcome::Run(cli) => Ok(cli),
            Outcome::Usage(_) => Err("--usage".into()),
            Outcome::Display(help) => Err(format!("{:?}", help.kind())),
        }
    }

    #[test]
    fn defaults_match_upstream() {
        let cli = parse(&[]).unwrap();
        assert!(!cli.timestamp && !cli.failed && !cli.per_thread() && !cli.time_column());
        assert!(cli.pid.is_none() && cli.cgroup.is_none() && cli.max_args.is_none());
        assert!(cli.label.is_none() && !cli.container && !cli.ancestors);
    }

    #[test]
    fn upstream_and_bcc_flags_parse() {
        let cli = parse(&["-t", "-x", "-p", "42", "-T", "-c", "/sys/fs/cgroup", "-v"]).unwrap();
        assert!(cli.timestamp && cli.failed && cli.per_thread() && cli.common.verbose);
        assert_eq!(cli.pid, Some(42));
        assert!(parse(&["--per-thread"]).unwrap().per_thread());
        let cli = parse(&["--utc", "--label", "web"]).unwrap();
        assert!(cli.time_column() && cli.label.as_deref() == Some("web"));
        // argp prefixes: --thr is --threaded, --fail is --failed.
        assert!(parse(&["--thr"]).unwrap().threaded);
        assert!(parse(&["--fail"]).unwrap().failed);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["-p", "0"]).is_err());
        assert!(parse(&["-p", "x"]).is_err());
        let err = parse(&["--max-args", "61"]).unwrap_err();
        assert!(err.contains("Invalid MAX_ARGS 61, should be in [1, 60] range"), "{err}");
        assert_eq!(parse(&["--max-args", "3"]).unwrap().max_args, Some(3));
    }

    #[test]
    fn upstream_long_options_are_ours() {
        crate::argp::assert_upstream_long_options_are_ours::<Cli>();
    }
}
