//! `strand quickstart`.

pub fn run(_args: crate::cli::QuickstartArgs) -> anyhow::Result<()> {
    anyhow::bail!("`quickstart` is not implemented yet")
}
