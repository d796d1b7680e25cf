//! tcpconnect --dns against a real resolver: dnsmasq in a network namespace
//! of the test's own, answering names the test chooses (A, AAAA, a CNAME,
//! a name whose answer over UDP is truncated) over UDP and TCP, and real
//! clients in that namespace (getent, a Python socket, dig), which then
//! connect to the answered addresses. Every namespace made here uses
//! the same addresses, so one namespace's answer naming another's connect
//! would show.

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::common::host::TestNetns;
use super::common::{run, unique_marker, Tool, TIMEOUT};

/// The addresses the resolver's names resolve to, in every namespace.
pub const WEB_V4: Ipv4Addr = Ipv4Addr::new(10, 53, 0, 10);
pub const WEB_V6: Ipv6Addr = Ipv6Addr::new(0xfd53, 0, 0, 0, 0, 0, 0, 0x10);
/// An address of the namespace no name resolves to.
pub const NAMELESS_V4: Ipv4Addr = Ipv4Addr::new(10, 53, 0, 12);

/// Looks `name` up (unless it is an address) and connects to it on `port`,
/// as a client does: `python3 -c CONNECT name 4|6 port`.
const CONNECT: &str = "import socket, sys
name, family, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if family == '6' else socket.AF_INET
address = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM)[0][4]
socket.socket(family).connect(address)
print(address[0])";

/// Where dnsmasq answers, as systemd-resolved's stub does (resolv.conf
/// names it), and on IPv6 loopback.
pub const STUB: &str = "127.0.0.53";

/// A network namespace with dnsmasq answering on its loopback at STUB and
/// ::1: `web.ZONE` is WEB_V4 and WEB_V6, `alias.ZONE` a CNAME of it,
/// `big.ZONE` one through a chain of CNAMEs too long for a 512-byte
/// datagram (dnsmasq truncates it, and clients ask again over TCP). Its
/// listener takes connects to any of its addresses.
pub struct Resolver {
    pub netns: TestNetns,
    pub zone: String,
    dnsmasq: Child,
    /// /etc/netns/NAME, which `ip netns exec` mounts over /etc.
    etc: PathBuf,
    listener: TcpListener,
}

impl Resolver {
    pub fn start() -> Self {
        let netns = TestNetns::add();
        netns.sh(&format!(
            "ip link set lo up && ip addr add {WEB_V4}/32 dev lo && \
             ip addr add {NAMELESS_V4}/32 dev lo && ip addr add {WEB_V6}/128 dev lo nodad"
        ));
        let etc = PathBuf::from("/etc/netns").join(&netns.0);
        fs::create_dir_all(&etc).expect("create /etc/netns/NAME");
        fs::write(etc.join("resolv.conf"), format!("nameserver {STUB}\n"))
            .expect("write resolv.conf");
        let zone = format!("{}.test", unique_marker("z"));
        // Four CNAMEs of 130 bytes or so each: past 512 bytes.
        let long = "l".repeat(60);
        let chain: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|link| format!("{long}.{link}.{long}.{zone}"))
            .collect();
        let mut cnames = vec![format!("--cname=big.{zone},{}", chain[0])];
        for pair in chain.windows(2) {
            cnames.push(format!("--cname={},{}", pair[0], pair[1]));
        }
        cnames.push(format!("--cname={},web.{zone}", chain[3]));
        let dnsmasq = Command::new("ip")
            .args(["netns", "exec", &netns.0, "dnsmasq", "--keep-in-foreground"])
            .args([
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--pid-file=",
            ])
            .args(["--port=53", "--bind-interfaces"])
            .arg(format!("--listen-address={STUB},::1"))
            .args(["--user=root", "--local-ttl=60"])
            .arg(format!("--host-record=web.{zone},{WEB_V4},{WEB_V6}"))
            .arg(format!("--cname=alias.{zone},web.{zone}"))
            .args(&cnames)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq (make deps installs it)");
        let listener = netns.run(|| TcpListener::bind("[::]:0").expect("listen in the netns"));
        let resolver = Self {
            netns,
            zone,
            dnsmasq,
            etc,
            listener,
        };
        resolver.wait_until_answering();
        resolver
    }

    /// Polls with dig, bounded: dnsmasq binds its port after it starts.
    fn wait_until_answering(&self) {
        let deadline = Instant::now() + TIMEOUT;
        let web = self.name("web");
        while Instant::now() < deadline {
            let output = self
                .exec("dig")
                .args(["+short", "+time=1", "+tries=1", &format!("@{STUB}"), &web])
                .stderr(Stdio::null())
                .output()
                .expect("run dig (make deps installs it)");
            if String::from_utf8_lossy(&output.stdout).contains(&WEB_V4.to_string()) {
                return;
            }
        }
        panic!(
            "dnsmasq in {} did not answer within {TIMEOUT:?}",
            self.netns.0
        );
    }

    /// Sets resolv.conf's `options` line for the clients started after
    /// (glibc reads it when a process first looks a name up).
    pub fn options(&self, options: &str) {
        fs::write(
            self.etc.join("resolv.conf"),
            format!("nameserver {STUB}\noptions {options}\n"),
        )
        .expect("write resolv.conf");
    }

    pub fn name(&self, host: &str) -> String {
        format!("{host}.{}", self.zone)
    }

    /// The port every connect of the test goes to.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().expect("listener address").port()
    }

    /// `program` run in the namespace, with its resolv.conf.
    pub fn exec(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.netns.0, program]);
        command
    }

    /// Runs a command in the namespace, which must succeed.
    #[track_caller]
    pub fn client(&self, program: &str, args: &[&str]) {
        let (_, status) = run(self.exec(program).args(args).stdout(Stdio::null()));
        assert!(
            status.success(),
            "{program} {args:?} in {}: {status}",
            self.netns.0
        );
    }

    /// Looks `target` up in the namespace (unless it is an address) and
    /// connects to it; returns the pid of the connecting process.
    #[track_caller]
    pub fn connect(&self, target: &str, family: u8) -> u32 {
        let port = self.port().to_string();
        let args = ["-c", CONNECT, target, &family.to_string(), &port];
        let (pid, status) = run(self
            .exec("/usr/bin/python3")
            .args(args)
            .stdout(Stdio::null()));
        assert!(
            status.success(),
            "connect to {target} in {}: {status}",
            self.netns.0
        );
        pid
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        let _ = self.dnsmasq.kill();
        let _ = self.dnsmasq.wait();
        let _ = fs::remove_dir_all(&self.etc);
    }
}

/// Whether a text row's QUERY is `name`, with or without the delay BCC
/// appends past 100 ms (a client's start can take that long).
pub fn row_queries(line: &str, name: &str) -> bool {
    let Some((_, query)) = line.split_once(&format!(" {name}")) else {
        return false;
    };
    query.is_empty() || (query.starts_with(" (") && query.ends_with("ms)"))
}

/// The first row of a connect to `port` from `pid`, waited for.
#[track_caller]
pub fn connect_row(tool: &mut Tool, pid: u32, port: u16) -> String {
    let (pid, port) = (pid.to_string(), port.to_string());
    tool.expect_line(
        |line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.contains(&pid.as_str()) && words.contains(&port.as_str())
        },
        TIMEOUT,
    )
}
