//! Rust re-implementations of BCC's libbpf-tools `execsnoop` and `tcpconnect`.
//!
//! Data flows one way: kernel event -> typed struct (`*/event.rs`) -> filter
//! -> formatter (`*/format.rs`) -> buffered stdout (`output`). What the tools
//! share (system checks, loading, the event loop, signals, output, errors)
//! lives in `runtime`, `output`, `cli` and `error`.

pub mod cli;
pub mod error;
pub mod execsnoop;
pub mod manual;
pub mod output;
pub mod runtime;
pub mod tcpconnect;
