//! `strand fetch_cmd`.

pub fn run(_args: crate::cli::FetchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`fetch_cmd` is not implemented yet")
}
