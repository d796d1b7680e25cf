//! Man pages and shell completions, generated from the same clap definitions
//! that parse the flags, so they cannot drift from what the tools accept.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{bold, roman, Roff};

/// What a man page says beyond the flags.
pub struct ToolManual {
    pub command: Command,
    pub description: &'static [&'static str],
    pub overhead: &'static [&'static str],
    pub caveats: &'static [&'static str],
    pub see_also: &'static str,
}

pub fn tools() -> [ToolManual; 2] {
    [
        ToolManual {
            command: crate::execsnoop::cli::Cli::command(),
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
            overhead: &[
                "One tracepoint program runs per exec (two more with -x: syscall entry and exit), \
                 sending one record of the used size through a BPF ring buffer. User space \
                 wakes at most once per 50 ms batch and writes each batch with one write(2). \
                 Exec rates are rarely high enough for this to be measurable; see the \
                 project's README for benchmark figures.",
            ],
            caveats: &[
                "Up to 8 KiB of arguments are kept per exec; longer argument lists end with \
                 \" ...\". Arguments and names are escaped so one exec is always one line: \
                 control characters as \\n, \\t, \\r or \\xHH, invalid UTF-8 as \\xHH, Unicode \
                 line separators and bidirectional overrides as \\u{HHHH}.",
                "If events come faster than they are read, the ring buffer fills and \
                 \"Lost N events!\" is printed on stderr.",
                "Scripts show what the caller ran, not the interpreter's argv; on kernels \
                 without BTF (the classic tracepoint) the interpreter's entries show too.",
                "Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with \
                 BTF (or --btf). With -x, or without kernel BTF, tracefs is needed and \
                 mounted at /sys/kernel/tracing when it is not mounted.",
            ],
            see_also: "tcpconnect(8), bpftool(8)",
        },
        ToolManual {
            command: crate::tcpconnect::cli::Cli::command(),
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
        },
    ]
}

/// The man page, section 8, in the layout of BCC's: name, synopsis,
/// description, options, examples, overhead, caveats, see also, version.
pub fn write_man_page(manual: &ToolManual, out: &mut dyn Write) -> io::Result<()> {
    let man = Man::new(manual.command.clone())
        .section("8")
        .manual("System Manager's Manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;

    let mut page = Roff::new();
    page.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut page, manual.description);
    page.to_writer(out)?;

    man.render_options_section(out)?;

    let mut page = Roff::new();
    page.control("SH", ["EXAMPLES"]);
    for (command, what) in examples(&manual.command) {
        page.control("TP", []);
        page.text([bold(what)]);
        page.text([roman("#"), roman(" "), roman(command)]);
    }
    page.control("SH", ["OVERHEAD"]);
    paragraphs(&mut page, manual.overhead);
    page.control("SH", ["CAVEATS"]);
    paragraphs(&mut page, manual.caveats);
    page.control("SH", ["SEE ALSO"]);
    page.text([roman(manual.see_also)]);
    page.to_writer(out)?;

    man.render_version_section(out)
}

fn paragraphs(page: &mut Roff, texts: &[&str]) {
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            page.control("PP", []);
        }
        page.text([roman(*text)]);
    }
}

/// The `EXAMPLES:` lines of the --help text: (command, explanation).
fn examples(command: &Command) -> Vec<(String, String)> {
    let after_help = command
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    after_help
        .lines()
        .filter_map(|line| line.split_once('#'))
        .map(|(cmd, what)| (cmd.trim().to_string(), what.trim().to_string()))
        .collect()
}

/// Where each shell looks for completions, under PREFIX/share.
fn completion_path(shell: Shell, tool: &str) -> PathBuf {
    match shell {
        Shell::Bash => PathBuf::from(format!("bash-completion/completions/{tool}")),
        Shell::Zsh => PathBuf::from(format!("zsh/site-functions/_{tool}")),
        Shell::Fish => PathBuf::from(format!("fish/vendor_completions.d/{tool}.fish")),
        other => PathBuf::from(format!("completions/{other}/{tool}")),
    }
}

/// Writes man8/TOOL.8 and each shell's completions below `share_dir`
/// (laid out like PREFIX/share) and returns the files written.
pub fn generate(share_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut write = |path: PathBuf, contents: Vec<u8>| -> io::Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, contents)?;
        written.push(path);
        Ok(())
    };
    for manual in tools() {
        let tool = manual.command.get_name().to_string();
        let mut page = Vec::new();
        write_man_page(&manual, &mut page)?;
        write(share_dir.join(format!("man/man8/{tool}.8")), page)?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut manual.command.clone(), &tool, &mut script);
            write(share_dir.join(completion_path(shell, &tool)), script)?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn man_page(index: usize) -> String {
        let mut out = Vec::new();
        write_man_page(&tools()[index], &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_pages_list_every_flag_of_the_parser() {
        for (index, manual) in tools().iter().enumerate() {
            let page = man_page(index);
            for arg in manual.command.get_arguments() {
                if let Some(long) = arg.get_long() {
                    // roff writes a dash in an option name as \-.
                    let shown = format!("\\-\\-{}", long.replace('-', "\\-"));
                    assert!(
                        page.contains(&shown),
                        "{} lacks --{long}",
                        manual.command.get_name()
                    );
                }
            }
        }
    }

    #[test]
    fn man_pages_have_bcc_sections_and_examples() {
        let page = man_page(0);
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXAMPLES",
            "OVERHEAD",
            "CAVEATS",
        ] {
            assert!(page.contains(&format!(".SH {section}")), "no {section}");
        }
        assert!(page.contains(".TH execsnoop 8"));
        assert!(page.contains("execsnoop \\-x"));
    }
}
