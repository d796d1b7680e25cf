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
        "With --outcome each connect is printed once its result is known, with two \
         more columns: RESULT is ok (established), refused (reset), timeout (the \
         kernel gave up resending the SYN), closed (the process closed or aborted \
         the socket before an answer), or the error the kernel ended it with, such \
         as EHOSTUNREACH or ENETUNREACH after an ICMP error; LAT(ms) is the time \
         from the connect to that result. Connects still waiting when tracing stops \
         are printed as pending, with the time waited so far. Rows come in the order \
         of results, so with -t TIME(s) is the connect's time counted from the start \
         of tracing. --failed leaves out the connects that were established. In \
         count mode the table gets a RESULT column, one row per endpoint and result. \
         Every way follows each connect to its result through inet_sock_set_state.",
        "With -d (--dns) a last column, QUERY, names each connect's destination by \
         the DNS name a client of its network namespace looked it up by, as BCC \
         Python's tcpconnect -d: the name asked (through CNAMEs), with the delay \
         appended as \" (N.NNNms)\" when the answer came more than 100 ms before \
         the connect; localhost for 127.0.0.1 and ::1; No DNS Query when no answer \
         named it. Two BTF tracepoints on the packet path (net_dev_queue, \
         netif_receive_skb) see DNS over UDP and TCP in every network namespace; an \
         answer counts only if it matches a query of the same namespace (id, \
         addresses, ports, and the question, checked in user space), so another \
         user or namespace cannot plant a name. Names are kept per namespace and \
         address in a table of 10240, each for its answer's TTL but at least 10 s \
         and at most 24 hours; when it is full the oldest answer's go first. Answers \
         that name nothing (unasked, another question, malformed, larger than 2048 \
         bytes, split over TCP segments) and names dropped early are counted on \
         stderr on exit. Not seen: a DNS message over TCP split over segments, DNS \
         over TLS or HTTPS; names cached in a process, or resolved before tracing \
         started; lookups a resolver in another namespace made for the client over \
         its own channel (systemd-resolved's D-Bus and varlink: answers from its \
         stub at 127.0.0.53 over UDP are seen). Not with -c.",
        "It is a drop-in replacement for BCC's libbpf-tools tcpconnect: same flags, \
         defaults and columns, plus BCC Python's -4, -6, -L and -d, and working -C/-M.",
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
            args: "--outcome",
            purpose: "whether each connect worked, and how long it took",
        },
        Example {
            args: "--failed -c",
            purpose: "count the connects that failed, per result",
        },
        Example {
            args: "-d",
            purpose: "include the DNS name each destination was looked up by",
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
         to the connect itself; see the project's docs/performance.md for \
         benchmark figures. With -d two more programs run for every packet the \
         host sends or receives, returning after its IP and UDP headers unless it \
         is DNS; each DNS answer that matched a query is sent to user space with \
         its query (552 bytes and the answer's) and parsed there.",
    ],
    caveats: &[
        "On the tracepoint way the kernel moves the socket to SYN_SENT before it \
         picks the source port, and the connect can still fail then; so each event \
         waits until the connect has surely started: the socket's next state change \
         (about a round trip) or its first SYN retransmission (about a second). \
         Connects still waiting when tracing stops are counted on stderr; with \
         --outcome they are printed as pending, with source port 0 when it was not \
         learnt yet.",
        "Connects waiting for their port or result are kept in a table of 16384; \
         when it is full, they are kept in their sockets where the kernel lets \
         tracing programs keep and list data there (Linux >= 5.11, with the fentry \
         way or the BTF tracepoint). Elsewhere a connect that finds the table full is printed at \
         once, unconfirmed: with --outcome as RESULT unknown, else (tracepoint \
         way) with source port 0. Their number is printed on stderr on exit. No \
         connect is dropped to make room.",
        "Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with BTF.",
    ],
    see_also: "execsnoop(8), ss(8), bpftool(8)",
};
