//! `strand tasks`.

pub fn run(_args: crate::cli::TasksArgs) -> anyhow::Result<()> {
    anyhow::bail!("`tasks` is not implemented yet")
}
