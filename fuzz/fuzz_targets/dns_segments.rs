//! tcpconnect -d's parsing path over TCP: segments of two connections
//! (`bpftools::tcpconnect::dns::exercise_segments`: each a flags byte, a
//! 2-byte length and its data), split into messages behind their 2-byte
//! lengths, answers paired with queries by id, read, learnt and shown. A
//! panic, a hang, or a name shown with a control character unescaped is a
//! finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    bpftools::tcpconnect::dns::exercise_segments(input);
});
