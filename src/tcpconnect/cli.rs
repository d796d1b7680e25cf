//! tcpconnect's flags: libbpf-tools' set, plus BCC Python's that do not clash.

use clap::{Parser, ValueEnum};

use crate::bpf_constants::MAX_PORTS;
use crate::cli::{parse_pid, parse_uid, CommonArgs, PinnedFilterArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AttachChoice {
    /// The first of fentry, kprobe, tracepoint that works here
    Auto,
    /// fexit on tcp_v4_connect/tcp_v6_connect (BPF trampolines, Linux >= 5.5)
    Fentry,
    /// kprobe + kretprobe on tcp_v4_connect/tcp_v6_connect (CONFIG_KPROBES)
    Kprobe,
    /// The sock:inet_sock_set_state tracepoint, BTF-typed where possible (Linux >= 5.3)
    Tracepoint,
}

/// Upstream's long options (libbpf-tools tcpconnect, with argp's own): a
/// prefix unique among these means that option, even where one of ours
/// shares it (src/argp.rs).
pub const UPSTREAM_LONG_OPTIONS: &[&str] = &[
    "timestamp",
    "pid",
    "uid",
    "print-uid",
    "count",
    "source-port",
    "port",
    "cgroupmap",
    "mntnsmap",
    "verbose",
    "help",
    "usage",
    "version",
];

#[derive(Debug, Parser)]
#[command(
    version,
    disable_help_flag = true,
    about = "Count/Trace active tcp connections",
    // Upstream's short options for the pinned-map filters.
    mut_arg("cgroupmap", |arg| arg.short('C')),
    mut_arg("mntnsmap", |arg| arg.short('M'))
)]
pub struct Cli {
    /// Include timestamp on output (seconds since the first event)
    #[arg(short = 't', long)]
    pub timestamp: bool,
    /// Process ID to trace
    #[arg(short = 'p', long, value_name = "PID", value_parser = parse_pid)]
    pub pid: Option<i32>,
    /// Process UID to trace (a number or a user name)
    #[arg(short = 'u', long, value_name = "UID", value_parser = parse_uid)]
    pub uid: Option<u32>,
    /// Include UID on output
    #[arg(short = 'U', long)]
    pub print_uid: bool,
    /// Count connects per source IP and destination IP/port
    #[arg(short = 'c', long)]
    pub count: bool,
    /// Consider source port when counting (and show SPORT when tracing)
    #[arg(short = 's', long)]
    pub source_port: bool,
    /// Comma-separated list of destination ports to trace (at most 64)
    #[arg(short = 'P', long = "port", value_name = "PORTS", value_parser = parse_ports)]
    pub ports: Option<PortList>,
    #[command(flatten)]
    pub pinned: PinnedFilterArgs,
    /// Trace IPv4 family only
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Trace IPv6 family only
    #[arg(short = '6', long)]
    pub ipv6: bool,
    /// Include LPORT (the local port) on output
    #[arg(short = 'L', long)]
    pub lport: bool,
    /// Include the container (short id), else the systemd unit, else the cgroup v2 path (CONTAINER column)
    #[arg(long, conflicts_with = "count")]
    pub container: bool,
    /// Print each connect once its result is known, with RESULT (ok, refused,
    /// timeout, closed, an error such as EHOSTUNREACH, pending on exit) and
    /// LAT(ms) last; with -c, count per result. -t counts from the start
    #[arg(long)]
    pub outcome: bool,
    /// Only connects whose result is not ok (implies --outcome)
    #[arg(long)]
    pub failed: bool,
    /// Include QUERY, last: the DNS name each destination was looked up by, from the UDP and
    /// TCP answers of the connect's network namespace seen since tracing started (not DNS over
    /// TLS or HTTPS, nor names cached in a process), with " (N.NNNms)" past 100 ms; localhost
    /// for 127.0.0.1 and ::1, "No DNS Query" when no answer named it
    #[arg(short = 'd', long, conflicts_with = "count")]
    pub dns: bool,
    /// How to hook connects
    #[arg(long, value_enum, default_value_t = AttachChoice::Auto)]
    pub attach: AttachChoice,
    #[command(flatten)]
    pub common: CommonArgs,
}

tool_cli!(Cli, UPSTREAM_LONG_OPTIONS);

impl Cli {
    /// Whether each connect is followed to its result (--outcome, --failed).
    pub fn outcome(&self) -> bool {
        self.outcome || self.failed
    }
}

/// Destination ports, from one comma-separated -P value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortList(pub Vec<u16>);

