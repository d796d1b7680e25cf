//! execsnoop's man page prose and examples (--help shows the examples too).

use crate::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    description: &[
        "execsnoop traces new processes: every successful exec() on the host, and \
         with -x the failed ones too. One line per exec shows the command name, \
         process id, parent process id, return value, the file name passed to exec \
         and the arguments.",
        "Successful execs are taken from the sched:sched_process_exec tracepoint, \
         so execve(), execveat() and fexecve(), execs from any thread, and execs the \
         kernel starts are all seen. Arguments are read from the new process's \
         argument area just after exec, so they are complete. Failed execs (-x) \
         come from the syscalls:sys_enter/sys_exit_execve(at) tracepoints.",
        "It is a drop-in replacement for BCC's libbpf-tools execsnoop: same flags, \
         defaults and columns.",
    ],
    examples: &[
        Example {
            args: "",
            purpose: "trace all exec() syscalls",
        },
        Example {
            args: "-x",
            purpose: "include failed exec()s",
        },
        Example {
            args: "-T",
            purpose: "include time (HH:MM:SS)",
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
            args: "-u user",
            purpose: "get user UID and trace only them",
        },
        Example {
            args: "-t",
            purpose: "include timestamps",
        },
        Example {
            args: "-q",
            purpose: "add \"quotemarks\" around arguments",
        },
        Example {
            args: "-n main",
            purpose: "only print commands whose name matches the regex \"main\"",
        },
        Example {
            args: "-l tpkg",
            purpose: "only print commands whose arguments match the regex \"tpkg\"",
        },
        Example {
            args: "-P 1234",
            purpose: "only trace children of PID 1234",
        },
        Example {
            args: "-c CG",
            purpose: "trace process under cgroupsv2 path CG",
        },
        Example {
            args: "--container --ancestors --cwd",
            purpose: "say which container or service, which parents, which directory",
        },
    ],
    example_column: 20,
    overhead: &[
        "One tracepoint program runs per exec (two more with -x: syscall entry and exit), \
         sending one record of the used size through a BPF ring buffer. User space \
         is woken after up to 50 ms of records, or sooner when the ring is a quarter \
         full, and writes each batch with one write(2) per 4 KiB. \
         Exec rates are rarely high enough for this to be measurable; see the \
         project's docs/performance.md for benchmark figures.",
    ],
    caveats: &[
        "Up to 8 KiB of arguments are kept per exec; longer argument lists end with \
         \" ...\". Arguments and names are escaped so one exec is always one line and \
         nothing is hidden: control characters as \\n, \\t, \\r or \\xHH, invalid UTF-8 \
         as \\xHH, every other invisible or format character (zero-width and \
         bidirectional marks, unusual spaces, tags) as \\u{HHHH}. With -q a backslash \
         is written \\\\ as well, so each quoted argument reads back exactly.",
        "If events come faster than they are read, the event channel fills and \
         \"Lost N events!\" is printed on stderr (with --json, a record in the stream \
         too); every event is printed or counted, up to the exit.",
        "Scripts show what the caller ran, not the interpreter's argv; on kernels \
         without BTF (the classic tracepoint) the interpreter's entries show too.",
        "A failed exec's (-x) arguments are read from the caller's memory; one that \
         is not resident there cannot be read by a tracepoint program and is shown \
         as (unreadable).",
        "--container, --ancestors and --cwd are read in the kernel at the exec. \
         CONTAINER is the container's short id when the cgroup v2 path names one \
         (Docker, containerd/Kubernetes, CRI-O, Podman; systemd or cgroupfs naming), \
         else the systemd unit or scope, else the cgroup path, - for the root. CWD \
         is relative to the process's own root (a chroot's, a container's); a path \
         too long to keep whole shows its leaf side after .../ .",
        "Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with \
         BTF (or --btf). With -x, or without kernel BTF, tracefs is needed and \
         mounted at /sys/kernel/tracing when it is not mounted.",
    ],
    see_also: "tcpconnect(8), bpftool(8)",
};
