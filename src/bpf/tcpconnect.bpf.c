#include "vmlinux.h"
#include "common.bpf.h"
char LICENSE[] SEC("license") = "Dual BSD/GPL";
