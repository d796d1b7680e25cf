//! Writes the man pages and shell completions, laid out like PREFIX/share,
//! into the directory given: `cargo run --example gen-docs -- DIR`.
//! `--prefix P` and `--suffix S` name the tools as installed (P + tool + S,
//! e.g. `bpf-execsnoop`): file names, pages and completions follow.
//! `make docs` and `make install` run it; packagers can too.

use std::path::PathBuf;
use std::process::ExitCode;

mod render;

use bpftools::manual::Naming;
use render::generate;

const USAGE: &str = "usage: gen-docs [--prefix PREFIX] [--suffix SUFFIX] DIR";

fn main() -> ExitCode {
    let mut naming = Naming::default();
    let mut share_dir = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let target = match arg.to_str() {
            Some("--prefix") => &mut naming.prefix,
            Some("--suffix") => &mut naming.suffix,
            _ if share_dir.is_none() => {
                share_dir = Some(PathBuf::from(arg));
                continue;
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        };
        match args.next().map(|value| value.into_string()) {
            Some(Ok(value)) if !value.contains('/') => *target = value,
            _ => {
                eprintln!("gen-docs: a prefix or suffix is a file name part (UTF-8, no '/')");
                return ExitCode::from(2);
            }
        }
    }
    let Some(share_dir) = share_dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match generate(&share_dir, &naming) {
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
