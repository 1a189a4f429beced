//! `strand bench`.

pub fn run(_args: crate::cli::BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`bench` is not implemented yet")
}
