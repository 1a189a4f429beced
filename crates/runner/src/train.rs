//! `strand train`.

pub fn run(_args: crate::cli::TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`train` is not implemented yet")
}
