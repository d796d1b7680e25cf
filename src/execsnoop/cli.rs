//! execsnoop's flags: libbpf-tools' set, plus BCC Python's that do not clash.

use std::path::PathBuf;

use clap::Parser;
use regex::bytes::Regex;

use crate::bpf_constants::MAX_ARGS;
use crate::cli::{parse_pid, parse_regex, parse_uid, CommonArgs, PinnedFilterArgs};
/// Upstream's default for --max-args.
pub const DEFAULT_MAX_ARGS: usize = 20;

/// Upstream's long options (libbpf-tools execsnoop, with argp's own): a
/// prefix unique among these means that option, even where one of ours
/// shares it (src/argp.rs).
pub const UPSTREAM_LONG_OPTIONS: &[&str] = &[
    "time",
    "timestamp",
    "fails",
    "uid",
    "quote",
    "name",
    "line",
    "print-uid",
    "max-args",
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
    /// Add quotemarks (") around arguments (not with --json, whose strings are exact)
    #[arg(short = 'q', long, conflicts_with = "json")]
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

tool_cli!(Cli, UPSTREAM_LONG_OPTIONS);

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

    use std::ffi::OsString;

    use crate::argp::{parse_from, Outcome};
    use crate::runtime::pipeline::command;

    /// The command line as the tool parses it (src/argp.rs).
    fn argp(args: &[&str]) -> Result<Outcome<Cli>, String> {
        let argv = std::iter::once("execsnoop").chain(args.iter().copied());
        parse_from(command::<super::super::Execsnoop>(), "execsnoop", argv.map(OsString::from)).map_err(|err| err.0)
    }

    fn parse(args: &[&str]) -> Result<Cli, String> {
        match argp(args)? {
            Outcome::Run(cli) => Ok(cli),
            Outcome::Usage(_) => Err("--usage".into()),
            Outcome::Display(help) => Err(format!("{:?}", help.kind())),
        }
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
        for flag in ["-h", "--help", "-?", "--he", "-T?"] {
            let outcome = argp(&[flag]).unwrap();
            assert!(
                matches!(&outcome, Outcome::Display(help) if help.kind() == clap::error::ErrorKind::DisplayHelp),
                "{flag}: {outcome:?}"
            );
        }
        for flag in ["--usage", "--us", "--usa"] {
            assert!(
                matches!(argp(&[flag]).unwrap(), Outcome::Usage(_)),
                "{flag}"
            );
        }
        // Where argp acts on --usage: after the options before it, not after.
        assert!(matches!(
            argp(&["-T", "-T", "--usage", "--bogus"]).unwrap(),
            Outcome::Usage(_)
        ));
        assert!(argp(&["--bogus", "--usage"])
            .unwrap_err()
            .contains("--bogus"));
        // --usage takes no value.
        assert!(argp(&["--usage=1"])
            .unwrap_err()
            .contains("unexpected value '1'"));
        // A value is not an option, whatever it looks like.
        assert_eq!(
            parse(&["-n", "--usage"]).unwrap().name.unwrap().as_str(),
            "--usage"
        );
    }

    #[test]
    fn bad_values_are_rejected_with_upstream_wording() {
        for bad in ["0", "61", "-1", "x"] {
            let err = parse(&["--max-args", bad]).unwrap_err();
            assert!(
                err.contains(&format!(
                    "Invalid MAX_ARGS {bad}, should be in [1, 60] range"
                )),
                "{err}"
            );
        }
        assert!(parse(&["-u", "nosuchuser-xyz"])
            .unwrap_err()
            .contains("no such user"));
        assert!(parse(&["-n", "("]).is_err());
        assert!(parse(&["-P", "0"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }

    #[test]
    fn upstream_long_options_are_ours() {
        crate::argp::assert_upstream_long_options_are_ours::<Cli>();
    }

    #[test]
    fn long_options_may_be_abbreviated_as_with_argp() {
        let cli = parse(&["--max", "3", "--quo", "--fail", "--ti", "x"]);
        assert!(cli.unwrap_err().contains("option '--ti' is ambiguous"));
        let cli = parse(&["--max", "3", "--quo", "--fail", "--time"]).unwrap();
        assert!(cli.quote && cli.fails && cli.time && !cli.timestamp);
        assert_eq!(cli.max_args, 3);
        assert_eq!(parse(&["--max=4"]).unwrap().max_args, 4);
        assert_eq!(parse(&["--m", "5"]).unwrap().max_args, 5);
        assert_eq!(parse(&["--ui=0"]).unwrap().uid, Some(0));
        // argp's own options count: --u is --uid or --usage.
        assert!(parse(&["--u", "0"])
            .unwrap_err()
            .contains("'--uid' '--usage'"));
        assert!(parse(&["--timest"]).unwrap().timestamp);
        // Unique among upstream's options: upstream's meaning, though
        // --print-cpu and --print-pcomm (ours) share the prefix too.
        let cli = parse(&["--print"]).unwrap();
        assert!(cli.print_uid && !cli.print_cpu && !cli.print_pcomm);
        assert!(parse(&["--p"]).unwrap().print_uid);
        assert!(parse(&["--print-c"]).unwrap().print_cpu);
        assert!(parse(&["--print-p"]).unwrap().print_pcomm);
        assert_eq!(parse(&["--pp", "7"]).unwrap().ppid, Some(7));
        // An exact name wins; upstream's --cgroup for its prefixes.
        let cli = parse(&["--cgroup", "/a", "--cgroupm", "/b"]).unwrap();
        assert_eq!(cli.cgroup, Some(PathBuf::from("/a")));
        assert_eq!(cli.pinned.cgroupmap, Some(PathBuf::from("/b")));
        assert_eq!(
            parse(&["--c=/c"]).unwrap().cgroup,
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            parse(&["--mn", "/m"]).unwrap().pinned.mntnsmap,
            Some(PathBuf::from("/m"))
        );
        assert!(parse(&["--j"]).unwrap().common.json);
        assert!(parse(&["--verb"]).unwrap().common.verbose);
        assert_eq!(
            parse(&["--ti"]).unwrap_err(),
            "option '--ti' is ambiguous; possibilities: '--time' '--timestamp'"
        );
        assert_eq!(
            parse(&["--ti=1"]).unwrap_err(),
            "option '--ti' is ambiguous; possibilities: '--time' '--timestamp'"
        );
        // Not a prefix of anything: clap's own error.
        assert!(parse(&["--maxx"]).unwrap_err().contains("'--maxx'"));
        // After --, nothing is an option.
        assert!(parse(&["--", "--max"]).unwrap_err().contains("'--max'"));
    }

    #[test]
    fn short_clusters_and_repeats_work_as_with_argp() {
        let cli = parse(&["-Tx", "-u1000", "-xUq"]).unwrap();
        assert!(cli.time && cli.fails && cli.print_uid && cli.quote);
        assert_eq!(cli.uid, Some(1000));
        assert_eq!(parse(&["-xu", "0"]).unwrap().uid, Some(0));
        let cli = parse(&["-T", "-T", "-x", "-x", "-q", "--quote", "-U", "-U"]).unwrap();
        assert!(cli.time && cli.fails && cli.quote && cli.print_uid);
        // The last value given counts, as with argp.
        let cli = parse(&["-u", "1", "--uid", "2", "--max-args", "3", "--max", "4"]).unwrap();
        assert_eq!((cli.uid, cli.max_args), (Some(2), 4));
        // A cluster's value is the rest of it; the next word is not an option.
        assert_eq!(
            parse(&["-n", "--ti"]).unwrap().name.unwrap().as_str(),
            "--ti"
        );
        assert_eq!(
            parse(&["-xn", "--fail"]).unwrap().name.unwrap().as_str(),
            "--fail"
        );
    }

    #[test]
    fn values_that_look_like_flags_reach_their_checks() {
        for args in [
            &["-u", "-1"][..],
            &["--uid", "-1"],
            &["--uid=-1"],
            &["-u-1"],
            &["--ui", "-1"],
        ] {
            assert_eq!(
                parse(args).unwrap_err(),
                "invalid value '-1' for '--uid <UID>': Invalid UID -1: out of range [0, 4294967294]",
                "{args:?}"
            );
        }
        assert!(parse(&["-u", "99999999999999999999"])
            .unwrap_err()
            .contains("Invalid UID 99999999999999999999: out of range"));
        assert!(parse(&["--max-args", "-1"])
            .unwrap_err()
            .contains("Invalid MAX_ARGS -1, should be in [1, 60] range"));
        assert!(parse(&["-P", "-5"])
            .unwrap_err()
            .contains("'-5' is not a process id"));
        // A flag's value may be a flag's name, as with getopt.
        assert!(parse(&["-u", "-x"])
            .unwrap_err()
            .contains("no such user '-x'"));
    }

    #[test]
    fn json_and_quote_do_not_go_together() {
        for args in [&["--json", "-q"][..], &["-q", "--json"], &["--quo", "--js"]] {
            let err = parse(args).unwrap_err();
            assert!(
                err.contains("'--json'")
                    && err.contains("'--quote'")
                    && err.contains("cannot be used with"),
                "{args:?}: {err}"
            );
        }
        assert!(parse(&["--json"]).is_ok() && parse(&["-q"]).is_ok());
    }
}
