//! The one error type of the tools: a single line telling the operator what
//! is wrong and, where we know, what to do about it.

use std::fmt;

#[derive(Debug)]
pub struct Error {
    message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Describes a failed libbpf step, adding the usual remedy for its errno.
    pub fn from_libbpf(step: &str, err: &libbpf_rs::Error) -> Self {
        use libbpf_rs::ErrorKind;
        let hint = match err.kind() {
            ErrorKind::PermissionDenied => {
                "; run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
            }
            ErrorKind::OutOfMemory => "; the kernel refused the memory (RLIMIT_MEMLOCK?)",
            _ => "",
        };
        // libbpf_rs errors nest context with newlines; keep it on one line.
        let detail = err.to_string().replace('\n', ": ");
        Self::new(format!("{step}: {detail}{hint} (run with -v for libbpf's log)"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whatever produced the message, it stays one line.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Self::new(err.to_string())
    }
}
