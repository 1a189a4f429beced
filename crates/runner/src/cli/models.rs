//! `strand models list|show`: the model presets, and one preset's layers, output shapes and
//! parameter counts.

use crate::config::model_show::{self, ShowFor, thousands};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The built-in presets with their trainable parameters (for --length bases, --classes).
    List(ShapeArgs),
    /// One preset (built-in name or a .toml path) layer by layer: output shape and trainable
    /// parameters of each, for --length bases and --classes.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ShapeArgs {
    /// Bases per input sequence (BOS and EOS are added, as in training).
    #[arg(long, default_value_t = 251)]
    pub length: usize,
    /// Classes of the task (2: one logit); 0 for a regression task.
    #[arg(long, default_value_t = 2)]
    pub classes: usize,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A built-in preset (`strand models list`) or the path of a preset .toml.
    pub name: String,
    #[command(flatten)]
    pub shape: ShapeArgs,
}

impl ShapeArgs {
    fn for_(&self) -> anyhow::Result<ShowFor> {
        if self.length == 0 || self.classes == 1 {
            anyhow::bail!("--length must be at least 1 and --classes 0 (regression) or at least 2");
        }
        Ok(ShowFor {
            bases: self.length,
            classes: (self.classes > 0).then_some(self.classes),
        })
    }
}

pub fn run(command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::List(a) => {
            println!(
                "{:<16} {:<7} {:>12}  description",
                "preset", "kind", "params"
            );
            for l in model_show::list(a.for_()?)? {
                println!(
                    "{:<16} {:<7} {:>12}  {}",
                    l.name,
                    l.kind,
                    thousands(l.params),
                    l.description
                );
            }
            println!(
                "\nparameters for {} bp, {} classes; `strand models show NAME` for the layers, \
                 `strand train --model NAME|PATH.toml` to train one",
                a.length, a.classes
            );
        }
        ModelsCommand::Show(a) => print!("{}", model_show::show(&a.name, a.shape.for_()?)?),
    }
    Ok(())
}
