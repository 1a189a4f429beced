//! `strand bench`: time training steps on synthetic tokens.

use crate::bench::{self, BenchArgs};
use anyhow::Result;

pub fn run(args: BenchArgs) -> Result<()> {
    let report = bench::bench(&args)?;
    bench::print_human(&report);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}
