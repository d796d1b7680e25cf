//! tcpconnect on the real kernel: each test starts the built binary as root,
//! makes real TCP connects over loopback and checks the lines it prints (see
//! tests/common/mod.rs for the harness and the sentinel pattern).
//!
//! Every test connects to ports of its own: a listener bound to port 0 gets a
//! free port and keeps it while the test runs, so tests running in parallel
//! and the host's own connects are told apart by destination port and pid.
//! On these machines only the tracepoint way of attaching works; the kprobe
//! and fentry ways are tested for their failure.

mod common;

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use common::{
    assert_one_error_line, bpf_map_types, require_root, run, unique_marker, Finished, Gated,
    PinnedMap, TempDir, TestCgroup, Tool, TIMEOUT,
};
use libbpf_rs::MapType;
use nix::sys::signal::Signal;

const TCPCONNECT: &str = env!("CARGO_BIN_EXE_tcpconnect");
const COUNT_READY: &str = "Tracing connects... Hit Ctrl-C to end.";

/// `enum bpf_map_type` values, as /proc/PID/fdinfo shows them.
const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;

const LOCALHOST_V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn tcpconnect_command(args: &[&str]) -> Command {
    let mut command = Command::new(TCPCONNECT);
    command.args(args);
    command
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The pid of this test process, the PID column of its own connects.
fn test_pid() -> String {
    std::process::id().to_string()
}

/// The comm the kernel reports for connects made by the calling thread (a
/// test thread is named after its test, truncated to 15 bytes).
fn current_thread_comm() -> String {
    let comm = fs::read_to_string("/proc/thread-self/comm").expect("read the thread's comm");
    comm.trim_end_matches('\n').to_string()
}

/// A listener on a free port of `ip`; connects to it succeed.
fn listen(ip: IpAddr) -> (TcpListener, u16) {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback listener");
    let port = listener.local_addr().expect("listener address").port();
    (listener, port)
}

/// A port nothing listens on: the connect's SYN is answered by a RST.
fn closed_port(ip: IpAddr) -> u16 {
    listen(ip).1
}

/// Connects to `addr` and closes at once; a refused connect still sent its SYN.
fn connect(addr: SocketAddr) {
    let _ = TcpStream::connect_timeout(&addr, TIMEOUT);
}

/// Connects to `listener` and returns the client's source port as the
/// server side sees it.
fn connect_and_accept(listener: &TcpListener) -> u16 {
    let addr = listener.local_addr().expect("listener address");
    let _client = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect to the listener");
    // The handshake is complete, so the connection is already queued.
    let (_server, peer) = listener.accept().expect("accept");
    peer.port()
}

/// `bash -c` script that connects to 127.0.0.1:`port` (bash's /dev/tcp).
fn bash_connect_v4(port: u16) -> String {
    format!("exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'")
}

/// One trace-mode line, by column name.
struct Row(HashMap<String, String>);

impl Row {
    fn get(&self, column: &str) -> &str {
        self.0
            .get(column)
            .unwrap_or_else(|| panic!("no {column} column"))
    }

    fn dport_is(&self, port: u16) -> bool {
        self.get("DPORT") == port.to_string()
    }

    fn is_from(&self, pid: &str, port: u16) -> bool {
        self.get("PID") == pid && self.dport_is(port)
    }
}

/// Trace mode's columns, split around COMM: the only column whose values may
/// contain spaces, so the others are taken from either end of a line.
struct Layout {
    before_comm: Vec<String>,
    after_comm: Vec<String>,
}

impl Layout {
    fn from_header(header: &str) -> Self {
        let names: Vec<String> = header.split_whitespace().map(String::from).collect();
        let comm = names
            .iter()
            .position(|name| name == "COMM")
            .unwrap_or_else(|| panic!("no COMM column in the header: {header}"));
        Self {
            before_comm: names[..comm].to_vec(),
            after_comm: names[comm + 1..].to_vec(),
        }
    }

    /// None for lines that are not rows of this layout (the header included).
    fn parse(&self, line: &str) -> Option<Row> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let comm_end = fields.len().checked_sub(self.after_comm.len())?;
        if comm_end <= self.before_comm.len() || fields.last()?.parse::<u16>().is_err() {
            return None;
        }
        let mut row = HashMap::new();
        for (name, value) in self.before_comm.iter().zip(&fields) {
            row.insert(name.clone(), value.to_string());
        }
        for (name, value) in self.after_comm.iter().zip(&fields[comm_end..]) {
            row.insert(name.clone(), value.to_string());
        }
        row.insert(
            "COMM".to_string(),
            fields[self.before_comm.len()..comm_end].join(" "),
        );
        Some(Row(row))
    }
}

/// A tool running in trace mode, its header printed (it is printed once the
/// programs are attached, so connects from then on are traced).
struct Trace {
    tool: Tool,
    header: String,
    layout: Layout,
}

impl Trace {
    fn start(args: &[&str]) -> Self {
        Self::start_command(tcpconnect_command(args))
    }

    fn start_command(command: Command) -> Self {
        let mut tool = Tool::spawn(command);
        let header = tool.wait_for_header(TIMEOUT);
        let layout = Layout::from_header(&header);
        Self {
            tool,
            header,
            layout,
        }
    }

