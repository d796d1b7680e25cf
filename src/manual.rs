//! What the man pages say beyond the flags, and --help's examples. The
//! pages and shell completions are rendered from this and the same clap
//! definitions that parse the flags (examples/gen-docs), so they cannot
//! drift from what the tools accept.

use clap::Command;

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
    pub fn command(&self, tool: &str) -> String {
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
}

/// How both tools read their command line (src/argp.rs): what upstream's
/// glibc argp does, for the man page's COMMAND LINE section.
pub const COMMAND_LINE: &[&str] = &[
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
