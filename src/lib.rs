//! Rust re-implementations of BCC's libbpf-tools `execsnoop` and `tcpconnect`.
//!
//! Data flows one way: kernel event -> typed struct (`*/event.rs`) -> filter
//! -> formatter (`*/format.rs`) -> buffered stdout (`output`). What the tools
//! share (system checks, loading, the event loop, signals, output, errors)
//! lives in `runtime`, `output`, `cli` and `error`.

/// `pub mod skel` holding the Rust skeleton build.rs generated for
/// src/bpf/`$tool`.bpf.c; generated code, so lints are not applied to it.
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

pub mod cli;
pub mod error;
pub mod execsnoop;
pub mod manual;
pub mod output;
pub mod runtime;
pub mod tcpconnect;
