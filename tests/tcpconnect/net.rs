//! Connects std cannot make, for the tests of what became of a connect:
//! ones that do not wait for their answer, ones that wait forever, and the
//! answers the tests forge. IPv4 only, through libc.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::common::host::{setpriv_as, TestNetns};
use super::common::TIMEOUT;

/// Connects to this network from `SilentNetns` get no answer.
pub const SILENT_NET: [u8; 2] = [10, 99];

/// A network namespace of the tests' own where connects to SILENT_NET
/// (10.99.0.0/16) get no answer: its loopback carries that route from an
/// address of its own, so each SYN comes back in and reaches TCP, which
/// answers no reset for an address that is not one of the host's. The
/// connect waits, resending its SYN: with tcp_syn_retries=1 it gives up
/// after about 3 s (1 s, then 2 s), with ETIMEDOUT.
pub struct SilentNetns(pub TestNetns);

impl SilentNetns {
    /// The namespace, shared by the tests that run at the same time (each
    /// connects to ports of its own): namespaces are slow to make and to
    /// delete under emulation, as the kernel test VMs run.
    pub fn shared() -> Arc<Self> {
        static SHARED: Mutex<Weak<SilentNetns>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        shared.upgrade().unwrap_or_else(|| {
            let netns = Arc::new(Self::add());
            *shared = Arc::downgrade(&netns);
            netns
        })
    }

    fn add() -> Self {
        let netns = TestNetns::add();
        let [a, b] = SILENT_NET;
        netns.sh(&format!(
            "ip link set lo up && ip addr add 10.98.0.1/32 dev lo && \
             ip route add {a}.{b}.0.0/16 dev lo && sysctl -q -w net.ipv4.tcp_syn_retries=1"
        ));
        Self(netns)
    }

    /// Runs `work` on a thread inside the namespace.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        self.0.run(work)
    }
}

/// An address in SILENT_NET.
pub fn silent(host: u8, port: u16) -> SocketAddrV4 {
    let [a, b] = SILENT_NET;
    SocketAddrV4::new(Ipv4Addr::new(a, b, 0, host), port)
}

/// A libc call's result: -1 is the errno.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    match result {
        -1 => Err(io::Error::last_os_error()),
        ok => Ok(ok),
    }
}

fn sockaddr(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// An IPv4 TCP socket made with the raw calls, for what std does not
/// offer (a connect not waited for, options set before it, a port bound
/// without SO_REUSEADDR); closed on drop.
pub struct TcpSocket(OwnedFd);

impl TcpSocket {
    /// Starts a connect to `addr`, its SYN resent up to `syn_count` times
    /// when given (TCP_SYNCNT, the socket's own tcp_syn_retries).
    pub fn start_connect(addr: SocketAddrV4, syn_count: Option<i32>) -> Self {
        let socket = Self::socket(libc::SOCK_NONBLOCK).expect("a TCP socket");
        if let Some(count) = syn_count {
            socket.set(libc::TCP_SYNCNT, count).expect("TCP_SYNCNT");
        }
        match socket.connect(addr) {
            Err(err) if err.raw_os_error() != Some(libc::EINPROGRESS) => {
                panic!("connect to {addr}: {err}")
            }
            _ => socket,
        }
    }

    fn socket(flags: libc::c_int) -> io::Result<Self> {
        // SAFETY: a plain syscall; a non-negative result is a new fd we own.
        let fd = check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | flags, 0) })?;
        // SAFETY: fd was just created and is owned by nothing else.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn set(&self, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
        let size = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: value is a c_int of the size given.
        let set = unsafe {
            libc::setsockopt(
                self.0.as_raw_fd(),
                libc::IPPROTO_TCP,
                option,
                (&value as *const libc::c_int).cast(),
                size,
            )
        };
        check(set).map(drop)
    }

    fn bind(&self, addr: SocketAddrV4) -> io::Result<()> {
        self.call_with_address(libc::bind, addr)
    }

    fn connect(&self, addr: SocketAddrV4) -> io::Result<()> {
        self.call_with_address(libc::connect, addr)
    }

    /// `call` (bind or connect) on this socket with `addr`.
    fn call_with_address(
        &self,
        call: unsafe extern "C" fn(
            libc::c_int,
            *const libc::sockaddr,
            libc::socklen_t,
        ) -> libc::c_int,
        addr: SocketAddrV4,
    ) -> io::Result<()> {
        let addr = sockaddr(addr);
        let size = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: addr is a sockaddr_in of the size given.
        let done = unsafe {
            call(
                self.0.as_raw_fd(),
                (&addr as *const libc::sockaddr_in).cast(),
                size,
            )
        };
        check(done).map(drop)
    }

    /// The source port the kernel chose.
    pub fn local_port(&self) -> u16 {
        // SAFETY: zeroed sockaddr_in is a valid value to be overwritten.
        let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        let mut size = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: addr and size describe a writable sockaddr_in.
        let named = unsafe {
            libc::getsockname(
                self.0.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_in).cast(),
                &mut size,
            )
        };
        check(named).expect("the socket's address");
        u16::from_be(addr.sin_port)
    }

    /// Waits (at most TIMEOUT) until the connect has failed, and returns
    /// its error.
    pub fn wait_for_error(&self) -> i32 {
        let mut poll_fd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, TIMEOUT.as_millis() as libc::c_int) };
        assert_eq!(ready, 1, "the connect did not end within {TIMEOUT:?}");
        let mut error: libc::c_int = 0;
        let mut size = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: error and size describe a writable c_int.
        let got = unsafe {
            libc::getsockopt(
                self.0.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut error as *mut libc::c_int).cast(),
                &mut size,
            )
        };
        check(got).expect("the connect's error");
        error
    }
}

