//! Shared between the tools: from checking the system, through loading and
//! attaching the BPF object, to polling its events until told to stop.

pub mod event_loop;
pub mod loader;
pub mod signals;
pub mod system;
