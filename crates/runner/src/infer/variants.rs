//! `strand predict --variants`: the effect of single-nucleotide variants. For each SNV of a VCF
//! (read by noodles), the window of the model's input length centred on the variant is cut from
//! the reference genome twice, with the reference and with the alternative base at its centre
//! (offset `window / 2`, 0-based), and both are scored; the TSV gives, per output column, the
//! reference score, the alternative score and their difference (alt − ref). The VCF's REF must
//! match the genome (a mismatch usually means another assembly): an error names the variant.
//! Indels, symbolic and multi-base alleles are skipped and counted.

use crate::infer::loaded::LoadedRun;
use crate::infer::predict::{PredictOptions, push_value, score};
use anyhow::{Context, Result, bail};
use noodles::vcf;
use std::io::Write;
use std::path::Path;
use std::time::Instant;
use strand_data::reference::Reference;

/// One SNV and its windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snv {
    pub id: String,
    pub chrom: String,
    /// 1-based, as in the VCF.
    pub pos: u64,
    pub reference: u8,
    pub alternative: u8,
}

/// What a variant pass did.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSummary {
    pub variants: usize,
    /// Alleles that are not single-base substitutions.
    pub skipped: usize,
    pub seconds: f64,
}

/// The reference and alternative windows of `snv`: `window` bases from `pos − 1 − window/2`.
pub fn windows(genome: &mut Reference, snv: &Snv, window: usize) -> Result<(Vec<u8>, Vec<u8>)> {
    let pos0 = snv.pos - 1;
    let half = (window / 2) as u64;
    let Some(start) = pos0.checked_sub(half) else {
        bail!(
            "variant {} at {}:{}: the {window}-base window starts before the start of {}",
            snv.id,
            snv.chrom,
            snv.pos,
            snv.chrom
        );
    };
    let r = genome
        .fetch(&snv.chrom, start, start + window as u64)
        .with_context(|| format!("variant {} at {}:{}", snv.id, snv.chrom, snv.pos))?;
    let at = half as usize;
    if r[at] != snv.reference {
        bail!(
            "variant {} at {}:{}: the VCF's REF is {} but the reference genome {} has {} there \
             (a VCF of another assembly, or another chromosome naming?)",
            snv.id,
            snv.chrom,
            snv.pos,
            snv.reference as char,
            genome.path().display(),
            r[at] as char
        );
    }
    let mut a = r.clone();
    a[at] = snv.alternative;
    Ok((r, a))
}

/// The SNVs of `path` (plain or bgzip VCF), one per alternative allele, and how many alleles
/// were skipped.
pub fn read_snvs(path: &Path) -> Result<(Vec<Snv>, usize)> {
    let text = strand_data::source::compressed::open_text_as(path, "VCF file")?;
    let mut reader = vcf::io::Reader::new(text);
    reader
        .read_header()
        .with_context(|| format!("{}: not a VCF (reading the header)", path.display()))?;
    let mut out = Vec::new();
    let mut skipped = 0;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: record {}", path.display(), i + 1))?;
        let chrom = rec.reference_sequence_name().to_string();
        let pos = match rec.variant_start() {
            Some(Ok(p)) => usize::from(p) as u64,
            _ => bail!("{}: record {} has no valid position", path.display(), i + 1),
        };
        let ids = rec.ids().as_ref().to_string();
        let reference = rec.reference_bases().to_ascii_uppercase();
        let alts = rec.alternate_bases().as_ref().to_string();
        for alt in alts.split(',') {
            let alt = alt.to_ascii_uppercase();
            let snv = reference.len() == 1
                && alt.len() == 1
                && b"ACGT".contains(&reference.as_bytes()[0])
                && b"ACGT".contains(&alt.as_bytes()[0])
                && alt != reference;
            if !snv {
                skipped += 1;
                continue;
            }
            let id = if ids.is_empty() || ids == "." {
                format!("{chrom}:{pos}:{reference}>{alt}")
            } else {
                format!("{ids}:{alt}")
            };
            out.push(Snv {
                id,
                chrom: chrom.clone(),
                pos,
                reference: reference.as_bytes()[0],
                alternative: alt.as_bytes()[0],
            });
        }
    }
    Ok((out, skipped))
}

/// Scores every SNV of `vcf` with windows of `window` bases from `genome`, writing the TSV.
pub fn predict_variants(
    run: &LoadedRun,
    vcf: &Path,
    genome: &Path,
    window: usize,
    out: &mut dyn Write,
    opts: PredictOptions,
) -> Result<VariantSummary> {
    if window == 0 || opts.batch_size == 0 {
        bail!("--window and --batch-size must be at least 1");
    }
    let started = Instant::now();
    let (snvs, skipped) = read_snvs(vcf)?;
    let mut genome = Reference::open(genome)?;
    let cols = run.columns();
    let mut header = String::from("id\tchrom\tpos\tref\talt");
    for c in &cols {
        header.push_str(&format!("\t{c}_ref\t{c}_alt\t{c}_delta"));
    }
    writeln!(out, "{header}")?;
    for chunk in snvs.chunks(opts.batch_size.div_ceil(2).max(1)) {
        let mut seqs = Vec::with_capacity(2 * chunk.len());
        for snv in chunk {
            let (r, a) = windows(&mut genome, snv, window)?;
            seqs.push(r);
            seqs.push(a);
        }
        let (rows, _) = score(run, &seqs, opts.rc_average)?;
        let mut text = String::new();
        for (snv, pair) in chunk.iter().zip(rows.chunks_exact(2)) {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}",
                snv.id, snv.chrom, snv.pos, snv.reference as char, snv.alternative as char
            ));
            for (r, a) in pair[0].iter().zip(&pair[1]) {
                push_value(&mut text, *r);
                push_value(&mut text, *a);
                push_value(&mut text, a - r);
            }
            text.push('\n');
        }
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(VariantSummary {
        variants: snvs.len(),
        skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}
