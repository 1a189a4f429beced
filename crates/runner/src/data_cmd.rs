//! `strand data_cmd`.

pub fn run(_args: crate::cli::DataCommand) -> anyhow::Result<()> {
    anyhow::bail!("`data_cmd` is not implemented yet")
}
