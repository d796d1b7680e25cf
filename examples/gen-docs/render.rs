//! Renders the man pages (section 8, in the layout of BCC's) and the bash,
//! zsh and fish completions from each tool's clap definitions and manual
//! (bpftools::manual). Only gen-docs and the packaging tests use it, so the
//! tools do not link the renderers.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bpftools::manual::{Naming, ToolManual, COMMAND_LINE};
use bpftools::tools::manuals as tools;
use clap::Command;
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{bold, roman, Roff};

/// The tool's command under its installed name, for its NAME, SYNOPSIS
/// and completions. The name itself stays: it is the program's (the
/// page's source line and --version say `execsnoop 0.1.0`).
fn installed_command(naming: &Naming, command: &Command) -> Command {
    let installed = naming.installed(command.get_name());
    command
        .clone()
        .bin_name(&installed)
        .display_name(&installed)
}

/// `execsnoop(8)` as `bpf-execsnoop(8)`, for each of our tools.
fn cross_references(naming: &Naming, text: &str) -> String {
    tools().iter().fold(text.to_string(), |text, manual| {
        let tool = manual.command.get_name();
        text.replace(
            &format!("{tool}(8)"),
            &format!("{}(8)", naming.installed(tool)),
        )
    })
}

/// The man page, section 8, in the layout of BCC's (name, synopsis,
/// description, options, command line, examples, overhead, caveats, see
/// also, version), of the tool installed under `naming`'s name: its NAME,
/// SYNOPSIS, EXAMPLES and SEE ALSO use the installed names.
pub fn write_man_page(manual: &ToolManual, naming: &Naming, out: &mut dyn Write) -> io::Result<()> {
    let man = Man::new(installed_command(naming, &manual.command))
        .section("8")
        .manual("System Manager's Manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;

    let installed = naming.installed(manual.command.get_name());
    let manual = manual.manual;
    let mut page = Roff::new();
    page.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut page, manual.description);
    page.to_writer(out)?;

    man.render_options_section(out)?;

    let mut page = Roff::new();
    page.control("SH", ["COMMAND LINE"]);
    paragraphs(&mut page, COMMAND_LINE);
    page.control("SH", ["EXAMPLES"]);
    for example in manual.examples {
        page.control("TP", []);
        page.text([bold(example.purpose)]);
        page.text([roman("#"), roman(" "), roman(example.command(&installed))]);
    }
    page.control("SH", ["OVERHEAD"]);
    paragraphs(&mut page, manual.overhead);
    page.control("SH", ["CAVEATS"]);
    paragraphs(&mut page, manual.caveats);
    page.control("SH", ["SEE ALSO"]);
    page.text([roman(cross_references(naming, manual.see_also))]);
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

/// Where each shell looks for completions, under PREFIX/share.
fn completion_path(shell: Shell, tool: &str) -> PathBuf {
    match shell {
        Shell::Bash => PathBuf::from(format!("bash-completion/completions/{tool}")),
        Shell::Zsh => PathBuf::from(format!("zsh/site-functions/_{tool}")),
        Shell::Fish => PathBuf::from(format!("fish/vendor_completions.d/{tool}.fish")),
        other => PathBuf::from(format!("completions/{other}/{tool}")),
    }
}

/// Writes man/man8/TOOL.8 and each shell's completions below `share_dir`
/// (laid out like PREFIX/share) for the tools installed under `naming`'s
/// names (file names, the pages' NAME, SYNOPSIS and examples, and the command
/// each completion completes), and returns the files written.
pub fn generate(share_dir: &Path, naming: &Naming) -> io::Result<Vec<PathBuf>> {
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
        let installed = naming.installed(manual.command.get_name());
        let mut page = Vec::new();
        write_man_page(&manual, naming, &mut page)?;
        write(share_dir.join(format!("man/man8/{installed}.8")), page)?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            let mut command = installed_command(naming, &manual.command);
            clap_complete::generate(shell, &mut command, &installed, &mut script);
            write(share_dir.join(completion_path(shell, &installed)), script)?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn man_page(index: usize) -> String {
        let mut out = Vec::new();
        write_man_page(&tools()[index], &Naming::default(), &mut out).unwrap();
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
            "COMMAND LINE",
            "EXAMPLES",
            "OVERHEAD",
            "CAVEATS",
        ] {
            assert!(
                page.contains(&format!(".SH {section}\n"))
                    || page.contains(&format!(".SH \"{section}\"\n")),
                "no {section}"
            );
        }
        assert!(page.contains(".TH execsnoop 8"));
        assert!(page.contains("execsnoop \\-x"));
    }

    #[test]
    fn a_prefixed_install_names_the_prefixed_command() {
        let naming = Naming {
            prefix: "bpf-".into(),
            suffix: "-x".into(),
        };
        let mut out = Vec::new();
        write_man_page(&tools()[0], &naming, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains(".TH bpf-execsnoop-x 8 "), "{page}");
        assert!(page.contains("bpf\\-execsnoop\\-x \\- Trace exec() syscalls"));
        assert!(page.contains("\\fBbpf\\-execsnoop\\-x\\fR"));
        assert!(page.contains("# bpf\\-execsnoop\\-x \\-x"));
        assert!(page.contains("bpf\\-tcpconnect\\-x(8)"));
        assert!(!page.contains("# execsnoop"));
    }
}
