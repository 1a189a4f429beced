//! `strand tokenizer_cmd`.

pub fn run(_args: crate::cli::TokenizerCommand) -> anyhow::Result<()> {
    anyhow::bail!("`tokenizer_cmd` is not implemented yet")
}
