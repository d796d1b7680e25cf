//! What a distribution package ships: `make install` into a DESTDIR (also
//! under a prefixed or suffixed name), man pages that render cleanly and list
//! every flag, completions that parse, --version, and `make deb`'s package.
//! None of this loads BPF, so it runs unprivileged too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bpftools::manual::Naming;
use bpftools::tools::NAMES;

// The renderers gen-docs uses (and their unit tests), not part of the library.
#[path = "../examples/gen-docs/render.rs"]
mod render;
#[path = "common/temp_dir.rs"]
mod temp_dir;
#[path = "common/tools.rs"]
mod tools;

use render::generate;
use temp_dir::TempDir;
use tools::{binary, release_dir};

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
    install_named(destdir, scratch, &Naming::default());
}

/// The same, under `naming`'s names (TOOL_PREFIX, TOOL_SUFFIX).
fn install_named(destdir: &Path, scratch: &Path, naming: &Naming) {
    let docs = scratch.join("share");
    generate(&docs, naming).expect("generate man pages and completions");
    let release_dir = release_dir();
    let out = run(Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--no-print-directory")
        .arg("install")
        .arg("NO_BUILD=1")
        .arg("PREFIX=/usr")
        .arg(format!("TOOL_PREFIX={}", naming.prefix))
        .arg(format!("TOOL_SUFFIX={}", naming.suffix))
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

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read a directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).expect("below the base");
                out.push(relative.display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}

/// What `make install` ships for a tool installed as `name`, with
/// `zsh_dir` the zsh completion directory under usr/share.
fn shipped_files(name: &str, zsh_dir: &str) -> Vec<String> {
    vec![
        format!("usr/sbin/{name}"),
        format!("usr/share/bash-completion/completions/{name}"),
        format!("usr/share/fish/vendor_completions.d/{name}.fish"),
        format!("usr/share/man/man8/{name}.8"),
        format!("usr/share/{zsh_dir}/_{name}"),
    ]
}

#[test]
fn make_install_lays_out_binaries_man_pages_and_completions() {
    let scratch = TempDir::new("bpftools-install");
    let destdir = scratch.path().join("root");
    install_into(&destdir, scratch.path());
    for tool in NAMES {
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
    let scratch = TempDir::new("bpftools-man");
    generate(scratch.path(), &Naming::default()).expect("generate man pages");
    for tool in NAMES {
        let path = binary(tool);
        let page_path = scratch.path().join(format!("man/man8/{tool}.8"));
        let page = fs::read_to_string(&page_path).expect("read the man page");

        let help = run(Command::new(&path).arg("--help"));
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
    let scratch = TempDir::new("bpftools-completions");
    generate(scratch.path(), &Naming::default()).expect("generate completions");
    for tool in NAMES {
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
            let out = run(Command::new(shell)
                .arg("-n")
                .arg(scratch.path().join(&file)));
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
    for tool in NAMES {
        let path = binary(tool);
        let out = run(Command::new(&path).arg("--version"));
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).expect("UTF-8"),
            format!("{tool} {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// The shared libraries `binary` names as NEEDED (`readelf -d`).
fn needed_libraries(binary: &Path) -> Vec<String> {
    assert!(have("readelf"), "readelf (binutils; make deps installs it)");
    let dynamic = run(Command::new("readelf").arg("-d").arg(binary));
    assert!(dynamic.status.success(), "readelf -d {}", binary.display());
    String::from_utf8_lossy(&dynamic.stdout)
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| line.split('[').nth(1)?.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

/// Each shared library costs every process its relocated data and ld.so's
/// record of it: the tools need glibc (the dynamic loader, mapped in every
/// process anyway, included), and libelf and zlib where not linked in,
/// nothing else (build.rs links the unwinder from libgcc_eh.a).
#[test]
fn the_tools_need_no_shared_library_but_glibc_libelf_and_zlib() {
    for tool in NAMES {
        let needed = needed_libraries(&binary(tool));
        assert!(
            needed.iter().any(|library| library == "libc.so.6"),
            "{tool} needs {needed:?}"
        );
        for library in &needed {
            let glibc = library == "libc.so.6" || library.starts_with("ld-linux");
            assert!(
                glibc || ["libelf.so.1", "libz.so.1"].contains(&library.as_str()),
                "{tool} needs {library} (all: {needed:?})"
            );
        }
    }
}

#[test]
fn a_prefixed_or_suffixed_install_names_the_installed_command_everywhere() {
    for naming in [
        Naming {
            prefix: "bpf-".into(),
            suffix: String::new(),
        },
        Naming {
            prefix: String::new(),
            suffix: "-libbpf".into(),
        },
    ] {
        let scratch = TempDir::new("bpftools-install-named");
        let destdir = scratch.path().join("root");
        install_named(&destdir, scratch.path(), &naming);
        let mut expected: Vec<String> = NAMES
            .iter()
            .flat_map(|tool| shipped_files(&naming.installed(tool), "zsh/site-functions"))
            .collect();
        expected.sort();
        assert_eq!(files_under(&destdir), expected, "{naming:?}");

        for tool in NAMES {
            let name = naming.installed(tool);
            let roff_name = name.replace('-', "\\-");
            let page = fs::read_to_string(destdir.join(format!("usr/share/man/man8/{name}.8")))
                .expect("the man page");
            assert!(page.contains(&format!(".TH {name} 8 ")), "{page}");
            // NAME, SYNOPSIS, the examples.
            assert!(page.contains(&format!("\n{roff_name} \\- ")), "{page}");
            assert!(page.contains(&format!("\\fB{roff_name}\\fR")), "{page}");
            assert!(page.contains(&format!("# {roff_name} \\-t")), "{page}");
            assert!(!page.contains(&format!("# {tool} ")), "{page}");

            // Each shell completes the installed command.
            let bash = destdir.join(format!("usr/share/bash-completion/completions/{name}"));
            let out = run(Command::new("bash")
                .arg("-c")
                .arg(format!("source '{}' && complete -p {name}", bash.display())));
            let registered = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && registered.trim_end().ends_with(&format!(" {name}")),
                "bash: {registered}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let zsh =
                fs::read_to_string(destdir.join(format!("usr/share/zsh/site-functions/_{name}")))
                    .expect("zsh completion");
            assert!(zsh.starts_with(&format!("#compdef {name}\n")), "{zsh}");
            let fish = fs::read_to_string(
                destdir.join(format!("usr/share/fish/vendor_completions.d/{name}.fish")),
            )
            .expect("fish completion");
            assert!(fish.contains(&format!("complete -c {name} ")), "{fish}");
            assert!(!fish.contains(&format!("complete -c {tool} ")), "{fish}");

            // The installed binary's help names it as installed.
            let binary = destdir.join(format!("usr/sbin/{name}"));
            let help = run(Command::new(&binary).arg("--help"));
            let help = String::from_utf8_lossy(&help.stdout);
            assert!(help.contains(&format!("Usage: {name} [OPTIONS]")), "{help}");
            let usage = run(Command::new(&binary).arg("--usage"));
            let usage = String::from_utf8_lossy(&usage.stdout);
            assert!(usage.starts_with(&format!("Usage: {name} [-")), "{usage}");
        }
    }
}

/// `make deb` packaging this test build (NO_BUILD=1: the real `make deb`
/// packages the static build, which the tests do not build a second time),
/// under `naming`; returns the .deb.
fn make_deb(scratch: &Path, naming: &Naming) -> PathBuf {
    for program in ["dpkg-deb", "dpkg-shlibdeps", "strip", "readelf", "lintian"] {
        assert!(
            have(program),
            "{program} is needed to build and check the .deb (make deps installs it)"
        );
    }
    let docs = scratch.join("share");
    generate(&docs, naming).expect("generate man pages and completions");
    let release_dir = release_dir();
    let out_dir = scratch.join("deb");
    let out = run(Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--no-print-directory")
        .arg("deb")
        .arg("NO_BUILD=1")
        .arg("DEB_MAINTAINER=Package Tester <tester@example.org>")
        .arg(format!("TOOL_PREFIX={}", naming.prefix))
        .arg(format!("TOOL_SUFFIX={}", naming.suffix))
        .arg(format!("DEB_DIR={}", out_dir.display()))
        .arg(format!("DEB_BIN_DIR={}", release_dir.display()))
        .arg(format!("DEB_DOCS_DIR={}", docs.display())));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "make deb failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deb = PathBuf::from(stdout.lines().last().expect("make deb names the package"));
    assert!(deb.is_file(), "{}: {stdout}", deb.display());
    deb
}

fn deb_field(deb: &Path, field: &str) -> String {
    let out = run(Command::new("dpkg-deb").arg("--field").arg(deb).arg(field));
    assert!(out.status.success(), "dpkg-deb --field {field}");
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

fn deb_files(deb: &Path) -> Vec<String> {
    let out = run(Command::new("dpkg-deb").arg("--contents").arg(deb));
    assert!(out.status.success(), "dpkg-deb --contents");
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.starts_with('-'))
        .filter_map(|line| line.split_whitespace().last())
        .map(|path| path.trim_start_matches("./").to_string())
        .collect();
    files.sort();
    files
}

/// lintian's tags for the package: none may be an error.
fn lintian_errors(deb: &Path) -> Vec<String> {
    let out = run(Command::new("lintian").arg("--pedantic").arg(deb));
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("lintian {}:\n{report}", deb.display());
    report
        .lines()
        .filter(|line| line.starts_with("E:"))
        .map(String::from)
        .collect()
}

#[test]
fn make_deb_builds_a_lintian_clean_package_that_conflicts_only_on_collisions() {
    let scratch = TempDir::new("bpftools-deb");
    let deb = make_deb(scratch.path(), &Naming::default());

    let mut expected: Vec<String> = NAMES
        .iter()
        .flat_map(|tool| shipped_files(tool, "zsh/vendor-completions"))
        .map(|file| {
            if file.ends_with(".8") {
                format!("{file}.gz")
            } else {
                file
            }
        })
        .chain([
            "usr/share/doc/libbpf-tools-rs/changelog.gz".to_string(),
            "usr/share/doc/libbpf-tools-rs/copyright".to_string(),
        ])
        .collect();
    expected.sort();
    assert_eq!(deb_files(&deb), expected);

    let info = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(info.status.success(), "dpkg-deb --info");
    let info = String::from_utf8_lossy(&info.stdout);
    for line in [
        " Package: libbpf-tools-rs\n",
        &format!(" Version: {}\n", env!("CARGO_PKG_VERSION")),
        " Maintainer: Package Tester <tester@example.org>\n",
        " Section: admin\n",
        " Priority: optional\n",
        " Description: ",
    ] {
        assert!(info.contains(line), "no {line:?} in\n{info}");
    }
    // Depends comes from the binaries: what this build links dynamically.
    let depends = deb_field(&deb, "Depends");
    assert!(depends.contains("libc6 (>= "), "{depends}");
    let needed = needed_libraries(&binary(NAMES[0]));
    for (library, package) in [("libelf.so", "libelf1"), ("libz.so", "zlib1g")] {
        assert_eq!(
            depends.contains(&format!("{package} (>= ")),
            needed.iter().any(|needed| needed.starts_with(library)),
            "{package} in Depends ({depends}) as {library} in the binary's NEEDED"
        );
    }
    // Debian's libbpf-tools ships /usr/sbin/execsnoop and /usr/sbin/tcpconnect.
    assert_eq!(deb_field(&deb, "Conflicts"), "libbpf-tools");
    assert_eq!(deb_field(&deb, "Replaces"), "libbpf-tools");
    assert_eq!(lintian_errors(&deb), Vec::<String>::new());

    // Under other names it installs beside libbpf-tools: no conflict.
    let scratch = TempDir::new("bpftools-deb-prefixed");
    let naming = Naming {
        prefix: "bpf-".into(),
        suffix: String::new(),
    };
    let deb = make_deb(scratch.path(), &naming);
    let files = deb_files(&deb);
    for tool in NAMES {
        assert!(files.contains(&format!("usr/sbin/bpf-{tool}")), "{files:?}");
        assert!(
            files.contains(&format!("usr/share/man/man8/bpf-{tool}.8.gz")),
            "{files:?}"
        );
        assert!(
            !files.iter().any(|file| file.ends_with(&format!("/{tool}"))),
            "{files:?}"
        );
    }
    assert_eq!(deb_field(&deb, "Conflicts"), "");
    assert_eq!(deb_field(&deb, "Replaces"), "");
    assert_eq!(lintian_errors(&deb), Vec::<String>::new());
}
