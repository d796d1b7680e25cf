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

/// The man page, section 8, in the layout of BCC's: name, synopsis,
/// description, options, examples, overhead, caveats, see also, version.
pub fn write_man_page(manual: &ToolManual, out: &mut dyn Write) -> io::Result<()> {
    let man = Man::new(manual.command.clone())
        .section("8")
        .manual("System Manager's Manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;

    let tool = manual.command.get_name().to_string();
    let manual = manual.manual;
    let mut page = Roff::new();
    page.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut page, manual.description);
    page.to_writer(out)?;

    man.render_options_section(out)?;

    let mut page = Roff::new();
    page.control("SH", ["EXAMPLES"]);
    for example in manual.examples {
        page.control("TP", []);
        page.text([bold(example.purpose)]);
        page.text([roman("#"), roman(" "), roman(example.command(&tool))]);
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
