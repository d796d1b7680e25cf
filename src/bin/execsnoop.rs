//! execsnoop: trace exec() syscalls. A drop-in for libbpf-tools execsnoop.

fn main() -> std::process::ExitCode {
    bpftools::run::<bpftools::execsnoop::Execsnoop>()
}