    /// The first row that `matches`, waiting for it; returned with its line.
    #[track_caller]
    fn expect_row(&mut self, matches: impl Fn(&Row) -> bool) -> (Row, String) {
        let layout = &self.layout;
        let line = self.tool.expect_line(
            |line| layout.parse(line).is_some_and(|row| matches(&row)),
            TIMEOUT,
        );
        (layout.parse(&line).expect("a matched row parses"), line)
    }

    /// Only meaningful after a sentinel row arrived (see the harness).
    #[track_caller]
    fn assert_no_row(&mut self, matches: impl Fn(&Row) -> bool) {
        let layout = &self.layout;
        self.tool
            .assert_no_line(|line| layout.parse(line).is_some_and(|row| matches(&row)));
    }

    fn rows_matching(&mut self, matches: impl Fn(&Row) -> bool) -> Vec<String> {
        let layout = &self.layout;
        self.tool
            .stdout_lines()
            .iter()
            .filter(|line| layout.parse(line).is_some_and(|row| matches(&row)))
            .cloned()
            .collect()
    }

    #[track_caller]
    fn stop(self) -> Finished {
        let finished = self.tool.stop_with(Signal::SIGINT);
        assert!(finished.status.success(), "SIGINT: {}", finished.status);
        finished
    }
}

