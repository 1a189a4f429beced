//! `strand eval`.

pub fn run(_args: crate::cli::EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("`eval` is not implemented yet")
}
