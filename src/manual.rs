//! Man pages and shell completions, generated from the same clap definitions
//! that parse the flags, so they cannot drift from what the tools accept.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{bold, roman, Roff};

/// What a tool's man page says beyond its flags, and its examples (which
/// --help shows too). Each tool keeps its own, next to its code.
pub struct Manual {
    pub description: &'static [&'static str],
    pub examples: &'static [Example],
    /// The column --help aligns the examples' `#` at.
    pub example_column: usize,
    pub overhead: &'static [&'static str],
    pub caveats: &'static [&'static str],
    pub see_also: &'static str,
}

/// `TOOL ARGS`, and what it does.
pub struct Example {
    pub args: &'static str,
    pub purpose: &'static str,
}

impl Example {
    fn command(&self, tool: &str) -> String {
        format!("{tool} {}", self.args).trim_end().to_string()
    }
}

impl Manual {
    /// The EXAMPLES section of --help, as BCC's tools lay it out: each `#`
    /// at the example column, or for commands too long for it, two columns
    /// after the longest of them.
    pub fn help_examples(&self, tool: &str) -> String {
        let commands: Vec<String> = self.examples.iter().map(|e| e.command(tool)).collect();
        let too_long = commands.iter().map(String::len);
        let too_long = too_long.filter(|&len| len + 2 > self.example_column);
        let long_column = too_long.max().unwrap_or(0) + 2;
        let mut text = String::from("EXAMPLES:");
        for (command, example) in commands.iter().zip(self.examples) {
            let column = match command.len() + 2 > self.example_column {
                true => long_column,
                false => self.example_column,
            };
            let purpose = example.purpose;
            text.push_str(&format!("\n    {command:<column$}# {purpose}"));
        }
        text
    }
}

/// A tool's manual with the flags it documents.
pub struct ToolManual {
    pub command: Command,
    pub manual: &'static Manual,
}

/// Every tool's manual.
pub fn tools() -> [ToolManual; 2] {
    [
        ToolManual {
            command: crate::execsnoop::cli::Cli::command(),
            manual: &crate::execsnoop::manual::MANUAL,
        },
        ToolManual {
            command: crate::tcpconnect::cli::Cli::command(),
            manual: &crate::tcpconnect::manual::MANUAL,
        },
    ]
}

/// The names the tools are installed under: `prefix` + tool + `suffix`
/// (`bpf-execsnoop`, `execsnoop-libbpf`), so they can sit beside the
/// distribution's libbpf-tools. Man pages and completions follow them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Naming {
    pub prefix: String,
    pub suffix: String,
}

impl Naming {
    pub fn installed(&self, tool: &str) -> String {
        format!("{}{tool}{}", self.prefix, self.suffix)
    }

    /// The tool's command under its installed name, for its NAME, SYNOPSIS
    /// and completions. The name itself stays: it is the program's (the
    /// page's source line and --version say `execsnoop 0.1.0`).
    fn command(&self, command: &Command) -> Command {
        let installed = self.installed(command.get_name());
        command
            .clone()
            .bin_name(&installed)
            .display_name(&installed)
    }

    /// `execsnoop(8)` as `bpf-execsnoop(8)`, for each of our tools.
    fn cross_references(&self, text: &str) -> String {
        tools().iter().fold(text.to_string(), |text, manual| {
            let tool = manual.command.get_name();
            text.replace(
                &format!("{tool}(8)"),
                &format!("{}(8)", self.installed(tool)),
            )
        })
    }
}

/// How both tools read their command line (src/argp.rs): what upstream's
/// glibc argp does, for the man page's COMMAND LINE section.
const COMMAND_LINE: &[&str] = &[
    "Options are parsed as glibc's argp parses upstream's. A long option may be \
     shortened to any prefix that names one option: --verb is --verbose, \
     --ui=0 is --uid=0. A prefix that names one of upstream's options means that \
     option even where an option only this tool has shares it (--print is \
     --print-uid); an exact name always wins. Any other prefix of several options \
     is an error that lists them. Nothing after -- is taken for an option.",
    "Short options may be grouped (-vU, -u1000). An option may be given more than \
     once; the last value counts. An option's value is the next word even when it \
     starts with a dash, so -u -1 is refused as a UID, not taken for a flag.",
    "--usage prints a short synopsis of every option, as argp's does. Usage lines, \
     examples in --help and error messages name the tool as it was run. A wrong \
     command line is one line on standard error and exit status 64 (EX_USAGE).",
];

/// The man page, section 8, in the layout of BCC's: name, synopsis,
/// description, options, command line, examples, overhead, caveats, see
/// also, version.
pub fn write_man_page(manual: &ToolManual, out: &mut dyn Write) -> io::Result<()> {
    write_man_page_named(manual, &Naming::default(), out)
}

/// The man page of the tool installed under `naming`'s name: its NAME,
/// SYNOPSIS, EXAMPLES and SEE ALSO use the installed names.
pub fn write_man_page_named(
    manual: &ToolManual,
    naming: &Naming,
    out: &mut dyn Write,
) -> io::Result<()> {
    let man = Man::new(naming.command(&manual.command))
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
    page.text([roman(naming.cross_references(manual.see_also))]);
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

/// Writes man8/TOOL.8 and each shell's completions below `share_dir`
/// (laid out like PREFIX/share) and returns the files written.
pub fn generate(share_dir: &Path) -> io::Result<Vec<PathBuf>> {
    generate_named(share_dir, &Naming::default())
}

/// As `generate`, for the tools installed under `naming`'s names: file
/// names, the pages' NAME, SYNOPSIS and examples, and the command each
/// completion completes are the installed names.
pub fn generate_named(share_dir: &Path, naming: &Naming) -> io::Result<Vec<PathBuf>> {
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
        write_man_page_named(&manual, naming, &mut page)?;
        write(share_dir.join(format!("man/man8/{installed}.8")), page)?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            let mut command = naming.command(&manual.command);
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
        write_man_page_named(&tools()[0], &naming, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains(".TH bpf-execsnoop-x 8 "), "{page}");
        assert!(page.contains("bpf\\-execsnoop\\-x \\- Trace exec() syscalls"));
        assert!(page.contains("\\fBbpf\\-execsnoop\\-x\\fR"));
        assert!(page.contains("# bpf\\-execsnoop\\-x \\-x"));
        assert!(page.contains("bpf\\-tcpconnect\\-x(8)"));
        assert!(!page.contains("# execsnoop"));
    }
}
