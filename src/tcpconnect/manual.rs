//! tcpconnect's man page prose and examples (--help shows the examples too).

use crate::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    description: &[
        "tcpconnect traces active TCP connections: every connect() the kernel \
         accepted, IPv4 and IPv6, with the connecting process's id, command name \
         and, on request, its uid, source port and a timestamp. With -c it counts \
         connections per source, destination and port instead, and prints the \
         table on exit.",
        "It hooks tcp_v4_connect()/tcp_v6_connect() with fexit programs, or with \
         kprobes, or the sock:inet_sock_set_state tracepoint (move to SYN_SENT), \
         whichever the kernel allows first (--attach). All filters run in the \
         kernel.",
        "It is a drop-in replacement for BCC's libbpf-tools tcpconnect: same flags, \
         defaults and columns, plus BCC Python's -4, -6 and -L, and working -C/-M.",
    ],
    examples: &[
        Example {
            args: "",
            purpose: "trace all TCP connect()s",
        },
        Example {
            args: "-t",
            purpose: "include timestamps",
        },
        Example {
            args: "-p 181",
            purpose: "only trace PID 181",
        },
        Example {
            args: "-P 80",
            purpose: "only trace port 80",
        },
        Example {
            args: "-P 80,81",
            purpose: "only trace port 80 and 81",
        },
        Example {
            args: "-U",
            purpose: "include UID",
        },
        Example {
            args: "-u 1000",
            purpose: "only trace UID 1000",
        },
        Example {
            args: "-c",
            purpose: "count connects per src, dest, port",
        },
        Example {
            args: "-s",
            purpose: "include source port (and count by it with -c)",
        },
        Example {
            args: "-L",
            purpose: "include LPORT while printing outputs",
        },
        Example {
            args: "-4",
            purpose: "trace IPv4 family only",
        },
        Example {
            args: "-6",
            purpose: "trace IPv6 family only",
        },
        Example {
            args: "-C /sys/fs/bpf/cgroupmap",
            purpose: "trace cgroups in this BPF map only",
        },
        Example {
            args: "-M /sys/fs/bpf/mntnsmap",
            purpose: "trace mount namespaces in this BPF map only",
        },
    ],
    example_column: 23,
    overhead: &[
        "One small program runs per connect (two with kprobes), sending one \
         fixed-size record, or only updating a counter in count mode. User space \
         wakes at most once per 50 ms batch. The per-connect cost is small next \
         to the connect itself; see the project's README for benchmark figures.",
    ],
    caveats: &[
        "On the tracepoint way the kernel moves the socket to SYN_SENT before it \
         picks the source port, and the connect can still fail then; so each event \
         waits until the connect has surely started: the socket's next state change \
         (about a round trip) or its first SYN retransmission (about a second). \
         Connects still waiting when tracing stops are counted on stderr.",
        "Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with BTF.",
    ],
    see_also: "execsnoop(8), ss(8), bpftool(8)",
};
