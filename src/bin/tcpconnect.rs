//! tcpconnect: trace active TCP connects. A drop-in for libbpf-tools
//! tcpconnect that also works on kernels without kprobes.

fn main() -> std::process::ExitCode {
    bpftools::run::<bpftools::tcpconnect::Tcpconnect>()
}
