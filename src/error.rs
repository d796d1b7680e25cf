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

    /// Describes a failed libbpf step. Privileges were checked before any
    /// load, so a refusal here is the verifier's or the kernel's policy.
    pub fn from_libbpf(step: &str, err: &libbpf_rs::Error) -> Self {
        // libbpf_rs errors nest context with newlines; keep it on one line.
        let detail = err.to_string().replace('\n', ": ");
        let hint = match crate::runtime::libbpf_log::shown() {
            true => "",
            false => " (-v shows libbpf's log)",
        };
        Self::new(format!("{step}: {detail}{hint}"))
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