/// Starts `command` and checks that a connect from this test to 127.0.0.1
/// shows as a row; returns how the tool ended on SIGINT.
fn check_traces_ipv4(command: Command) -> Finished {
    let (listener, port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start_command(command);
    connect_and_accept(&listener);
    trace.expect_row(|row| row.is_from(&test_pid(), port) && row.get("IP") == "4");
    trace.stop()
}

#[test]
fn ipv4_connect_is_one_row_with_pid_comm_and_addresses() {
    if !require_root() {
        return;
    }
    let (listener, port) = listen(LOCALHOST_V4);
    let refused = closed_port(LOCALHOST_V4);
    let mut trace = Trace::start(&[]);
    assert_eq!(
        trace.header,
        "PID    COMM             IP SADDR            DADDR            DPORT"
    );

    connect_and_accept(&listener);
    let (_, line) = trace.expect_row(|row| row.dport_is(port));
    let expected = format!(
        "{:<6} {:<16} {:<2} {:<16} {:<16} {:<5}",
        test_pid(),
        current_thread_comm(),
        4,
        "127.0.0.1",
        "127.0.0.1",
        port
    );
    assert_eq!(line, expected);

    // Refused by the peer, but the kernel accepted the connect and sent a SYN.
    connect(SocketAddr::new(LOCALHOST_V4, refused));
    trace.expect_row(|row| row.is_from(&test_pid(), refused));
    trace.stop();
}

#[test]
fn ipv6_connect_is_an_ipv6_row() {
    if !require_root() {
        return;
    }
    let (listener, port) = listen(LOCALHOST_V6);
    let mut trace = Trace::start(&[]);
    connect_and_accept(&listener);
    let (row, _) = trace.expect_row(|row| row.dport_is(port));
    assert_eq!(row.get("PID"), test_pid());
    assert_eq!(row.get("COMM"), current_thread_comm());
    assert_eq!(row.get("IP"), "6");
    assert_eq!(row.get("SADDR"), "::1");
    assert_eq!(row.get("DADDR"), "::1");
    trace.stop();
}

#[test]
fn ipv4_mapped_ipv6_connect_is_reported_once_as_ipv4() {
    if !require_root() {
        return;
    }
    let (mapped_listener, mapped_port) = listen(LOCALHOST_V4);
    let (sentinel_listener, sentinel_port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start(&[]);

    // An AF_INET6 socket (std picks the family from the address): the kernel
    // goes through tcp_v6_connect into tcp_v4_connect.
    let mapped = SocketAddrV6::new(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), mapped_port, 0, 0);
    let client = TcpStream::connect_timeout(&mapped.into(), TIMEOUT).expect("connect");
    assert!(client.local_addr().expect("local address").is_ipv6());
    mapped_listener.accept().expect("accept");
    connect_and_accept(&sentinel_listener);

    let (row, _) = trace.expect_row(|row| row.dport_is(mapped_port));
    assert_eq!(row.get("IP"), "4");
    assert_eq!(row.get("SADDR"), "127.0.0.1");
    assert_eq!(row.get("DADDR"), "127.0.0.1");
    trace.expect_row(|row| row.is_from(&test_pid(), sentinel_port));
    let rows = trace.rows_matching(|row| row.dport_is(mapped_port));
    assert_eq!(rows.len(), 1, "reported more than once: {rows:#?}");
    trace.stop();
}

#[test]
fn timestamp_uid_source_port_and_local_port_columns() {
    if !require_root() {
        return;
    }
    let (listener, port) = listen(LOCALHOST_V4);
    let port_arg = port.to_string();
    // Only this test's port: the first event, at 0.000, is then this test's.
    let mut trace = Trace::start(&["-t", "-U", "-s", "-L", "-P", &port_arg]);
    assert_eq!(
        trace.header,
        "TIME(s)  UID   PID    COMM             IP SADDR            LPORT DADDR            SPORT DPORT"
    );

    for first in [true, false] {
        let source_port = connect_and_accept(&listener).to_string();
        let (row, _) = trace.expect_row(|row| row.get("SPORT") == source_port);
        let seconds = row.get("TIME(s)");
        if first {
            assert_eq!(seconds, "0.000");
        } else {
            let (_, decimals) = seconds.split_once('.').expect("TIME(s) has decimals");
            assert_eq!(decimals.len(), 3, "TIME(s): {seconds}");
            assert!(seconds.parse::<f64>().expect("TIME(s) is a number") >= 0.0);
        }
        assert_eq!(row.get("UID"), "0");
        assert_eq!(row.get("LPORT"), source_port);
        assert!(row.is_from(&test_pid(), port));
    }
    trace.stop();
}

#[test]
fn pid_filter_shows_only_that_process() {
    if !require_root() {
        return;
    }
    let (_listener, port) = listen(LOCALHOST_V4);
    // The shell's pid is known before the tool starts; it connects when released.
    let shell = Gated::spawn(&[], &bash_connect_v4(port));
    let shell_pid = shell.pid().to_string();
    let mut trace = Trace::start(&["-p", &shell_pid]);

    connect(SocketAddr::new(LOCALHOST_V4, port));
    assert!(shell.release().success());
    let (row, _) = trace.expect_row(|row| row.is_from(&shell_pid, port));
    assert_eq!(row.get("COMM"), "bash");
    trace.assert_no_row(|row| row.get("PID") != shell_pid);
    trace.stop();
}

#[test]
fn uid_filter_shows_only_that_user() {
    if !require_root() {
        return;
    }
    let (_listener, port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start(&["-u", "4321", "-U"]);

    connect(SocketAddr::new(LOCALHOST_V4, port));
    let mut as_other_user = Command::new("setpriv");
    as_other_user
        .args(["--reuid", "4321", "--regid", "4321", "--clear-groups"])
        .args(["bash", "-c", &format!("exec 3<>/dev/tcp/127.0.0.1/{port}")]);
    let (pid, status) = run(&mut as_other_user);
    assert!(status.success(), "{as_other_user:?}: {status}");

    let (row, _) = trace.expect_row(|row| row.is_from(&pid.to_string(), port));
    assert_eq!(row.get("UID"), "4321");
    trace.assert_no_row(|row| row.get("UID") != "4321");
    trace.stop();
}

#[test]
fn port_filter_takes_several_ports() {
    if !require_root() {
        return;
    }
    let (first, first_port) = listen(LOCALHOST_V4);
    let (second, second_port) = listen(LOCALHOST_V6);
    let (unlisted, unlisted_port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start(&["-P", &format!("{first_port},{second_port}")]);

    connect_and_accept(&unlisted);
    connect_and_accept(&first);
    connect_and_accept(&second);
    trace.expect_row(|row| row.is_from(&test_pid(), first_port));
    trace.expect_row(|row| row.is_from(&test_pid(), second_port));
    trace.assert_no_row(|row| row.dport_is(unlisted_port));
    trace.assert_no_row(|row| !row.dport_is(first_port) && !row.dport_is(second_port));
    trace.stop();
}

/// With `family_flag`, connects of the other family are not shown. An
/// IPv4-mapped connect from an IPv6 socket counts as IPv4.
fn check_family_filter(family_flag: &str, shown: IpAddr, hidden: IpAddr) {
    let (hidden_listener, hidden_port) = listen(hidden);
    let (_mapped_listener, mapped_port) = listen(LOCALHOST_V4);
    let (shown_listener, shown_port) = listen(shown);
    let mut trace = Trace::start(&[family_flag]);

    connect_and_accept(&hidden_listener);
    let mapped_ip = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
    connect(SocketAddrV6::new(mapped_ip, mapped_port, 0, 0).into());
    connect_and_accept(&shown_listener);

    let shown_version = if shown.is_ipv4() { "4" } else { "6" };
    let (row, _) = trace.expect_row(|row| row.is_from(&test_pid(), shown_port));
    assert_eq!(row.get("IP"), shown_version);
    trace.assert_no_row(|row| row.dport_is(hidden_port));
    if shown.is_ipv4() {
        trace.expect_row(|row| row.dport_is(mapped_port));
    } else {
        trace.assert_no_row(|row| row.dport_is(mapped_port));
    }
    trace.assert_no_row(|row| row.get("IP") != shown_version);
    trace.stop();
}

#[test]
fn ipv4_flag_shows_only_ipv4() {
    if !require_root() {
        return;
    }
    check_family_filter("-4", LOCALHOST_V4, LOCALHOST_V6);
}

#[test]
fn ipv6_flag_shows_only_ipv6() {
    if !require_root() {
        return;
    }
    check_family_filter("-6", LOCALHOST_V6, LOCALHOST_V4);
}

/// A count-mode run. Count mode prints nothing on stdout until it exits and
/// says it is ready on stderr, which the harness hands over only at exit; so
/// a shell swaps the streams and execs the tool (keeping the pid, so signals
/// reach it): its stderr goes to the harness's stdout, waited for like a
/// header, and its stdout to a file, read once it has exited.
struct CountRun {
    tool: Tool,
    table: PathBuf,
    _dir: TempDir,
}

/// The count table: one entry per row, by column name, in printed order.
struct CountTable {
    lines: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

impl CountRun {
    fn start(args: &[&str]) -> Self {
        let dir = TempDir::new("tcpconnect-count");
        let table = dir.path().join("stdout");
        let mut command = Command::new("sh");
        command
            .args(["-c", r#"table="$1"; shift; exec "$@" 2>&1 >"$table""#, "sh"])
            .arg(&table)
            .arg(TCPCONNECT)
            .args(args);
        let mut tool = Tool::spawn(command);
        assert_eq!(tool.wait_for_header(TIMEOUT), COUNT_READY);
        Self {
            tool,
            table,
            _dir: dir,
        }
    }

    /// SIGINT, then the table the tool printed on its way out.
    fn stop(self) -> CountTable {
        let finished = self.tool.stop_with(Signal::SIGINT);
        assert!(finished.status.success(), "SIGINT: {}", finished.status);
        assert_eq!(finished.stdout, [COUNT_READY], "stderr");
        let text = fs::read_to_string(&self.table).expect("read the table");
        let lines: Vec<String> = text.lines().map(String::from).collect();
        assert!(text.ends_with('\n') && lines.len() >= 2, "table: {text:?}");
        assert_eq!(lines[0], "", "the table starts with a blank line");
        let names: Vec<&str> = lines[1].split_whitespace().collect();
        let rows = lines[2..]
            .iter()
            .map(|line| {
                let values = line.split_whitespace().map(String::from);
                names
                    .iter()
                    .map(|name| name.to_string())
                    .zip(values)
                    .collect()
            })
            .collect();
        CountTable { lines, rows }
    }
}

impl CountTable {
    fn header(&self) -> &str {
        &self.lines[1]
    }

    fn rows_to(&self, port: u16) -> Vec<&HashMap<String, String>> {
        let port = port.to_string();
        self.rows
            .iter()
            .filter(|row| row["RPORT"] == port)
            .collect()
    }
}

#[test]
fn count_mode_prints_a_table_of_connects_on_sigint() {
    if !require_root() {
        return;
    }
    let (five, five_port) = listen(LOCALHOST_V4);
    let (three, three_port) = listen(LOCALHOST_V4);
    let (two_v6, two_v6_port) = listen(LOCALHOST_V6);
    let run = CountRun::start(&["-c"]);
    for (listener, connects) in [(&two_v6, 2), (&five, 5), (&three, 3)] {
        for _ in 0..connects {
            connect_and_accept(listener);
        }
    }
    let table = run.stop();

    assert_eq!(
        table.header(),
        format!(
            "{:<25} {:<25} {:<20} {:<10}",
            "LADDR", "RADDR", "RPORT", "CONNECTS"
        )
    );
    for (port, laddr, connects) in [
        (five_port, "127.0.0.1", "5"),
        (three_port, "127.0.0.1", "3"),
        (two_v6_port, "::1", "2"),
    ] {
        let rows = table.rows_to(port);
        let [row] = rows.as_slice() else {
            panic!("one row to port {port} expected: {:#?}", table.lines);
        };
        assert_eq!(row["LADDR"], laddr);
        assert_eq!(row["RADDR"], laddr);
        assert_eq!(row["CONNECTS"], connects);
    }
    let exact = format!(
        "{:<25} {:<25} {:<20} {:<10}",
        "127.0.0.1", "127.0.0.1", five_port, 5
    );
    assert!(table.lines.contains(&exact), "{:#?}", table.lines);

    let is_v6: Vec<bool> = table
        .rows
        .iter()
        .map(|row| row["LADDR"].contains(':'))
        .collect();
    assert!(
        is_v6.windows(2).all(|pair| pair[0] <= pair[1]),
        "IPv4 rows must come first: {:#?}",
        table.lines
    );
}

#[test]
fn count_mode_with_source_port_counts_per_local_port() {
    if !require_root() {
        return;
    }
    let (listener, port) = listen(LOCALHOST_V4);
    let run = CountRun::start(&["-c", "-s"]);
    let mut source_ports: Vec<String> = (0..3)
        .map(|_| connect_and_accept(&listener).to_string())
        .collect();
    let table = run.stop();

    assert_eq!(
        table.header(),
        format!(
            "{:<25} {:<25} {:<20} {:<20} {:<10}",
            "LADDR", "RADDR", "LPORT", "RPORT", "CONNECTS"
        )
    );
    let rows = table.rows_to(port);
    assert!(rows.iter().all(|row| row["CONNECTS"] == "1"), "{rows:#?}");
    let mut counted_ports: Vec<String> = rows.iter().map(|row| row["LPORT"].clone()).collect();
    counted_ports.sort();
    source_ports.sort();
    assert_eq!(counted_ports, source_ports);
}

#[test]
fn cgroupmap_shows_only_cgroups_in_the_pinned_map() {
    if !require_root() {
        return;
    }
    let (_listener, port) = listen(LOCALHOST_V4);
    let cgroup = TestCgroup::create("tcpconnect-cgroupmap");
    let map = PinnedMap::create("tcpconnect-cgroupmap", MapType::Hash, 8);
    map.insert(cgroup.id());
    let mut trace = Trace::start(&["-C", path_arg(map.path())]);

    let inside = Gated::spawn(
        &[],
        &format!("{} && {}", cgroup.enter_command(), bash_connect_v4(port)),
    );
    let inside_pid = inside.pid().to_string();
    connect(SocketAddr::new(LOCALHOST_V4, port));
    assert!(inside.release().success());

    trace.expect_row(|row| row.is_from(&inside_pid, port));
    trace.assert_no_row(|row| row.is_from(&test_pid(), port));
    trace.stop();
}

#[test]
fn mntnsmap_shows_only_mount_namespaces_in_the_pinned_map() {
    if !require_root() {
        return;
    }
    let (_listener, port) = listen(LOCALHOST_V4);
    let unshared = Gated::spawn(
        &["unshare", "-m", "--propagation", "private"],
        &bash_connect_v4(port),
    );
    let same_namespace = Gated::spawn(&[], &bash_connect_v4(port));
    let mount_namespace = |pid: u32| {
        let path = format!("/proc/{pid}/ns/mnt");
        fs::metadata(&path).unwrap_or_else(|err| panic!("stat {path}: {err}"))
    };
    let unshared_ns = mount_namespace(unshared.pid()).ino();
    assert_ne!(unshared_ns, mount_namespace(std::process::id()).ino());
    let map = PinnedMap::create("tcpconnect-mntnsmap", MapType::Hash, 8);
    map.insert(unshared_ns);
    let mut trace = Trace::start(&["-M", path_arg(map.path())]);

    let (unshared_pid, same_namespace_pid) = (unshared.pid(), same_namespace.pid());
    connect(SocketAddr::new(LOCALHOST_V4, port));
    assert!(same_namespace.release().success());
    assert!(unshared.release().success());

    trace.expect_row(|row| row.is_from(&unshared_pid.to_string(), port));
    trace.assert_no_row(|row| row.is_from(&same_namespace_pid.to_string(), port));
    trace.assert_no_row(|row| row.is_from(&test_pid(), port));
    trace.stop();
}

#[test]
fn pinned_map_options_need_a_pinned_hash_map() {
    if !require_root() {
        return;
    }
    let dir = TempDir::new("tcpconnect-not-a-map");
    let regular_file = dir.path().join("regular");
    fs::write(&regular_file, "").expect("create a regular file");
    let missing = dir.path().join("missing");
    let array = PinnedMap::create("tcpconnect-array", MapType::Array, 4);

    for (flag, path, reason) in [
        ("-C", missing.as_path(), "not a pinned BPF map"),
        ("-M", regular_file.as_path(), "not a pinned BPF map"),
        ("-C", array.path(), "must be a hash map with 8-byte keys"),
    ] {
        let tool = Tool::spawn(tcpconnect_command(&[flag, path_arg(path)]));
        let finished = tool.wait_for_exit(TIMEOUT);
        let line = assert_one_error_line(&finished);
        let long_flag = if flag == "-C" {
            "--cgroupmap"
        } else {
            "--mntnsmap"
        };
        assert!(
            line.starts_with(&format!("tcpconnect: {long_flag} {}: ", path.display())),
            "{line}"
        );
        assert!(line.contains(reason), "{line}");
        assert!(finished.stdout.is_empty(), "{:#?}", finished.stdout);
    }
}

/// A network namespace whose loopback is left down, deleted on drop.
struct NetnsWithoutLoopback(String);

impl NetnsWithoutLoopback {
    fn add() -> Self {
        let name = unique_marker("tcpconnect");
        let (_, status) = run(Command::new("ip").args(["netns", "add", &name]));
        assert!(status.success(), "ip netns add {name}: {status}");
        Self(name)
    }
}

impl Drop for NetnsWithoutLoopback {
    fn drop(&mut self) {
        let _ = run(Command::new("ip").args(["netns", "delete", &self.0]));
    }
}

#[test]
fn connect_that_fails_before_syn_sent_is_not_reported() {
    if !require_root() {
        return;
    }
    let (_listener, port) = listen(LOCALHOST_V4);
    let netns = NetnsWithoutLoopback::add();
    let mut trace = Trace::start(&[]);

    // No route to 127.0.0.1 there: connect() fails with ENETUNREACH before
    // the socket reaches SYN_SENT.
    let (_, status) = run(Command::new("ip")
        .args(["netns", "exec", &netns.0, "bash", "-c"])
        .arg(format!("exec 3<>/dev/tcp/127.0.0.1/{port} || exit 42"))
        .stderr(std::process::Stdio::null()));
    assert_eq!(
        status.code(),
        Some(42),
        "the connect in {} did not fail",
        netns.0
    );
    connect(SocketAddr::new(LOCALHOST_V4, port));

    trace.expect_row(|row| row.is_from(&test_pid(), port));
    trace.assert_no_row(|row| row.dport_is(port) && row.get("PID") != test_pid());
    trace.stop();
}

#[test]
fn forced_kprobe_and_fentry_fail_here_with_one_clear_line() {
    if !require_root() {
        return;
    }
    for (way, missing) in [("kprobe", "CONFIG_KPROBES"), ("fentry", "BPF trampolines")] {
        let tool = Tool::spawn(tcpconnect_command(&["--attach", way]));
        let finished = tool.wait_for_exit(TIMEOUT);
        let line = assert_one_error_line(&finished);
        assert!(
            line.starts_with(&format!("tcpconnect: --attach {way}: ")),
            "{line}"
        );
        assert!(line.contains(missing), "{line}");
        assert!(finished.stdout.is_empty(), "{:#?}", finished.stdout);
    }
}

#[test]
fn auto_attach_falls_back_to_the_tracepoint_here() {
    if !require_root() {
        return;
    }
    let finished = check_traces_ipv4(tcpconnect_command(&["--attach", "auto", "-v"]));
    let has_line = |prefix: &str, rest: &str| {
        finished
            .stderr
            .iter()
            .any(|line| line.starts_with(prefix) && line.contains(rest))
    };
    assert!(
        has_line("tcpconnect: fentry (fexit/tcp_v4_connect", " not usable: "),
        "{:#?}",
        finished.stderr
    );
    assert!(
        has_line("tcpconnect: kprobe (kprobe+kretprobe", " not usable: "),
        "{:#?}",
        finished.stderr
    );
    // Here the BTF flavor of the tracepoint loads, so it is chosen.
    assert!(
        has_line(
            "tcpconnect: attached with tracepoint (tp_btf/inet_sock_set_state)",
            ""
        ),
        "{:#?}",
        finished.stderr
    );
}

#[test]
fn forced_tracepoint_traces_quietly() {
    if !require_root() {
        return;
    }
    let _no_burst = without_connect_burst();
    let finished = check_traces_ipv4(tcpconnect_command(&["--attach", "tracepoint"]));
    assert!(finished.stderr.is_empty(), "{:#?}", finished.stderr);
}

#[test]
fn bad_arguments_are_one_clear_error() {
    let too_many_ports = (1..=65)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    for (args, mentioned) in [
        (["-P", "0"].as_slice(), "'0'"),
        (&["-P", "70000"], "'70000'"),
        (&["-P", &too_many_ports], "at most 64"),
        (&["-p", "abc"], "'abc'"),
        (&["-u", "nosuchuser"], "no such user 'nosuchuser'"),
        (&["--no-such-flag"], "--no-such-flag"),
    ] {
        let finished = Tool::spawn(tcpconnect_command(args)).wait_for_exit(TIMEOUT);
        let line = assert_one_error_line(&finished);
        assert!(line.starts_with("tcpconnect: "), "{args:?}: {line}");
        assert!(line.contains(mentioned), "{args:?}: {line}");
        // EX_USAGE, as upstream's argp.
        assert_eq!(finished.status.code(), Some(64), "{args:?}");
        assert!(
            finished.stdout.is_empty(),
            "{args:?}: {:#?}",
            finished.stdout
        );
    }
}

#[test]
fn sigterm_stops_with_status_0() {
    if !require_root() {
        return;
    }
    let _no_burst = without_connect_burst();
    let (listener, port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start(&[]);
    connect_and_accept(&listener);
    trace.expect_row(|row| row.is_from(&test_pid(), port));
    let finished = trace.tool.stop_with(Signal::SIGTERM);
    assert!(finished.status.success(), "SIGTERM: {}", finished.status);
    assert!(finished.stderr.is_empty(), "{:#?}", finished.stderr);
}

#[test]
fn closed_stdout_ends_quietly() {
    if !require_root() {
        return;
    }
    let (listener, port) = listen(LOCALHOST_V4);
    let mut trace = Trace::start(&["-P", &port.to_string()]);
    trace.tool.close_stdout();
    // The row for this connect is the first write to fail.
    connect_and_accept(&listener);
    let finished = trace.tool.wait_for_exit(TIMEOUT);
    assert!(finished.status.success(), "{}", finished.status);
    assert!(finished.stderr.is_empty(), "{:#?}", finished.stderr);
}

#[test]
fn perf_buffer_channel_prints_the_same_rows() {
    if !require_root() {
        return;
    }
    // Per-CPU perf buffers are smaller than the ring buffer.
    let _no_burst = without_connect_burst();
    let (listener, port) = listen(LOCALHOST_V4);
    let mut command = tcpconnect_command(&[]);
    command.env("BPFTOOLS_EVENT_CHANNEL", "perf");
    let mut trace = Trace::start_command(command);
    let maps = bpf_map_types(trace.tool.pid());
    assert!(maps.contains(&BPF_MAP_TYPE_PERF_EVENT_ARRAY), "{maps:?}");
    assert!(!maps.contains(&BPF_MAP_TYPE_RINGBUF), "{maps:?}");

    connect_and_accept(&listener);
    let (row, _) = trace.expect_row(|row| row.is_from(&test_pid(), port));
    assert_eq!(row.get("SADDR"), "127.0.0.1");
    assert_eq!(row.get("DADDR"), "127.0.0.1");
    trace.stop();
}

#[test]
fn json_lines_carry_every_field() {
    if !require_root() {
        return;
    }
    let mut tool = Tool::spawn(tcpconnect_command(&["--json"]));
    tool.wait_for_ready_line(TIMEOUT);
    let (listener, port) = listen(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let sport = connect_and_accept(&listener);
    let line = tool.expect_line(|line| line.contains(&format!("\"dport\":{port},")), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");
    assert_eq!(event["pid"].to_string(), test_pid());
    assert_eq!(event["uid"], 0);
    assert_eq!(event["comm"], current_thread_comm());
    assert_eq!(event["af"], 4);
    assert_eq!(event["saddr"], "127.0.0.1");
    assert_eq!(event["daddr"], "127.0.0.1");
    // JSON always has the real source port, on the tracepoint way too.
    assert_eq!(event["sport"], sport);
    assert_eq!(event["dport"], port);
    assert!(
        event["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{line}"
    );
    assert!(
        event["timestamp_ns"].as_u64().is_some_and(|ns| ns > 0),
        "{line}"
    );

    // A thread named with a quote, a newline and a byte that is not UTF-8:
    // the comm comes out escaped, replaced, and exact in comm_base64.
    let (listener, port) = listen(IpAddr::V4(Ipv4Addr::LOCALHOST));
    std::thread::spawn(move || {
        let name = b"q\"n\n\xff\0";
        // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
        connect_and_accept(&listener);
    })
    .join()
    .expect("the connecting thread");
    let line = tool.expect_line(|line| line.contains(&format!("\"dport\":{port},")), TIMEOUT);
    let event: serde_json::Value = serde_json::from_str(&line).expect("each line is JSON");
    assert_eq!(event["comm"], "q\"n\n\u{fffd}", "{line}");
    assert_eq!(event["comm_base64"], "cSJuCv8=", "{line}");

    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success());
}

#[test]
fn count_mode_json_is_one_object_with_the_counts() {
    if !require_root() {
        return;
    }
    let mut tool = Tool::spawn(tcpconnect_command(&["-c", "--json"]));
    tool.wait_for_ready_line(TIMEOUT);
    let port = closed_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    for _ in 0..4 {
        connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    let finished = tool.stop_with(Signal::SIGINT);
    assert!(finished.status.success());
    assert_eq!(finished.stdout.len(), 1, "{:?}", finished.stdout);
    let table: serde_json::Value = serde_json::from_str(&finished.stdout[0]).expect("JSON");
    let rows = table["connects"].as_array().expect("connects is an array");
    let ours: Vec<_> = rows.iter().filter(|row| row["dport"] == port).collect();
    assert_eq!(ours.len(), 1, "{rows:?}");
    assert_eq!(ours[0]["count"], 4);
    assert_eq!(ours[0]["af"], 4);
    assert_eq!(ours[0]["saddr"], "127.0.0.1");
}

#[test]
fn btf_file_given_with_btf_is_used() {
    if !require_root() {
        return;
    }
    let dir = TempDir::new("tcpconnect-btf");
    let btf = dir.path().join("vmlinux.btf");
    fs::copy("/sys/kernel/btf/vmlinux", &btf).expect("copy the kernel's BTF");
    check_traces_ipv4(tcpconnect_command(&["--btf", path_arg(&btf)]));

    let finished =
        Tool::spawn(tcpconnect_command(&["--btf", "/etc/hostname"])).wait_for_exit(TIMEOUT);
    let line = assert_one_error_line(&finished);
    assert!(
        line.contains("--btf /etc/hostname: not a readable BTF file"),
        "{line}"
    );
}

/// Both flavors of the tracepoint way (BTF, and the classic one kept for
/// kernels without BTF) give the same rows: addresses, the real source port,
/// and an IPv4-mapped connect once, as IPv4.
#[test]
fn both_tracepoint_flavors_give_the_same_rows() {
    if !require_root() {
        return;
    }
    for (flavor, hook) in [
        ("btf", "tp_btf/inet_sock_set_state"),
        ("classic", "tracepoint/sock/inet_sock_set_state"),
    ] {
        let (listener_v4, port_v4) = listen(LOCALHOST_V4);
        let (listener_v6, port_v6) = listen(LOCALHOST_V6);
        let (mapped_listener, mapped_port) = listen(LOCALHOST_V4);
        let mut command = tcpconnect_command(&["--attach", "tracepoint", "-s", "-v"]);
        command.env("BPFTOOLS_TRACEPOINT", flavor);
        let mut trace = Trace::start_command(command);

        let sport_v4 = connect_and_accept(&listener_v4).to_string();
        let sport_v6 = connect_and_accept(&listener_v6).to_string();
        let mapped = SocketAddrV6::new(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), mapped_port, 0, 0);
        let _client = TcpStream::connect_timeout(&mapped.into(), TIMEOUT).expect("connect");
        let (_server, mapped_peer) = mapped_listener.accept().expect("accept");

        let (row, line) = trace.expect_row(|row| row.is_from(&test_pid(), port_v4));
        assert_eq!(
            (row.get("IP"), row.get("SPORT")),
            ("4", sport_v4.as_str()),
            "{flavor}: {line}"
        );
        assert_eq!(
            (row.get("SADDR"), row.get("DADDR")),
            ("127.0.0.1", "127.0.0.1"),
            "{line}"
        );
        let (row, line) = trace.expect_row(|row| row.is_from(&test_pid(), port_v6));
        assert_eq!(
            (row.get("IP"), row.get("SPORT")),
            ("6", sport_v6.as_str()),
            "{flavor}: {line}"
        );
        assert_eq!(
            (row.get("SADDR"), row.get("DADDR")),
            ("::1", "::1"),
            "{line}"
        );
        let (row, line) = trace.expect_row(|row| row.dport_is(mapped_port));
        let mapped_sport = mapped_peer.port().to_string();
        assert_eq!(
            (row.get("IP"), row.get("SPORT")),
            ("4", mapped_sport.as_str()),
            "{flavor}: {line}"
        );
        assert_eq!(
            trace.rows_matching(|row| row.dport_is(mapped_port)).len(),
            1
        );

        let finished = trace.stop();
        let attached = format!("tcpconnect: attached with tracepoint ({hook})");
        assert!(
            finished.stderr.contains(&attached),
            "{flavor}: {:#?}",
            finished.stderr
        );
    }
}

/// Written while the burst test floods every tracer on the host with
/// connects; read by the tests whose tool's stderr must stay empty (a tool
/// starved of CPU during the flood could overflow and say so).
static CONNECT_BURST: RwLock<()> = RwLock::new(());

fn without_connect_burst() -> RwLockReadGuard<'static, ()> {
    CONNECT_BURST.read().unwrap_or_else(PoisonError::into_inner)
}

/// Sum of the tool's `Lost N events!` lines; any other stderr line fails.
fn lost_events_reported(stderr: &[String]) -> usize {
    stderr
        .iter()
        .map(|line| {
            line.strip_prefix("Lost ")
                .and_then(|rest| rest.strip_suffix(" events!"))
                .and_then(|count| count.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("stderr: {line}"))
        })
        .sum()
}

/// A burst larger than the ring buffer while the tool is stopped: it
/// survives, and what it reports lost is exactly what is missing.
#[test]
fn burst_while_stopped_is_counted_as_lost_exactly() {
    if !require_root() {
        return;
    }
    // A record is 88 bytes in the ring: 1 MiB holds about 11,900.
    const BURST_CONNECTS: usize = 15_000;
    let _burst = CONNECT_BURST
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    let burst_port = closed_port(LOCALHOST_V4);
    let sentinel_port = closed_port(LOCALHOST_V4);
    // -P keeps every other connect on the host out of this tool's buffer.
    let ports = format!("{burst_port},{sentinel_port}");
    let mut trace = Trace::start(&["-P", &ports]);

    trace.tool.signal(Signal::SIGSTOP);
    for _ in 0..BURST_CONNECTS {
        connect(SocketAddr::from((Ipv4Addr::LOCALHOST, burst_port)));
    }
    trace.tool.signal(Signal::SIGCONT);
    // Room comes back only as the tool catches up, and a sentinel sent
    // before that is lost too: send sentinels until one shows, counting all.
    let sentinel_row = format!(" {sentinel_port}");
    let mut sentinels = 0;
    loop {
        connect(SocketAddr::from((Ipv4Addr::LOCALHOST, sentinel_port)));
        sentinels += 1;
        let shown = trace.tool.find_line(
            |line| line.ends_with(&sentinel_row),
            Duration::from_millis(500),
        );
        if shown.is_some() {
            break;
        }
        assert!(sentinels < 20, "no sentinel shown after the burst");
    }

    let finished = trace.stop();
    let rows_to = |port: u16| {
        let dport = format!(" {port}");
        let rows = finished.stdout.iter();
        rows.filter(|line| line.trim_end().ends_with(&dport))
            .count()
    };
    let shown = rows_to(burst_port) + rows_to(sentinel_port);
    let sent = BURST_CONNECTS + sentinels;
    let lost = lost_events_reported(&finished.stderr);
    assert!(
        lost > 0,
        "nothing lost: the burst did not overflow the buffer"
    );
    assert_eq!(
        lost + shown,
        sent,
        "{lost} lost and {shown} shown of {sent}"
    );
}

/// Runs `work` on a thread of its own that has joined network namespace
/// `name` (namespaces are per thread), and returns its result.
fn in_netns<T: Send>(name: &str, work: impl FnOnce() -> T + Send) -> T {
    let netns = fs::File::open(format!("/var/run/netns/{name}")).expect("open the netns");
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns with a valid namespace fd affects this thread only.
                let joined = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(joined, 0, "setns: {}", std::io::Error::last_os_error());
                work()
            })
            .join()
            .expect("the thread in the netns")
    })
}

/// tcp_v4_connect() moves the socket to SYN_SENT and only then picks the
/// source port; when none is free, connect() fails with EADDRNOTAVAIL. Such
/// a connect never started and is not reported.
#[test]
fn connect_that_fails_after_syn_sent_is_not_reported() {
    if !require_root() {
        return;
    }
    let netns = NetnsWithoutLoopback::add();
    let setup = "ip link set lo up && sysctl -q -w net.ipv4.ip_local_port_range='40000 40001'";
    let (_, status) = run(Command::new("ip").args(["netns", "exec", &netns.0, "sh", "-c", setup]));
    assert!(status.success(), "setting up {}", netns.0);
    let sentinel_port = closed_port(LOCALHOST_V4);

    let port = 4711;
    let ports = format!("{port},{sentinel_port}");
    let mut trace = Trace::start(&["-P", &ports, "-s"]);
    let results = in_netns(&netns.0, || {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("listen in the netns");
        // Two source ports exist: two connects hold them, two more fail.
        let outcomes: Vec<_> = (0..4)
            .map(|_| TcpStream::connect_timeout(&SocketAddr::new(LOCALHOST_V4, port), TIMEOUT))
            .collect();
        drop(listener);
        outcomes
    });
    let failed = results.iter().filter(|outcome| outcome.is_err()).count();
    assert_eq!(failed, 2, "{results:?}");
    assert!(results.iter().flatten().count() == 2);
    connect(SocketAddr::new(LOCALHOST_V4, sentinel_port));

    trace.expect_row(|row| row.dport_is(sentinel_port));
    let rows = trace.rows_matching(|row| row.dport_is(port));
    assert_eq!(rows.len(), 2, "{rows:#?}");
    drop(results);
    trace.stop();
}
