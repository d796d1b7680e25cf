//! tcpconnect -d's parsing path: a query and the answer the kernel side
//! matched to it, read, learnt and shown (`bpftools::tcpconnect::dns::exercise`:
//! a 2-byte query length, the query, then the answer). A panic, a hang, or
//! a name shown with a control character unescaped is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    bpftools::tcpconnect::dns::exercise(input);
});
