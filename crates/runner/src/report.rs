//! `strand report`.

pub fn run(_args: crate::cli::ReportArgs) -> anyhow::Result<()> {
    anyhow::bail!("`report` is not implemented yet")
}