/// A port of 127.0.0.1 that refuses connects (a RST answers the SYN) and
/// that no other socket takes while this lives: bound, not listening, and
/// without SO_REUSEADDR, which both sockets would need to share it (std's
/// listeners set it). A port merely found free could be given to a test
/// running beside, whose listener would then accept the connect.
pub struct RefusingPort(TcpSocket);

impl RefusingPort {
    pub fn bind() -> Self {
        let socket = TcpSocket::socket(0).expect("a TCP socket");
        let any_port = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        socket.bind(any_port).expect("bind a loopback port");
        Self(socket)
    }

    pub fn port(&self) -> u16 {
        self.0.local_port()
    }
}

/// The Internet checksum (RFC 1071).
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Catches the SYNs sent in this network namespace: a raw TCP socket sees
/// every TCP segment delivered here, so it must be opened before the
/// connect whose SYN it is to catch.
pub struct SynCatcher(OwnedFd);

impl SynCatcher {
    pub fn open() -> Self {
        // SAFETY: a plain syscall; a non-negative result is a new fd we own.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_TCP) };
        let fd = check(fd).expect("a raw socket (needs CAP_NET_RAW)");
        // SAFETY: fd was just created and is owned by nothing else.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval {
            tv_sec: TIMEOUT.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: timeout is a timeval of the size given.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        check(set).expect("a receive timeout");
        Self(socket)
    }

    /// Answers the SYN sent from `sport` as a router that cannot reach its
    /// destination would: an ICMP destination unreachable (host
    /// unreachable) quoting the SYN's IP header and the first 8 bytes of
    /// its TCP header (ports and sequence number, which TCP checks).
    pub fn answer_host_unreachable(&self, sport: u16) {
        let mut packet = [0u8; 1500];
        let syn = loop {
            // SAFETY: packet is writable for its length.
            let got = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    packet.as_mut_ptr().cast(),
                    packet.len(),
                    0,
                )
            };
            let got = check(got as libc::c_int)
                .unwrap_or_else(|err| panic!("no SYN from port {sport} within {TIMEOUT:?}: {err}"));
            let header_len = usize::from(packet[0] & 0xf) * 4;
            let tcp = &packet[header_len..got as usize];
            const SYN: u8 = 0x02;
            if tcp.len() >= 14
                && u16::from_be_bytes([tcp[0], tcp[1]]) == sport
                && tcp[13] & SYN != 0
            {
                break &packet[..header_len + 8];
            }
        };
        const DESTINATION_UNREACHABLE: u8 = 3;
        const HOST_UNREACHABLE: u8 = 1;
        let mut icmp = vec![DESTINATION_UNREACHABLE, HOST_UNREACHABLE, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(syn);
        let sum = checksum(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let source = Ipv4Addr::new(syn[12], syn[13], syn[14], syn[15]);

        // SAFETY: a plain syscall; a non-negative result is a new fd we own.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
        let fd = check(fd).expect("a raw socket");
        // SAFETY: fd was just created and is owned by nothing else.
        let sender = unsafe { OwnedFd::from_raw_fd(fd) };
        let to = sockaddr(SocketAddrV4::new(source, 0));
        // SAFETY: icmp and to are valid for the sizes given.
        let sent = unsafe {
            libc::sendto(
                sender.as_raw_fd(),
                icmp.as_ptr().cast(),
                icmp.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        check(sent as libc::c_int).expect("the ICMP error sent");
    }
}

/// The environment variable that makes the test binary a holder of
/// connects (`hold_connects_main`): how many to hold.
const HOLD_CONNECTS: &str = "TCPCONNECT_TEST_HOLD_CONNECTS";
/// The holders' connects go to 127.0.0.1, to this many ports from this one.
const HOLD_PORT_BASE: u16 = 20_000;
const HOLD_PORTS: usize = 256;
const HOLDING: &str = "holding";

/// When the test binary was started as a holder of connects: holds them
/// (see `HeldConnects`) until stdin closes, and returns the exit code.
pub fn hold_connects_main() -> Option<ExitCode> {
    let count: usize = std::env::var(HOLD_CONNECTS).ok()?.parse().ok()?;
    raise_open_files_limit();
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let port = HOLD_PORT_BASE + (i % HOLD_PORTS) as u16;
        let connect = TcpSocket::socket(0).and_then(|socket| {
            socket.set(libc::TCP_FASTOPEN_CONNECT, 1)?;
            socket.connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
            Ok(socket)
        });
        match connect {
            Ok(socket) => held.push(socket),
            Err(err) => {
                println!("connect {i} of {count}: {err}");
                return Some(ExitCode::FAILURE);
            }
        }
    }
    println!("{HOLDING} {count}");
    let _ = io::stdout().flush();
    // Until the test closes our stdin.
    let _ = io::stdin().lines().count();
    Some(ExitCode::SUCCESS)
}

fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: limit is a writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: limit is a valid rlimit.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}

