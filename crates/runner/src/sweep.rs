//! `strand sweep`.

pub fn run(_args: crate::cli::SweepArgs) -> anyhow::Result<()> {
    anyhow::bail!("`sweep` is not implemented yet")
}
