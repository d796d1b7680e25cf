//! What a distribution package ships: `make install` into a DESTDIR, man
//! pages that render cleanly and list every flag, completions that parse,
//! and --version. None of this loads BPF, so it runs unprivileged too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOOLS: [(&str, &str); 2] = [
    ("execsnoop", env!("CARGO_BIN_EXE_execsnoop")),
    ("tcpconnect", env!("CARGO_BIN_EXE_tcpconnect")),
];

/// A directory of its own under the system's temporary directory, removed
/// when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"))
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Installs into `destdir` with PREFIX=/usr what this test build made.
fn install_into(destdir: &Path, scratch: &Path) {
    let docs = scratch.join("share");
    bpftools::manual::generate(&docs).expect("generate man pages and completions");
    let release_dir = Path::new(TOOLS[0].1).parent().expect("binary directory");
    let out = run(Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--no-print-directory")
        .arg("install")
        .arg("NO_BUILD=1")
        .arg("PREFIX=/usr")
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg(format!("RELEASE_DIR={}", release_dir.display()))
        .arg(format!("DOCS_DIR={}", docs.display())));
    assert!(
        out.status.success(),
        "make install failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn make_install_lays_out_binaries_man_pages_and_completions() {
    let scratch = Scratch::new("bpftools-install");
    let destdir = scratch.0.join("root");
    install_into(&destdir, &scratch.0);
    for (tool, _) in TOOLS {
        let binary = destdir.join("usr/sbin").join(tool);
        let mode = fs::metadata(&binary)
            .expect("installed binary")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "{}", binary.display());
        for file in [
            format!("usr/share/man/man8/{tool}.8"),
            format!("usr/share/bash-completion/completions/{tool}"),
            format!("usr/share/zsh/site-functions/_{tool}"),
            format!("usr/share/fish/vendor_completions.d/{tool}.fish"),
        ] {
            let path = destdir.join(&file);
            let meta = fs::metadata(&path).unwrap_or_else(|_| panic!("{file} not installed"));
            assert!(meta.len() > 0, "{file} is empty");
            assert_eq!(meta.permissions().mode() & 0o777, 0o644, "{file}");
        }
    }
}

#[test]
fn man_pages_render_without_warnings_and_list_every_flag_of_help() {
    let scratch = Scratch::new("bpftools-man");
    bpftools::manual::generate(&scratch.0).expect("generate man pages");
    for (tool, binary) in TOOLS {
        let page_path = scratch.0.join(format!("man/man8/{tool}.8"));
        let page = fs::read_to_string(&page_path).expect("read the man page");

        let help = run(Command::new(binary).arg("--help"));
        assert!(help.status.success());
        let help = String::from_utf8(help.stdout).expect("help is UTF-8");
        let flags: Vec<&str> = help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|word| word.starts_with("--") && word.len() > 2)
            .collect();
        assert!(flags.len() > 10, "{tool} --help: {flags:?}");
        for flag in flags {
            // roff writes each dash of an option as \-.
            assert!(
                page.contains(&flag.replace('-', "\\-")),
                "{tool}.8 lacks {flag}"
            );
        }

        // groff (what man uses) with all warnings on must say nothing.
        assert!(
            have("groff"),
            "groff is needed to check the man pages (make deps installs it)"
        );
        let rendered = run(Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&page_path));
        assert!(rendered.status.success(), "groff failed on {tool}.8");
        assert_eq!(
            String::from_utf8_lossy(&rendered.stderr),
            "",
            "groff warns on {tool}.8"
        );
    }
}

#[test]
fn completions_parse_in_their_shells() {
    let scratch = Scratch::new("bpftools-completions");
    bpftools::manual::generate(&scratch.0).expect("generate completions");
    for (tool, _) in TOOLS {
        let checks = [
            ("bash", format!("bash-completion/completions/{tool}")),
            ("zsh", format!("zsh/site-functions/_{tool}")),
            ("fish", format!("fish/vendor_completions.d/{tool}.fish")),
        ];
        for (shell, file) in checks {
            // bash is everywhere; zsh and fish are checked where installed.
            if shell != "bash" && !have(shell) {
                eprintln!("{shell} is not installed: {file} not checked");
                continue;
            }
            let out = run(Command::new(shell).arg("-n").arg(scratch.0.join(&file)));
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{shell} -n {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn version_names_the_tool_and_the_release() {
    for (tool, binary) in TOOLS {
        let out = run(Command::new(binary).arg("--version"));
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).expect("UTF-8"),
            format!("{tool} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}
