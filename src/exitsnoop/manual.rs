//! exitsnoop's man page prose and examples (--help shows the examples too).

use crate::manual::{Example, Manual};

pub const MANUAL: Manual = Manual {
    description: &[
        "exitsnoop traces process termination: one line per process that ends, \
         with its command name, process id, parent process id, thread id, age in \
         seconds and how it ended: 0, code N for a non-zero exit code, or signal N \
         (NAME) for a signal, with \", core dumped\" when it dumped core.",
        "A process ends when its last thread does: that is when it is reported, \
         with the status wait(2) gives its parent and the age of the process, \
         whatever its threads do (upstream reports the main thread's end, which \
         may come first). With -T every thread that ends is reported, with its own \
         exit code and age.",
        "--max-args N adds the command line of the process that ends (its \
         argv, escaped as execsnoop writes arguments, \" ...\" when there were more \
         than N or more than 4 KiB). It is read from the process's memory where its \
         end begins (exit_group(2), a fatal signal's delivery, exit(2) of its last \
         thread) and kept until its last thread is gone, in a table of 1024 \
         processes exiting at once; ? stands for one not kept, [comm] for a kernel \
         thread, and the count of ? rows, by reason, is said on stderr at the end.",
        "It is a drop-in replacement for BCC's libbpf-tools exitsnoop: same flags, \
         defaults and columns; -t's column is headed TIME, not upstream's TIME(s), \
         over the same HH:MM:SS.",
    ],
    examples: &[
        Example {
            args: "",
            purpose: "trace all process termination",
        },
        Example {
            args: "-x",
            purpose: "trace only fails, exclude exit(0)",
        },
        Example {
            args: "-t",
            purpose: "include timestamp (local time default)",
        },
        Example {
            args: "-p 1216",
            purpose: "only trace PID 1216",
        },
        Example {
            args: "-T",
            purpose: "trace by thread",
        },
        Example {
            args: "-c CG",
            purpose: "trace process under cgroupsv2 path CG",
        },
        Example {
            args: "-x --max-args 20",
            purpose: "the command line of each failed process",
        },
        Example {
            args: "--utc --label web",
            purpose: "UTC time with milliseconds, and a LABEL column",
        },
    ],
    example_column: 27,
    overhead: &[
        "One tracepoint program runs per thread that ends; a process's row is one \
         record of the used size through a BPF ring buffer. With --max-args, three \
         more programs read the command line where an exit begins \
         (syscalls:sys_enter_exit_group, syscalls:sys_enter_exit, \
         signal:signal_deliver; the last runs on every signal delivered and returns \
         at once unless it is fatal). See the project's docs/performance.md for \
         benchmark figures.",
    ],
    caveats: &[
        "Names and arguments are escaped so one exit is always one line and nothing \
         is hidden, as execsnoop's.",
        "If events come faster than they are read, the event channel fills and \
         \"Lost N events!\" is printed on stderr (with --json, a record in the stream \
         too); every event is printed or counted, up to the exit.",
        "--container and --ancestors are read in the kernel at the exit, as \
         execsnoop reads them at the exec.",
        "Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with \
         BTF (or --btf). With --max-args, or without kernel BTF, tracefs is needed \
         and mounted at /sys/kernel/tracing when it is not mounted.",
    ],
    see_also: "execsnoop(8), tcpconnect(8), wait(2), bpftool(8)",
};
