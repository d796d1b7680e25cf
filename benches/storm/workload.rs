//! The storms the tools are measured under (an exec storm is an exit storm
//! too: each exec'd program ends). Each storm tags its events
//! so that the lines it caused can be told apart from the rest of the system's.

use std::ffi::{c_char, CString};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::ptr;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::measure::EventPattern;

/// What every exec of the storm runs.
const EXEC_PROGRAM: &str = "/bin/true";
/// Arguments after the marker. With the program name and the marker that
/// makes 20 argv entries: what execsnoop shows by default (its --max-args 20
/// counts the program name), so a complete line is possible.
const FIXED_ARG_COUNT: usize = 18;
/// Connections the listener queues before the acceptor takes them.
const CONNECT_BACKLOG: libc::c_int = 4096;
/// The lookup storm's resolver: a loopback address of its own, so it does not
/// meet a resolver the host runs on 127.0.0.1 or 127.0.0.53.
pub const RESOLVER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 53);
/// What it answers, where the storm's connects go: not 127.0.0.1, which
/// tcpconnect -d names `localhost` whatever the answers.
const ANSWERED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// Its answers' TTL: longer than any storm.
const ANSWER_TTL_S: u32 = 3600;

/// How one storm went.
#[derive(Clone, Copy, Debug)]
pub struct StormRun {
    /// Events that happened: successful execs, established connects.
    pub caused: usize,
    /// Attempts that failed (fork, exec or connect errors).
    pub failed: usize,
    pub wall: Duration,
}

/// One process doing fork + exec + wait of `/bin/true` with 20 arguments,
/// as fast as it can. libc's fork and execv keep the storm's own overhead low
/// and the same in every run.
pub struct ExecStorm {
    program: CString,
    marker_prefix: String,
    fixed_args: Vec<CString>,
}

impl ExecStorm {
    /// Markers read `storm-<tag>-<index>`; the tag makes them unique per storm.
    pub fn new(tag: &str) -> Self {
        Self {
            program: CString::new(EXEC_PROGRAM).expect("no NUL in the program path"),
            marker_prefix: format!("storm-{tag}-"),
            fixed_args: (1..=FIXED_ARG_COUNT)
                .map(|n| CString::new(format!("argument-{n:02}")).expect("no NUL"))
                .collect(),
        }
    }

    /// The exits of the storm's processes: each exec'd program ends, a
    /// child of this process.
    pub fn exit_pattern(&self) -> EventPattern {
        let program = std::path::Path::new(EXEC_PROGRAM).file_name();
        EventPattern::Exit {
            comm: program.map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
            ppid: std::process::id().to_string(),
        }
    }

    pub fn pattern(&self) -> EventPattern {
        EventPattern::Exec {
            marker_prefix: self.marker_prefix.clone(),
            fixed_args: self
                .fixed_args
                .iter()
                .map(|arg| format!(" {}", arg.to_string_lossy()))
                .collect(),
        }
    }

    /// Runs `count` execs, one after the other.
    pub fn run(&self, count: usize) -> StormRun {
        let started = Instant::now();
        let caused = (0..count).filter(|&index| self.exec_one(index)).count();
        StormRun {
            caused,
            failed: count - caused,
            wall: started.elapsed(),
        }
    }

    /// One fork + exec + wait; true when the exec happened (the child exited 0).
    pub fn exec_one(&self, index: usize) -> bool {
        let marker = CString::new(format!("{}{index}", self.marker_prefix)).expect("no NUL");
        let mut argv: Vec<*const c_char> = Vec::with_capacity(FIXED_ARG_COUNT + 3);
        argv.push(self.program.as_ptr());
        argv.push(marker.as_ptr());
        argv.extend(self.fixed_args.iter().map(|arg| arg.as_ptr()));
        argv.push(ptr::null());
        // SAFETY: the child only calls execv and _exit, which are
        // async-signal-safe, on memory prepared before the fork.
        match unsafe { libc::fork() } {
            -1 => false,
            0 => unsafe {
                libc::execv(self.program.as_ptr(), argv.as_ptr());
                libc::_exit(127)
            },
            child => {
                let mut status = 0;
                // SAFETY: waits for our own child; `status` is a valid out-pointer.
                let waited = unsafe { libc::waitpid(child, &mut status, 0) };
                waited == child && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
            }
        }
    }
}

