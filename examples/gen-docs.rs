//! Writes the man pages and shell completions, laid out like PREFIX/share,
//! into the directory given: `cargo run --example gen-docs -- DIR`.
//! `make install` runs it; packagers can too.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(share_dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen-docs DIR");
        return ExitCode::from(2);
    };
    match bpftools::manual::generate(&share_dir) {
        Ok(files) => {
            for file in files {
                println!("{}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("gen-docs: writing into {}: {err}", share_dir.display());
            ExitCode::FAILURE
        }
    }
}
