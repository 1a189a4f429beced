//! Sequence normalisation: the single place where bytes from any file become strand's alphabet.
//!
//! Rules: lower case (soft-masking) is upper-cased; IUPAC ambiguity codes (`RYSWKMBDHV`) and `N`
//! become `N`; `U` is not DNA and is rejected like every other byte (including `-`, `.`, `*`,
//! digits and whitespace inside a sequence line).

use crate::{DataError, Result};
use std::path::Path;

/// Maps one byte to `A`, `C`, `G`, `T` or `N`, or `None` if it is not a nucleotide code.
#[inline]
pub fn normalize_base(b: u8) -> Option<u8> {
    match b.to_ascii_uppercase() {
        c @ (b'A' | b'C' | b'G' | b'T' | b'N') => Some(c),
        b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' => Some(b'N'),
        _ => None,
    }
}

/// Normalises `seq` in place; on a bad byte returns an error naming `path`, `record` and the
/// 0-based position.
///
/// ```
/// let mut s = b"acgtRYn".to_vec();
/// strand_data::seq::normalize(&mut s, "x.fa".as_ref(), "r1").unwrap();
/// assert_eq!(s, b"ACGTNNN");
/// ```
pub fn normalize(seq: &mut [u8], path: &Path, record: &str) -> Result<()> {
    for (position, b) in seq.iter_mut().enumerate() {
        match normalize_base(*b) {
            Some(c) => *b = c,
            None => {
                return Err(DataError::InvalidBase {
                    path: path.to_path_buf(),
                    record: record.to_string(),
                    position,
                    byte: *b as char,
                });
            }
        }
    }
    Ok(())
}

/// Reverse complement of an `ACGTN` sequence (`N` stays `N`).
///
/// ```
/// assert_eq!(strand_data::seq::reverse_complement(b"AACGTN"), b"NACGTT");
/// ```
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter()
        .rev()
        .map(|b| match b {
            b'A' => b'T',
            b'T' => b'A',
            b'C' => b'G',
            b'G' => b'C',
            other => *other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_dna_with_position() {
        let mut s = b"ACGXT".to_vec();
        let err = normalize(&mut s, Path::new("f.fa"), "rec7").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("f.fa") && msg.contains("rec7") && msg.contains("position 3"),
            "{msg}"
        );
    }

    #[test]
    fn iupac_and_lower_case() {
        let mut s = b"acgtnRYSWKMBDHV".to_vec();
        normalize(&mut s, Path::new("f"), "r").unwrap();
        assert_eq!(&s, b"ACGTNNNNNNNNNNN");
    }

    #[test]
    fn u_is_rejected() {
        let mut s = b"ACGU".to_vec();
        assert!(normalize(&mut s, Path::new("f"), "r").is_err());
    }
}
