//! exitsnoop: trace process exits. A drop-in for libbpf-tools exitsnoop.
#![no_main]

/// The C entry point: Rust's start-up is not needed (see bpftools::main).
#[no_mangle]
extern "C" fn main() -> std::ffi::c_int {
    bpftools::main::<bpftools::exitsnoop::Exitsnoop>()
}
