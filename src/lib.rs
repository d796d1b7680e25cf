//! Rust re-implementations of BCC's libbpf-tools `execsnoop`, `tcpconnect`
//! and `exitsnoop`.
//!
//! A tool is its BPF program (src/bpf/TOOL.bpf.c), its module (src/TOOL/:
//! its flags, its record type, its formatters, its manual, and the `Tool` it
//! implements), its main (src/bin/TOOL.rs), its tests (tests/TOOL.rs) and
//! its line in `tools!` below. Everything else is shared: `runtime::pipeline` runs every tool from
//! its flags to its exit, and `data_path` carries each kernel event to stdout:
//! record -> typed event (`*/event.rs`) -> filter -> formatter (`*/format.rs`)
//! -> buffered stdout (`output`).

/// `pub mod skel`: the Rust skeleton build.rs generated for
/// src/bpf/`$tool`.bpf.c: the tool's programs, maps, read-only globals and
/// record types; generated code, so lints are not applied to it.
macro_rules! bpf_skeleton {
    ($tool:literal) => {
        #[allow(
            clippy::all,
            clippy::pedantic,
            missing_docs,
            non_camel_case_types,
            unused
        )]
        pub mod skel {
            include!(concat!(env!("OUT_DIR"), "/", $tool, ".skel.rs"));
        }
    };
}

pub mod ancestry;
pub mod argp;
#[path = "bpf/constants.rs"]
pub mod bpf_constants;
#[macro_use]
pub mod cli;
pub mod container;
pub mod data_path;
pub mod error;
pub mod manual;
pub mod output;
#[macro_use]
pub mod runtime;

pub use runtime::pipeline::main;

/// Declares every tool, each once, as `module::Type`: the tool's module
/// and the type that implements `Tool`; the module's name is the tool's.
/// Everything that lists the tools (`tools::NAMES`, `tools::manuals()`)
/// follows from here: the man pages and completions, the tests of the
/// command line, the pipeline and the packaging, the .deb and the benchmark.
macro_rules! tools {
    ($($module:ident::$tool:ident),+ $(,)?) => {
        $(
            pub mod $module;

            impl runtime::pipeline::Declared for $module::$tool {
                const NAME: &'static str = stringify!($module);
            }
        )+

        /// Every tool, as declared in src/lib.rs.
        pub mod tools {
            use crate::manual::ToolManual;
            use crate::runtime::pipeline::{command, Tool};

            /// The tools' names, as upstream's, in the order declared.
            pub const NAMES: &[&str] = &[$(stringify!($module)),+];

            /// Each tool's command line and manual, for its man page and
            /// completions.
            pub fn manuals() -> Vec<ToolManual> {
                vec![$(ToolManual {
                    command: command::<crate::$module::$tool>(),
                    manual: <crate::$module::$tool as Tool>::MANUAL,
                }),+]
            }
        }
    };
}

tools! {
    execsnoop::Execsnoop,
    tcpconnect::Tcpconnect,
    exitsnoop::Exitsnoop,
}

#[cfg(test)]
mod tests {
    /// The README's front door names every tool: a section of its own.
    #[test]
    fn the_readme_has_a_section_for_every_tool() {
        let readme = include_str!("../README.md");
        for tool in crate::tools::NAMES {
            assert!(
                readme.lines().any(|line| line == format!("## {tool}")),
                "README.md has no '## {tool}' section"
            );
        }
    }
}
