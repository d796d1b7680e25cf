//! The numbers both sides of the kernel boundary use, in one place. The crate
//! has this file as `bpftools::bpf_constants`; build.rs has it too and writes
//! every constant as a `#define` into `constants.h`, which the BPF programs
//! include. A value changed here changes both sides in the same build.

/// Declares the constants and lists them by name for build.rs.
macro_rules! shared_constants {
    ($($(#[$doc:meta])* $name:ident: $type:ty = $value:expr;)*) => {
        $($(#[$doc])* pub const $name: $type = $value;)*
        /// Every constant with its C name, as build.rs writes them.
        pub const ALL: &[(&str, u64)] = &[$((stringify!($name), $value as u64)),*];
    };
}

shared_constants! {
    /// Destination ports `tcpconnect -P` takes at most (upstream's limit).
    MAX_PORTS: usize = 64;
    /// Arguments execsnoop shows at most (the top of --max-args' range); a
    /// failed exec's argv is read entry by entry up to this many.
    MAX_ARGS: usize = 60;
    /// Address families, as the kernel numbers them.
    AF_INET: u16 = 2;
    AF_INET6: u16 = 10;
    /// What became of a connect, in tcpconnect's records (`result`): not
    /// followed to its result (without --outcome) ...
    RESULT_NONE: u8 = 0;
    /// ... established ...
    RESULT_OK: u8 = 1;
    /// ... ended by the kernel with the errno in `error` (ECONNREFUSED: a
    /// reset; ETIMEDOUT: no answer to any SYN; others from ICMP errors) ...
    RESULT_FAILED: u8 = 2;
    /// ... closed or aborted by its process before an answer ...
    RESULT_CLOSED: u8 = 3;
    /// ... still waiting for an answer when tracing stopped ...
    RESULT_PENDING: u8 = 4;
    /// ... or reported when seen, not followed: no room was left to follow it.
    RESULT_UNKNOWN: u8 = 5;
    /// tcpconnect --dns: the bytes kept of a DNS query (its question is
    /// checked against the answer's) ...
    DNS_QUERY_MAX: usize = 512;
    /// ... and of an answer: more than a datagram of a 1500-byte MTU holds.
    DNS_ANSWER_MAX: usize = 2048;
    /// What an exit record of exitsnoop --max-args carries as its command
    /// line (`cmdline_state`): none asked for ...
    CMDLINE_NOT_ASKED: u8 = 0;
    /// ... the one kept ...
    CMDLINE_KEPT: u8 = 1;
    /// ... none, because none was kept (why is counted in unknown_cmdlines,
    /// at one of the CMDLINE_LOSS_* slots) ...
    CMDLINE_UNKNOWN: u8 = 2;
    /// ... or none, as the task is a kernel thread, which has none.
    CMDLINE_KERNEL_THREAD: u8 = 3;
    /// Why an exit is shown without its command line, the slots of
    /// unknown_cmdlines: the process began before tracing did (its end may
    /// have too) ...
    CMDLINE_LOSS_BEGAN_BEFORE: u32 = 0;
    /// ... it began while tracing, yet nothing was kept where its end began:
    /// the kernel did not run the program there (exit_group(2), exit(2), a
    /// fatal signal), or the table of exiting processes dropped it ...
    CMDLINE_LOSS_NOT_KEPT: u32 = 1;
    /// ... or its memory could not be read where its end began.
    CMDLINE_LOSS_UNREADABLE: u32 = 2;
    /// The number of those slots.
    CMDLINE_LOSSES: usize = 3;
}
