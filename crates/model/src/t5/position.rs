//! Relative position buckets (T5 §5), computed on the host in f64.
//!
//! The bucket of a (query, key) pair depends only on `rel = key − query`, so the whole
//! `[q_len, k_len]` table is computed once per forward pass on the CPU and uploaded as an `Int`
//! tensor; the learned bias table is then a plain embedding lookup.

use burn::tensor::Device;
use burn::tensor::{Int, Tensor, TensorData};

/// Bucket of one relative position `rel = key − query`.
///
/// Bidirectional (encoder): half of the buckets for each sign (`rel > 0` adds `num_buckets / 2`).
/// Unidirectional (decoder): only `rel ≤ 0` is distinguished, future keys map to 0. Within a side,
/// the first half of the buckets are exact distances and the rest grow logarithmically up to
/// `max_distance`, beyond which everything shares the last bucket.
///
/// ```
/// use strand_model::t5::position::relative_position_bucket;
/// assert_eq!(relative_position_bucket(16, true, 32, 128), 26);
/// assert_eq!(relative_position_bucket(-20, false, 32, 128), 17);
/// ```
pub fn relative_position_bucket(
    rel: i64,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
) -> usize {
    let (side, offset, n) = if bidirectional {
        let side = num_buckets / 2;
        (side, if rel > 0 { side } else { 0 }, rel.unsigned_abs())
    } else {
        (num_buckets, 0, (-rel).max(0) as u64)
    };
    let max_exact = side / 2;
    let n = n as usize;
    if n < max_exact {
        return offset + n;
    }
    let log_ratio =
        (n as f64 / max_exact as f64).ln() / (max_distance as f64 / max_exact as f64).ln();
    let large = max_exact + (log_ratio * (side - max_exact) as f64).trunc() as usize;
    offset + large.min(side - 1)
}

/// Buckets of every (query, key) pair, row-major `[q_len, k_len]`.
pub fn bucket_table(
    q_len: usize,
    k_len: usize,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
) -> Vec<i64> {
    let mut out = Vec::with_capacity(q_len * k_len);
    for q in 0..q_len as i64 {
        for k in 0..k_len as i64 {
            out.push(
                relative_position_bucket(k - q, bidirectional, num_buckets, max_distance) as i64,
            );
        }
    }
    out
}

/// [`bucket_table`] as a tensor on `device`.
///
/// # Shapes
/// - output: `[q_len, k_len]`
pub fn bucket_tensor(
    q_len: usize,
    k_len: usize,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
    device: &Device,
) -> Tensor<2, Int> {
    let table = bucket_table(q_len, k_len, bidirectional, num_buckets, max_distance);
    Tensor::from_data(TensorData::new(table, [q_len, k_len]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// t5.md §5 test vectors: (rel, encoder bucket, decoder bucket).
    const VECTORS: [(i64, usize, usize); 29] = [
        (0, 0, 0),
        (1, 17, 0),
        (-1, 1, 1),
        (7, 23, 0),
        (-7, 7, 7),
        (8, 24, 0),
        (-8, 8, 8),
        (-9, 8, 9),
        (12, 25, 0),
        (-12, 9, 12),
        (-15, 9, 15),
        (16, 26, 0),
        (-16, 10, 16),
        (-17, 10, 16),
        (-20, 10, 17),
        (-31, 11, 21),
        (-32, 12, 21),
        (-46, 13, 24),
        (-63, 13, 26),
        (64, 30, 0),
        (-64, 14, 26),
        (-90, 14, 29),
        (-91, 15, 29),
        (-112, 15, 30),
        (-113, 15, 31),
        (-127, 15, 31),
        (-128, 15, 31),
        (1000, 31, 0),
        (-1000, 15, 31),
    ];

    #[test]
    fn reference_test_vectors() {
        for (rel, enc, dec) in VECTORS {
            assert_eq!(
                relative_position_bucket(rel, true, 32, 128),
                enc,
                "encoder rel {rel}"
            );
            assert_eq!(
                relative_position_bucket(rel, false, 32, 128),
                dec,
                "decoder rel {rel}"
            );
        }
    }

    #[test]
    fn exact_log_boundaries_16_32_64() {
        // ln(n/8)/ln(16)·8 is exactly 2, 4, 6 here: one ulp low would give 9 / 11 / 13.
        for (n, bucket) in [(16, 10), (32, 12), (64, 14)] {
            assert_eq!(
                relative_position_bucket(-n, true, 32, 128),
                bucket,
                "rel -{n}"
            );
            assert_eq!(
                relative_position_bucket(n, true, 32, 128),
                bucket + 16,
                "rel +{n}"
            );
            assert_eq!(
                relative_position_bucket(-(n - 1), true, 32, 128),
                bucket - 1
            );
        }
    }

    #[test]
    fn decoder_bucket_ranges_match_the_table() {
        // (first n, bucket) of each logarithmic decoder bucket, t5.md §5.
        let starts = [
            (16, 16),
            (19, 17),
            (21, 18),
            (24, 19),
            (27, 20),
            (31, 21),
            (35, 22),
            (40, 23),
            (46, 24),
            (52, 25),
            (59, 26),
            (67, 27),
            (77, 28),
            (87, 29),
            (99, 30),
            (113, 31),
        ];
        for (n, bucket) in starts {
            assert_eq!(
                relative_position_bucket(-n, false, 32, 128),
                bucket,
                "n {n}"
            );
            if bucket > 16 {
                assert_eq!(
                    relative_position_bucket(-(n - 1), false, 32, 128),
                    bucket - 1
                );
            }
        }
    }

    #[test]
    fn table_is_key_minus_query_row_major() {
        let t = bucket_table(2, 3, true, 32, 128);
        // q=0: rel 0, 1, 2; q=1: rel -1, 0, 1.
        assert_eq!(t, vec![0, 17, 18, 1, 0, 17]);
        let d = bucket_table(3, 3, false, 32, 128);
        assert_eq!(d, vec![0, 0, 0, 1, 0, 0, 2, 1, 0]);
    }
}