/// Sequential loopback TCP connects (connect, then close) to a listener on an
/// ephemeral port, whose thread accepts and drops each connection. A new
/// listener per storm gives each storm its own destination port.
pub struct ConnectStorm {
    listener: TcpListener,
    address: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl ConnectStorm {
    pub fn listen() -> io::Result<Self> {
        Self::listen_on(Ipv4Addr::LOCALHOST)
    }

    fn listen_on(address: Ipv4Addr) -> io::Result<Self> {
        let listener = TcpListener::bind((address, 0))?;
        // std listens with a backlog of 128; should the acceptor fall that far
        // behind, a dropped SYN would stall a connect for a 1 s retransmit.
        // Listening again only raises the backlog.
        // SAFETY: a plain syscall on a socket we own.
        if unsafe { libc::listen(listener.as_raw_fd(), CONNECT_BACKLOG) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let address = listener.local_addr()?;
        let accepting = listener.try_clone()?;
        let acceptor = thread::spawn(move || {
            for connection in accepting.incoming() {
                // EINVAL: the listener was shut down, the storm is over.
                if let Err(err) = connection {
                    if err.raw_os_error() == Some(libc::EINVAL) {
                        break;
                    }
                }
            }
        });
        Ok(Self {
            listener,
            address,
            acceptor,
        })
    }

    pub fn pattern(&self) -> EventPattern {
        EventPattern::Connect {
            port: self.address.port().to_string(),
        }
    }

    /// Runs `count` connects, one after the other, then stops the listener.
    pub fn run(self, count: usize) -> StormRun {
        self.run_each(count, |_| true)
    }

    /// Runs `count` rounds of `before` then a connect (when `before` says
    /// so), one after the other, then stops the listener.
    fn run_each(self, count: usize, mut before: impl FnMut(usize) -> bool) -> StormRun {
        let started = Instant::now();
        let caused = (0..count)
            .filter(|&index| before(index) && TcpStream::connect(self.address).is_ok())
            .count();
        let wall = started.elapsed();
        // Shutting a listening socket down wakes the blocked accept with EINVAL.
        // SAFETY: a plain syscall on a socket this struct owns.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
        // The acceptor only drops connections; nothing to report if it panicked.
        let _ = self.acceptor.join();
        StormRun {
            caused,
            failed: count - caused,
            wall,
        }
    }
}

/// tcpconnect -d's storm: DNS lookups over loopback UDP, each answered by a
/// resolver on 127.0.0.2:53 with the address of a listener on 127.0.0.3
/// under a name of its own, and followed by a connect there.
/// Each connect's QUERY must be its own lookup's name, so the lines show
/// that every answer was read in time; the answers, two datagrams and two
/// BPF runs each, are what the tool's DNS side pays for.
pub struct LookupStorm {
    connects: ConnectStorm,
    resolver: UdpSocket,
    client: UdpSocket,
    name_prefix: String,
}

impl LookupStorm {
    pub fn listen(tag: &str) -> io::Result<Self> {
        let resolver = UdpSocket::bind(RESOLVER)?;
        let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        client.connect(RESOLVER)?;
        for socket in [&resolver, &client] {
            socket.set_read_timeout(Some(Duration::from_secs(1)))?;
        }
        Ok(Self {
            connects: ConnectStorm::listen_on(ANSWERED)?,
            resolver,
            client,
            name_prefix: format!("storm-{tag}-"),
        })
    }

    /// The connect lines whose QUERY is the name of their own lookup.
    pub fn pattern(&self) -> EventPattern {
        EventPattern::Named {
            marker_prefix: self.name_prefix.clone(),
        }
    }

    /// Runs `count` lookups, each followed by its connect.
    pub fn run(self, count: usize) -> StormRun {
        let Self {
            connects,
            resolver,
            client,
            name_prefix,
        } = self;
        connects.run_each(count, |index| {
            let name = format!("{name_prefix}{index}.bench");
            lookup(&client, &resolver, &name, index as u16).is_ok()
        })
    }
}

/// One A query for `name` from `client`, answered by `resolver` with
/// `ANSWERED`, the answer read by `client`.
fn lookup(client: &UdpSocket, resolver: &UdpSocket, name: &str, id: u16) -> io::Result<()> {
    let mut question = Vec::with_capacity(name.len() + 6);
    for label in name.split('.') {
        question.push(label.len() as u8);
        question.extend_from_slice(label.as_bytes());
    }
    question.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    let header = |flags: u16, answers: u16| {
        let mut header = Vec::with_capacity(512);
        for field in [id, flags, 1, answers, 0, 0] {
            header.extend_from_slice(&field.to_be_bytes());
        }
        header
    };
    // A recursive query; a recursive answer holding one A record whose
    // name points back at the question's (0xc00c).
    let mut query = header(0x0100, 0);
    query.extend_from_slice(&question);
    client.send(&query)?;
    let mut received = [0u8; 512];
    let (_, asker) = resolver.recv_from(&mut received)?;
    let mut answer = header(0x8180, 1);
    answer.extend_from_slice(&question);
    answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    answer.extend_from_slice(&ANSWER_TTL_S.to_be_bytes());
    answer.extend_from_slice(&[0, 4]);
    answer.extend_from_slice(&ANSWERED.octets());
    resolver.send_to(&answer, asker)?;
    client.recv(&mut received)?;
    Ok(())
}
