//! Environment variables that make the tools take a fallback they would not
//! choose on this kernel, so the tests and the benchmark can exercise it:
//! `BPFTOOLS_EVENT_CHANNEL=perf`, `BPFTOOLS_TRACEPOINT=classic` and
//! `BPFTOOLS_WAKEUP=timer`.

fn is_set_to(variable: &str, value: &str) -> bool {
    std::env::var_os(variable).is_some_and(|set| set == value)
}

/// The perf buffer even where the kernel has a ring buffer.
pub fn perf_buffer_forced() -> bool {
    is_set_to("BPFTOOLS_EVENT_CHANNEL", "perf")
}

/// Classic tracepoints even where BTF tracepoints (tp_btf) would load.
pub fn btf_tracepoints_disabled() -> bool {
    is_set_to("BPFTOOLS_TRACEPOINT", "classic")
}

/// User space gathers ring buffer records by sleeping between batches, as
/// releases before the kernel's wake-up policy did (the benchmark compares).
pub fn timer_batching_forced() -> bool {
    is_set_to("BPFTOOLS_WAKEUP", "timer")
}
