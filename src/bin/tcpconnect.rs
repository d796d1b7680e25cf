//! tcpconnect: trace active TCP connects. A drop-in for libbpf-tools
//! tcpconnect that also works on kernels without kprobes.
#![no_main]

/// The C entry point: Rust's start-up is not needed (see bpftools::main).
#[no_mangle]
extern "C" fn main() -> std::ffi::c_int {
    bpftools::main::<bpftools::tcpconnect::Tcpconnect>()
}
