//! `strand pretrain`.

pub fn run(_args: crate::cli::PretrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`pretrain` is not implemented yet")
}
