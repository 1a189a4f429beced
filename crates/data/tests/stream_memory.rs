//! Streaming keeps memory bounded: 2,000,000 generated 251-bp records (about 500 MB of sequence)
//! go through a 10,000-record shuffle buffer and a background prefetcher, and the resident memory
//! of the process grows by less than a fixed bound. The test is alone in its binary so that no
//! other test's allocations disturb the measurement.

use strand_data::stream::{Prefetch, ShuffleBuffer};
use strand_data::{Label, Record, Split};

/// `VmRSS` and `VmHWM` of this process in KiB (Linux `/proc/self/status`).
fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// An endless-looking but lazy source: record `i` has a pseudo-random 251-bp sequence.
fn generated(n: u64) -> impl Iterator<Item = Record> + Send {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n).map(move |i| {
        let seq = (0..251)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"ACGT"[(x & 3) as usize]
            })
            .collect();
        Record {
            id: i.to_string(),
            seq,
            label: Label::Class((i % 2) as u32),
            split: Split::Train,
        }
    })
}

const N: u64 = 2_000_000;
const CAPACITY: usize = 10_000;
/// Allowed growth of resident memory after the buffer is full (the buffer itself holds about
/// 10,000 × (251 + ~60) bytes ≈ 3 MiB; keeping every record would cost well over 500 MiB).
const GROWTH_BOUND_KIB: u64 = 32 * 1024;
/// Allowed peak above the resident memory before streaming started.
const PEAK_BOUND_KIB: u64 = 96 * 1024;

#[test]
fn two_million_records_through_a_shuffle_buffer_in_bounded_memory() {
    let Some((rss_start, _)) = memory_kib() else {
        skip(format_args!(
            "SKIP two_million_records_through_a_shuffle_buffer_in_bounded_memory: no /proc/self/status"
        ));
        return;
    };
    let stream = Prefetch::new(ShuffleBuffer::new(generated(N), CAPACITY, 42), 256);
    let (mut count, mut bases, mut ones, mut checksum) = (0u64, 0u64, 0u64, 0u64);
    let mut first_ids = Vec::new();
    let mut rss_full = 0;
    for r in stream {
        count += 1;
        bases += r.seq.len() as u64;
        ones += u64::from(r.label == Label::Class(1));
        checksum = checksum.wrapping_add(r.id.parse::<u64>().unwrap());
        if first_ids.len() < 100 {
            first_ids.push(r.id.parse::<u64>().unwrap());
        }
        if count == 2 * CAPACITY as u64 {
            rss_full = memory_kib().unwrap().0;
        }
    }
    let (rss_end, hwm) = memory_kib().unwrap();
    println!(
        "streamed {count} records ({:.0} MB of sequence): VmRSS start {rss_start} KiB, \
         buffer full {rss_full} KiB, end {rss_end} KiB, VmHWM {hwm} KiB",
        bases as f64 / 1e6
    );
    assert_eq!(count, N);
    assert_eq!(bases, N * 251);
    assert_eq!(ones, N / 2);
    assert_eq!(checksum, N * (N - 1) / 2, "every record exactly once");
    assert!(
        first_ids.windows(2).any(|w| w[1] < w[0]) && first_ids.iter().any(|&i| i >= 100),
        "the stream is shuffled"
    );
    assert!(
        rss_end.saturating_sub(rss_full) < GROWTH_BOUND_KIB,
        "resident memory grew by {} KiB after the buffer filled (bound {GROWTH_BOUND_KIB} KiB)",
        rss_end.saturating_sub(rss_full)
    );
    assert!(
        hwm.saturating_sub(rss_start) < PEAK_BOUND_KIB,
        "peak resident memory {} KiB above the start (bound {PEAK_BOUND_KIB} KiB)",
        hwm.saturating_sub(rss_start)
    );
}

/// Prints a `SKIP …` line on the process's standard error directly (libtest captures
/// `println!` of passing tests; a skipped test must say why in a passing run too).
fn skip(reason: std::fmt::Arguments) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{reason}");
}
