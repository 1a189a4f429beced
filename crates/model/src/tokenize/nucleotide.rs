//! Single-nucleotide tokenizer: `A C G T N` → ids 104 … 108.

use super::{FIRST_REGULAR, Tokenizer, TokenizerSpec, UNK, special_tokens};

const BASES: [u8; 5] = *b"ACGTN";

/// One token per base; any byte outside `ACGTN` becomes `<unk>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NucleotideTokenizer;

impl Tokenizer for NucleotideTokenizer {
    fn spec(&self) -> TokenizerSpec {
        TokenizerSpec::Nucleotide
    }

    fn vocab_size(&self) -> usize {
        FIRST_REGULAR as usize + BASES.len()
    }

    fn encode(&self, seq: &[u8]) -> Vec<u32> {
        seq.iter()
            .map(|b| match b {
                b'A' => FIRST_REGULAR,
                b'C' => FIRST_REGULAR + 1,
                b'G' => FIRST_REGULAR + 2,
                b'T' => FIRST_REGULAR + 3,
                b'N' => FIRST_REGULAR + 4,
                _ => UNK,
            })
            .collect()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        if id < FIRST_REGULAR {
            return special_tokens().get(id as usize).cloned();
        }
        BASES
            .get((id - FIRST_REGULAR) as usize)
            .map(|b| (*b as char).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_token_per_base_round_trip() {
        let t = NucleotideTokenizer;
        let ids = t.encode(b"ACGTN");
        assert_eq!(ids, vec![104, 105, 106, 107, 108]);
        let back: String = ids.iter().map(|i| t.id_to_token(*i).unwrap()).collect();
        assert_eq!(back, "ACGTN");
        assert_eq!(t.vocab_size(), 109);
        assert_eq!(t.id_to_token(0).as_deref(), Some("<pad>"));
        assert_eq!(t.id_to_token(4).as_deref(), Some("<extra_id_0>"));
    }
}
