//! execsnoop's flags: libbpf-tools' set, plus BCC Python's that do not clash.

use std::path::PathBuf;

use clap::Parser;
use regex::bytes::Regex;

use crate::bpf_constants::MAX_ARGS;
use crate::cli::{parse_pid, parse_regex, parse_uid, CommonArgs, PinnedFilterArgs};
/// Upstream's default for --max-args.
pub const DEFAULT_MAX_ARGS: usize = 20;

#[derive(Debug, Parser)]
#[command(
    name = "execsnoop",
    version,
    disable_help_flag = true,
    about = "Trace exec() syscalls",
    after_help = super::manual::MANUAL.help_examples("execsnoop")
)]
pub struct Cli {
    /// Include time column on output (HH:MM:SS)
    #[arg(short = 'T', long)]
    pub time: bool,
    /// Include timestamp on output (seconds since start)
    #[arg(short = 't', long)]
    pub timestamp: bool,
    /// Include failed exec()s
    #[arg(short = 'x', long)]
    pub fails: bool,
    /// Trace this UID only (a number or a user name)
    #[arg(short = 'u', long, value_name = "UID", value_parser = parse_uid)]
    pub uid: Option<u32>,
    /// Add quotemarks (") around arguments
    #[arg(short = 'q', long)]
    pub quote: bool,
    /// Trace commands whose name matches this regular expression
    #[arg(short = 'n', long, value_name = "NAME", value_parser = parse_regex)]
    pub name: Option<Regex>,
    /// Trace commands whose arguments match this regular expression
    #[arg(short = 'l', long, value_name = "LINE", value_parser = parse_regex)]
    pub line: Option<Regex>,
    /// Print UID column
    #[arg(short = 'U', long)]
    pub print_uid: bool,
    /// Maximum number of arguments parsed and displayed, in [1, 60]
    #[arg(long, value_name = "MAX_ARGS", default_value_t = DEFAULT_MAX_ARGS, value_parser = parse_max_args,
          allow_negative_numbers = true)]
    pub max_args: usize,
    /// Trace processes in this cgroup v2 directory (and below it) only
    #[arg(short = 'c', long, value_name = "PATH")]
    pub cgroup: Option<PathBuf>,
    /// Trace children of this PID only
    #[arg(short = 'P', long, value_name = "PPID", value_parser = parse_pid)]
    pub ppid: Option<i32>,
    /// Print CPU column
    #[arg(short = 'C', long)]
    pub print_cpu: bool,
    /// Print the parent's command name (PPCOMM column)
    #[arg(short = 'M', long)]
    pub print_pcomm: bool,
    /// Print the container (short id), else the systemd unit, else the cgroup v2 path (CONTAINER column)
    #[arg(long)]
    pub container: bool,
    /// Print the chain of parent processes, comm(pid) joined by '<' (ANCESTORS column)
    #[arg(long)]
    pub ancestors: bool,
    /// Print the working directory at exec (CWD column)
    #[arg(long)]
    pub cwd: bool,
    #[command(flatten)]
    pub pinned: PinnedFilterArgs,
    #[command(flatten)]
    pub common: CommonArgs,
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
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("execsnoop").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_upstream() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.max_args, 20);
        assert!(!cli.fails && !cli.quote && !cli.time && !cli.timestamp && !cli.print_uid);
        assert!(cli.uid.is_none() && cli.cgroup.is_none() && cli.ppid.is_none());
        assert!(!cli.container && !cli.ancestors && !cli.cwd);
    }

    #[test]
    fn context_flags_parse() {
        let cli = parse(&["--container", "--ancestors", "--cwd"]).unwrap();
        assert!(cli.container && cli.ancestors && cli.cwd);
    }

    #[test]
    fn upstream_and_bcc_flags_parse() {
        let cli = parse(&[
            "-T",
            "-t",
            "-x",
            "-u",
            "0",
            "-q",
            "-n",
            "ba.h",
            "-l",
            "x+",
            "-U",
            "--max-args",
            "60",
            "-c",
            "/sys/fs/cgroup",
            "-P",
            "1",
            "-C",
            "-M",
            "--cgroupmap",
            "/a",
            "--mntnsmap",
            "/b",
            "-v",
        ])
        .unwrap();
        assert!(cli.time && cli.timestamp && cli.fails && cli.quote && cli.print_uid);
        assert!(cli.print_cpu && cli.print_pcomm && cli.common.verbose);
        assert_eq!(cli.uid, Some(0));
        assert_eq!(cli.max_args, 60);
        assert_eq!(cli.ppid, Some(1));
        assert!(cli.name.as_ref().unwrap().is_match(b"bash"));
        assert_eq!(cli.pinned.mntnsmap, Some(PathBuf::from("/b")));
        assert_eq!(parse(&["--uid", "root"]).unwrap().uid, Some(0));
    }

    #[test]
    fn argp_help_spellings_print_help() {
        for flag in ["-h", "--help", "-?", "--usage"] {
            let kind = parse(&[flag]).unwrap_err().kind();
            assert_eq!(kind, clap::error::ErrorKind::DisplayHelp, "{flag}");
        }
    }

    #[test]
    fn bad_values_are_rejected_with_upstream_wording() {
        for bad in ["0", "61", "-1", "x"] {
            let err = parse(&["--max-args", bad]).unwrap_err().to_string();
            assert!(
                err.contains(&format!(
                    "Invalid MAX_ARGS {bad}, should be in [1, 60] range"
                )),
                "{err}"
            );
        }
        assert!(parse(&["-u", "nosuchuser-xyz"])
            .unwrap_err()
            .to_string()
            .contains("no such user"));
        assert!(parse(&["-n", "("]).is_err());
        assert!(parse(&["-P", "0"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