/// `80`, `80,443`: each port in [1, 65535], at most MAX_PORTS of them.
fn parse_ports(value: &str) -> Result<PortList, String> {
    let ports = value
        .split(',')
        .map(|port| match port.trim().parse::<u16>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "invalid port '{port}': must be a number in [1, 65535]"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ports.len() > MAX_PORTS {
        return Err(format!(
            "{} ports given, at most {MAX_PORTS} are supported",
            ports.len()
        ));
    }
    Ok(PortList(ports))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use super::*;

    use crate::argp::{parse_from, Outcome};
    use crate::runtime::pipeline::command;

    /// The command line as the tool parses it (src/argp.rs).
    fn parse(args: &[&str]) -> Result<Cli, String> {
        let argv = std::iter::once("tcpconnect").chain(args.iter().copied());
        match parse_from(command::<super::super::Tcpconnect>(), "tcpconnect", argv.map(OsString::from)).map_err(|err| err.0)? {
            Outcome::Run(cli) => Ok(cli),
            Outcome::Usage(_) => Err("--usage".into()),
            Outcome::Display(help) => Err(format!("{:?}", help.kind())),
        }
    }

    #[test]
    fn defaults_match_upstream() {
        let cli = parse(&[]).unwrap();
        assert!(!cli.timestamp && !cli.count && !cli.source_port && !cli.print_uid && !cli.lport);
        assert!(cli.pid.is_none() && cli.uid.is_none() && cli.ports.is_none());
        assert!(!cli.outcome());
        assert_eq!(cli.attach, AttachChoice::Auto);
    }

    #[test]
    fn failed_implies_outcome() {
        assert!(parse(&["--outcome"]).unwrap().outcome());
        let failed = parse(&["--failed"]).unwrap();
        assert!(failed.outcome() && failed.failed);
    }

    #[test]
    fn all_flags_parse() {
        let cli = parse(&[
            "-t",
            "-p",
            "42",
            "-u",
            "root",
            "-U",
            "-c",
            "-s",
            "-P",
            "80,443",
            "-C",
            "/a",
            "-M",
            "/b",
            "-4",
            "-L",
            "--attach",
            "tracepoint",
            "-v",
        ])
        .unwrap();
        assert_eq!(cli.pid, Some(42));
        assert_eq!(cli.uid, Some(0));
        assert_eq!(cli.ports, Some(PortList(vec![80, 443])));
        assert_eq!(cli.attach, AttachChoice::Tracepoint);
        assert!(cli.ipv4 && cli.lport && cli.count && cli.source_port && cli.common.verbose);
        assert_eq!(cli.pinned.cgroupmap, Some(PathBuf::from("/a")));
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(parse(&["-P", "0"])
            .unwrap_err()
            .contains("invalid port '0'"));
        assert!(parse(&["-P", "70000"])
            .unwrap_err()
            .contains("invalid port '70000'"));
        assert!(parse(&["-P", "80,"]).is_err());
        let many = (1..=65)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse(&["-P", &many]).unwrap_err().contains("at most 64"));
        let most = (1..=64)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse(&["-P", &most]).unwrap().ports.unwrap().0.len(), 64);
        assert!(parse(&["-p", "abc"]).is_err());
        assert!(parse(&["-u", "nosuchuser-xyz"]).is_err());
        assert!(parse(&["-4", "-6"]).is_err());
        assert!(parse(&["--attach", "uprobe"]).is_err());
        // BCC refuses -d with -c too: count mode prints no rows to name.
        assert!(parse(&["-d", "-c"]).unwrap_err().contains("cannot be used with"));
    }

    #[test]
    fn dns_is_bccs_flag() {
        assert!(parse(&["-d"]).unwrap().dns);
        assert!(parse(&["--dns", "--outcome", "-U", "--container", "-P", "80"]).unwrap().dns);
        assert!(!parse(&[]).unwrap().dns);
    }

    #[test]
    fn upstream_long_options_are_ours() {
        crate::argp::assert_upstream_long_options_are_ours::<Cli>();
    }

    #[test]
    fn long_options_may_be_abbreviated_as_with_argp() {
        let cli = parse(&[
            "--cou",
            "--pi",
            "1",
            "--so",
            "--time",
            "--print",
            "--att=tracepoint",
        ])
        .unwrap();
        assert!(cli.count && cli.source_port && cli.timestamp && cli.print_uid);
        assert_eq!(cli.pid, Some(1));
        assert_eq!(cli.attach, AttachChoice::Tracepoint);
        assert_eq!(
            parse(&["--por=80,81"]).unwrap().ports,
            Some(PortList(vec![80, 81]))
        );
        assert_eq!(
            parse(&["--cg", "/a"]).unwrap().pinned.cgroupmap,
            Some(PathBuf::from("/a"))
        );
        assert_eq!(
            parse(&["--mn", "/m"]).unwrap().pinned.mntnsmap,
            Some(PathBuf::from("/m"))
        );
        assert!(parse(&["--ipv4"]).unwrap().ipv4 && parse(&["--l"]).unwrap().lport);
        assert_eq!(
            parse(&["--c"]).unwrap_err(),
            "option '--c' is ambiguous; possibilities: '--count' '--container' '--cgroupmap'"
        );
        assert_eq!(
            parse(&["--p", "1"]).unwrap_err(),
            "option '--p' is ambiguous; possibilities: '--pid' '--print-uid' '--port'"
        );
        assert_eq!(
            parse(&["--ipv"]).unwrap_err(),
            "option '--ipv' is ambiguous; possibilities: '--ipv4' '--ipv6'"
        );
        assert!(parse(&["--", "--cou"]).unwrap_err().contains("'--cou'"));
    }

    #[test]
    fn repeats_clusters_and_flag_like_values_work_as_with_argp() {
        let cli = parse(&["-c", "-c", "-t", "-t", "-st", "-p1", "-p", "2"]).unwrap();
        assert!(cli.count && cli.timestamp && cli.source_port);
        assert_eq!(cli.pid, Some(2));
        assert!(parse(&["-p", "-5"])
            .unwrap_err()
            .contains("'-5' is not a process id"));
        assert!(parse(&["--pid=-5"])
            .unwrap_err()
            .contains("'-5' is not a process id"));
        assert!(parse(&["-P", "-80"])
            .unwrap_err()
            .contains("invalid port '-80'"));
        assert!(parse(&["-u", "-1"]).unwrap_err().contains("Invalid UID -1"));
    }
}