/// Connects held in SYN_SENT by user `uid`, in processes of their own, until
/// dropped. Each is a TCP Fast Open connect in a network namespace that
/// allows it without a cookie (tcp_fastopen=5): connect() returns at once,
/// the socket stays in SYN_SENT with its port bound, and no SYN is sent
/// before data is written, so none is resent either. Nothing a tracer
/// follows ever ends them: the way to fill any state kept per pending
/// connect.
pub struct HeldConnects {
    holders: Vec<(Child, ChildStdin)>,
    _netns: TestNetns,
}

impl HeldConnects {
    pub fn hold(count: usize, uid: u32) -> Self {
        let netns = TestNetns::add();
        netns.sh("ip link set lo up && sysctl -q -w net.ipv4.tcp_fastopen=5");
        raise_open_files_limit();
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: limit is a writable rlimit.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        // Each holder keeps a few fds of its own.
        let per_holder = (limit.rlim_max as usize)
            .saturating_sub(64)
            .clamp(1, 100_000);
        let test_binary = std::env::current_exe().expect("the test binary's path");
        let mut holders = Vec::new();
        let mut left = count;
        while left > 0 {
            let share = left.min(per_holder);
            left -= share;
            let as_user = setpriv_as(uid);
            let mut command = Command::new("ip");
            command
                .args(["netns", "exec", &netns.0])
                .arg(as_user.get_program())
                .args(as_user.get_args())
                .arg(&test_binary)
                .env(HOLD_CONNECTS, share.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
            let mut holder = command
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
            let stdin = holder.stdin.take().expect("piped stdin");
            let mut said = String::new();
            let stdout = holder.stdout.take().expect("piped stdout");
            let _ = BufReader::new(stdout).read_line(&mut said);
            assert_eq!(
                said.trim_end(),
                format!("{HOLDING} {share}"),
                "a holder of {share} connects failed"
            );
            holders.push((holder, stdin));
        }
        Self {
            holders,
            _netns: netns,
        }
    }
}

/// How long the tests may take for work in proportion to the connects
/// held: closing them, or a tool printing what it followed of them on exit
/// (many seconds under emulation, as the kernel test VMs run).
pub const HELD_CONNECTS_TIMEOUT: Duration = Duration::from_secs(90);

impl Drop for HeldConnects {
    /// Closing their stdin ends the holders, and their connects.
    fn drop(&mut self) {
        let holders: Vec<Child> = self.holders.drain(..).map(|(holder, _)| holder).collect();
        let deadline = Instant::now() + HELD_CONNECTS_TIMEOUT;
        for mut holder in holders {
            while matches!(holder.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = holder.kill();
            let _ = holder.wait();
        }
    }
}
