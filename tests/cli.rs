//! The command line as users meet it, through the built binaries: argp's
//! long-option prefixes and its ambiguity error, repeated flags, option
//! values that look like flags, `--usage` byte for byte as glibc's argp
//! prints it, and messages naming the tool as it was run. Nothing here loads
//! BPF, so it runs unprivileged too.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bpftools::tools::NAMES;

#[path = "common/temp_dir.rs"]
mod temp_dir;
#[path = "common/tools.rs"]
mod tools;

use temp_dir::TempDir;

/// The built binary of `tool`, as a command line's program.
fn bin(tool: &str) -> String {
    let path = tools::binary(tool);
    path.to_str().expect("a UTF-8 path").to_string()
}

/// Runs `binary` with `args`, as `argv0` when given. Every command line here
/// must end in the parser; one that starts tracing instead is killed after
/// a while and fails the test.
fn run_as(binary: &str, argv0: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(binary);
    if let Some(argv0) = argv0 {
        command.arg0(argv0);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {binary}: {err}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait for the tool").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{binary} {args:?} did not stop: the command line was taken as valid");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the tool's output")
}

fn run(binary: &str, args: &[&str]) -> Output {
    run_as(binary, None, args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// A usage error: one line on stderr, nothing on stdout, exit status 64.
fn usage_error(binary: &str, args: &[&str]) -> String {
    let out = run(binary, args);
    assert_eq!(out.status.code(), Some(64), "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err.trim_end().to_string()
}

/// What printed and exited 0, its stdout; stderr empty.
fn printed(binary: &str, argv0: Option<&str>, args: &[&str]) -> String {
    let out = run_as(binary, argv0, args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    stdout(&out)
}

/// A tool is declared once, in src/lib.rs's `tools!`, and the rest follows
/// from there; this checks what cannot: each declared tool has its main
/// (src/bin/TOOL.rs, and there is no other), its binary built, and its test
/// file (tests/TOOL.rs, a `[[test]]` without libtest's harness) runs the
/// pipeline's contract (tests/common/contract.rs) for it.
#[test]
fn every_declared_tool_has_a_main_and_tests_that_run_the_contract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut mains: Vec<String> = fs::read_dir(root.join("src/bin"))
        .expect("list src/bin")
        .map(|entry| entry.expect("an entry of src/bin").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    mains.sort();
    let mut declared: Vec<String> = NAMES.iter().map(|name| name.to_string()).collect();
    declared.sort();
    assert_eq!(
        mains, declared,
        "src/bin/*.rs against the tools in src/lib.rs"
    );

    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("read Cargo.toml");
    for tool in NAMES {
        tools::binary(tool);
        let bin = format!("[[bin]]\nname = \"{tool}\"\n");
        assert!(manifest.contains(&bin), "Cargo.toml has no {bin:?}");
        let test = format!("[[test]]\nname = \"{tool}\"\nharness = false\n");
        assert!(manifest.contains(&test), "Cargo.toml has no {test:?}");
        let file = root.join(format!("tests/{tool}.rs"));
        let tests = fs::read_to_string(&file)
            .unwrap_or_else(|err| panic!("{}: {err} (every tool has its tests)", file.display()));
        let named = format!("const NAME: &'static str = \"{tool}\";");
        assert!(
            tests.contains("contract::trials::<") && tests.contains(&named),
            "{} does not run the contract for {tool}: implement \
             common::contract::TracedTool ({named}) and add contract::trials::<...>()",
            file.display()
        );
    }
}

#[test]
fn ambiguous_prefixes_are_one_error_naming_the_candidates() {
    assert_eq!(
        usage_error(&bin("execsnoop"), &["--ti"]),
        "execsnoop: option '--ti' is ambiguous; possibilities: '--time' '--timestamp' \
         (see 'execsnoop --help')"
    );
    assert_eq!(
        usage_error(&bin("execsnoop"), &["-x", "--ti=1"]),
        "execsnoop: option '--ti' is ambiguous; possibilities: '--time' '--timestamp' \
         (see 'execsnoop --help')"
    );
    assert_eq!(
        usage_error(&bin("tcpconnect"), &["--c"]),
        "tcpconnect: option '--c' is ambiguous; possibilities: '--count' '--container' '--cgroupmap' \
         (see 'tcpconnect --help')"
    );
    // Ours only: the candidates are ours.
    assert_eq!(
        usage_error(&bin("tcpconnect"), &["--ipv"]),
        "tcpconnect: option '--ipv' is ambiguous; possibilities: '--ipv4' '--ipv6' \
         (see 'tcpconnect --help')"
    );
}

/// Everything before `--usage` is parsed, and must be valid, before the
/// synopsis is printed: a way to see a command line accepted without
/// starting to trace.
fn accepted(binary: &str, args: &[&str]) -> bool {
    let args: Vec<&str> = args.iter().copied().chain(["--usage"]).collect();
    let out = run(binary, &args);
    out.status.success() && stdout(&out).starts_with("Usage: ")
}

#[test]
fn unique_prefixes_repeats_and_clusters_are_accepted() {
    for args in [
        &["--max", "3", "--quo", "--fail"][..],
        &["--max=3", "--print", "--cgroup", "/sys/fs/cgroup"],
        &[
            "--cgroupm",
            "/sys/fs/bpf/x",
            "--mn=/sys/fs/bpf/y",
            "--js",
            "--pp",
            "1",
        ],
        &["-T", "-T", "-x", "-x", "-q", "-q", "-u", "1", "-u", "2"],
        &["-Tx", "-u1000", "-xUq", "-n", "--ti"],
    ] {
        assert!(accepted(&bin("execsnoop"), args), "execsnoop {args:?}");
    }
    for args in [
        &["--cou", "--pi", "1", "--so", "--time"][..],
        &[
            "--por=80,443",
            "--print",
            "--att",
            "tracepoint",
            "--cg",
            "/x",
        ],
        &["-c", "-c", "-t", "-t", "-s", "-s", "-p", "1", "-p", "2"],
        &["-cst", "-p1", "-P80,81"],
    ] {
        assert!(accepted(&bin("tcpconnect"), args), "tcpconnect {args:?}");
    }
    // Prefixes are not expanded after `--`.
    assert!(usage_error(&bin("execsnoop"), &["--", "--max"]).contains("'--max'"));
    // A prefixed option's value is checked as the option's.
    assert!(usage_error(&bin("execsnoop"), &["--max", "0"])
        .contains("Invalid MAX_ARGS 0, should be in [1, 60] range"));
    assert!(usage_error(&bin("tcpconnect"), &["--pi", "0"]).contains("'0' is not a process id"));
}

#[test]
fn values_that_look_like_flags_reach_their_checks() {
    for (tool, args, wanted) in [
        ("execsnoop", &["-u", "-1"][..], "Invalid UID -1"),
        ("execsnoop", &["--uid=-1"], "Invalid UID -1"),
        ("execsnoop", &["--max-args", "-1"], "Invalid MAX_ARGS -1"),
        ("execsnoop", &["-P", "-5"], "'-5' is not a process id"),
        (
            "execsnoop",
            &["-u", "99999999999999999999"],
            "Invalid UID 99999999999999999999: out of range [0, 4294967294]",
        ),
        ("tcpconnect", &["-u", "-1"], "Invalid UID -1"),
        ("tcpconnect", &["-p", "-5"], "'-5' is not a process id"),
        ("tcpconnect", &["-P", "-80"], "invalid port '-80'"),
    ] {
        let line = usage_error(&bin(tool), args);
        assert!(line.contains(wanted), "{args:?}: {line}");
        assert!(!line.contains("unexpected argument"), "{args:?}: {line}");
    }
}

#[test]
fn json_with_quote_is_a_usage_error() {
    for args in [&["--json", "-q"][..], &["-q", "--json"]] {
        let line = usage_error(&bin("execsnoop"), args);
        assert!(
            line.contains("'--json'") && line.contains("'--quote'"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn help_spellings_print_the_full_help() {
    for &tool in NAMES {
        let binary = &bin(tool);
        let help = printed(binary, None, &["--help"]);
        assert!(
            help.contains("Options:") && help.contains("--usage"),
            "{help}"
        );
        for flag in ["-h", "-?", "--he"] {
            assert_eq!(printed(binary, None, &[flag]), help, "{tool} {flag}");
        }
    }
}

/// Each `--usage` line: at most 79 columns, continuation lines indented by
/// 12, every visible long option once, `[--name=VALUE]` for a value.
#[test]
fn usage_has_argps_shape() {
    for &tool in NAMES {
        let binary = &bin(tool);
        let usage = printed(binary, None, &["--usage"]);
        assert!(usage.starts_with(&format!("Usage: {tool} [-")), "{usage}");
        assert!(usage.ends_with("]\n"), "{usage}");
        let lines: Vec<&str> = usage.lines().collect();
        assert!(lines.len() >= 3, "{usage}");
        for line in &lines {
            assert!(line.len() <= 79, "{line:?}");
        }
        for line in &lines[1..] {
            assert!(
                line.starts_with("            [") && !line[12..].starts_with(' '),
                "{line:?}"
            );
        }
        // argp's own options last, wherever the lines break.
        let joined = usage.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            joined.ends_with("[--help] [--usage] [--version]"),
            "{usage}"
        );
        let help = printed(binary, None, &["--help"]);
        for word in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if let Some(long) = word.strip_prefix("--").filter(|l| !l.is_empty()) {
                let listed = usage.matches(&format!("[--{long}]")).count()
                    + usage.matches(&format!("[--{long}=")).count();
                assert_eq!(listed, 1, "{tool} --usage lists --{long} {listed} times");
            }
        }
    }
    assert!(printed(&bin("execsnoop"), None, &["--usage"]).contains("[-u UID]"));
    assert!(printed(&bin("tcpconnect"), None, &["--usage"]).contains("[-P PORTS]"));
}

/// A C program with the same options, parsed by the system's glibc argp:
/// the reference for `--usage`, byte for byte.
fn argp_reference(cmd: &clap::Command, dir: &Path) -> PathBuf {
    let mut cmd = cmd.clone();
    cmd.build();
    let mut options = String::new();
    // Upstream's -h: accepted, not shown.
    options.push_str("\t{ NULL, 'h', NULL, OPTION_HIDDEN, \"help\", 0 },\n");
    for (index, arg) in cmd.get_arguments().enumerate() {
        let id = arg.get_id().as_str();
        if arg.is_positional() || matches!(id, "help" | "usage" | "version") {
            continue;
        }
        let key = arg
            .get_short()
            .map_or_else(|| (1000 + index).to_string(), |c| format!("'{c}'"));
        let range = arg.get_num_args().expect("built");
        let value = if range.takes_values() {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| id.to_uppercase(), ToString::to_string);
            format!("\"{name}\"")
        } else {
            "NULL".to_string()
        };
        let mut flags = Vec::new();
        if arg.is_hide_set() {
            flags.push("OPTION_HIDDEN");
        }
        if range.takes_values() && range.min_values() == 0 {
            flags.push("OPTION_ARG_OPTIONAL");
        }
        let flags = if flags.is_empty() {
            "0".to_string()
        } else {
            flags.join(" | ")
        };
        let long = arg
            .get_long()
            .map_or("NULL".to_string(), |l| format!("\"{l}\""));
        options.push_str(&format!(
            "\t{{ {long}, {key}, {value}, {flags}, \"doc\", 0 }},\n"
        ));
        for alias in arg.get_visible_aliases().unwrap_or_default() {
            options.push_str(&format!(
                "\t{{ \"{alias}\", 0, NULL, OPTION_ALIAS, NULL, 0 }},\n"
            ));
        }
        for alias in arg.get_visible_short_aliases().unwrap_or_default() {
            options.push_str(&format!(
                "\t{{ NULL, '{alias}', NULL, OPTION_ALIAS, NULL, 0 }},\n"
            ));
        }
    }
    let source = format!(
        "#include <argp.h>\n\
         const char *argp_program_version = \"reference\";\n\
         static const struct argp_option options[] = {{\n{options}\t{{ 0 }}\n}};\n\
         static error_t parse(int key, char *arg, struct argp_state *state)\n\
         {{ (void)arg; (void)state; return key == ARGP_KEY_ARG ? ARGP_ERR_UNKNOWN : 0; }}\n\
         int main(int argc, char **argv)\n\
         {{ struct argp argp = {{ options, parse, NULL, NULL, NULL, NULL, NULL }};\n\
         return argp_parse(&argp, argc, argv, 0, NULL, NULL); }}\n"
    );
    let name = cmd.get_name();
    let c_file = dir.join(format!("{name}.c"));
    let program = dir.join(name);
    fs::write(&c_file, source).expect("write the reference program");
    let out = Command::new("cc")
        .arg("-o")
        .arg(&program)
        .arg(&c_file)
        .output()
        .expect("cc is needed for the argp reference (make deps installs gcc)");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    program
}

/// Each tool's `--usage` against glibc's, for its command line as
/// src/lib.rs declares it.
#[test]
fn usage_is_glibc_argps_byte_for_byte() {
    let scratch = TempDir::new("bpftools-argp-reference");
    let manuals = bpftools::tools::manuals();
    assert_eq!(manuals.len(), NAMES.len());
    for manual in manuals {
        let tool = manual.command.get_name().to_string();
        assert!(NAMES.contains(&tool.as_str()), "{tool}");
        let reference = argp_reference(&manual.command, scratch.path());
        let reference = reference.to_str().expect("UTF-8 path");
        for argv0 in [tool.clone(), format!("/usr/sbin/bpf-{tool}-libbpf")] {
            let expected = printed(reference, Some(&argv0), &["--usage"]);
            let ours = printed(&bin(&tool), Some(&argv0), &["--usage"]);
            assert_eq!(ours, expected, "{tool} --usage run as {argv0}");
        }
    }
}

#[test]
fn messages_name_the_tool_as_it_was_run() {
    for &tool in NAMES {
        let binary = &bin(tool);
        let installed = format!("bpf-{tool}");
        let argv0 = format!("/usr/sbin/{installed}");
        let argv0 = Some(argv0.as_str());

        let help = printed(binary, argv0, &["--help"]);
        assert!(
            help.contains(&format!("Usage: {installed} [OPTIONS]")),
            "{help}"
        );
        assert!(help.contains(&format!("\n    {installed} -t ")), "{help}");
        assert!(!help.contains(&format!("\n    {tool} ")), "{help}");

        let usage = printed(binary, argv0, &["--usage"]);
        assert!(
            usage.starts_with(&format!("Usage: {installed} [-")),
            "{usage}"
        );

        let out = run_as(binary, argv0, &["--bogus"]);
        assert_eq!(out.status.code(), Some(64));
        assert_eq!(
            stderr(&out),
            format!(
                "{installed}: unexpected argument '--bogus' found (see '{installed} --help')\n"
            )
        );

        // --version names the program, whatever it is installed as.
        assert_eq!(
            printed(binary, argv0, &["--version"]),
            format!("{tool} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn printing_to_a_closed_stdout_or_pipe_ends_quietly() {
    for &tool in NAMES {
        let binary = &bin(tool);
        for flag in ["--usage", "--help", "--version"] {
            // stdout closed: writes fail with EBADF.
            let out = Command::new("sh")
                .arg("-c")
                .arg("exec \"$0\" \"$1\" >&-")
                .arg(binary)
                .arg(flag)
                .output()
                .expect("run sh");
            assert!(out.status.success(), "{tool} {flag}: {out:?}");
            assert!(out.stderr.is_empty(), "{tool} {flag}: {out:?}");
            // stdout a pipe nobody reads: writes fail with EPIPE.
            let (reader, writer) = nix::unistd::pipe().expect("pipe");
            drop(reader);
            let out = Command::new(binary)
                .arg(flag)
                .stdout(Stdio::from(writer))
                .stderr(Stdio::piped())
                .output()
                .expect("run the tool");
            assert!(out.status.success(), "{tool} {flag}: {out:?}");
            assert!(out.stderr.is_empty(), "{tool} {flag}: {out:?}");
        }
    }
}
