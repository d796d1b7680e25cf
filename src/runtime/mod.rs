//! Shared between the tools, from checking the system to shutdown. Each file
//! has one job: `pipeline` runs them in order for a `Tool`.

pub mod attach;
pub mod cgroup;
pub mod channel;
pub mod event_loop;
pub mod libbpf_log;
#[macro_use]
pub mod object;
pub mod pinned_filters;
pub mod pipeline;
pub mod signals;
pub mod switches;
pub mod system;
