//! Rust re-implementations of BCC's libbpf-tools `execsnoop` and `tcpconnect`.
//!
//! A tool is its BPF program (src/bpf/), one module (its flags, its record
//! type, its formatters, its manual, and the `Tool` it implements) and its
//! tests. Everything else is shared: `runtime::pipeline` runs every tool from
//! its flags to its exit, and `data_path` carries each kernel event to stdout:
//! record -> typed event (`*/event.rs`) -> filter -> formatter (`*/format.rs`)
//! -> buffered stdout (`output`).

/// `pub mod skel`: the Rust skeleton build.rs generated for
/// src/bpf/`$tool`.bpf.c, used for its record types; generated code, so
/// lints are not applied to it.
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

pub mod argp;
#[path = "bpf/constants.rs"]
pub mod bpf_constants;
pub mod cli;
pub mod container;
pub mod data_path;
pub mod error;
pub mod manual;
pub mod output;
pub mod runtime;

pub mod execsnoop;
pub mod tcpconnect;

pub use runtime::pipeline::main;
