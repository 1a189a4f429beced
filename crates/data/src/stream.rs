//! Streaming: a seeded shuffle buffer over any record iterator, and a background prefetcher that
//! runs a mapping (tokenisation, batching) on worker threads so the consumer never waits on I/O.

use crossbeam_channel::{Receiver, bounded};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::thread::JoinHandle;

/// A buffered shuffle: keeps at most `capacity` items; each output is drawn uniformly from the
/// buffer and replaced by the next input. Memory is bounded by `capacity`, whatever the length of
/// the input; the order is a deterministic function of `seed`.
pub struct ShuffleBuffer<I: Iterator> {
    inner: I,
    buf: Vec<I::Item>,
    capacity: usize,
    rng: ChaCha8Rng,
}

impl<I: Iterator> ShuffleBuffer<I> {
    pub fn new(inner: I, capacity: usize, seed: u64) -> Self {
        let capacity = capacity.max(1);
        ShuffleBuffer {
            inner,
            buf: Vec::with_capacity(capacity.min(1 << 16)),
            capacity,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl<I: Iterator> Iterator for ShuffleBuffer<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        while self.buf.len() < self.capacity {
            match self.inner.next() {
                Some(x) => self.buf.push(x),
                None => break,
            }
        }
        if self.buf.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.buf.len());
        Some(self.buf.swap_remove(i))
    }
}

/// Items produced on a background thread, `depth` ahead of the consumer.
pub struct Prefetch<T> {
    rx: Receiver<T>,
    handle: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Runs `iter` on a background thread, keeping up to `depth` items ready.
    pub fn new<I>(iter: I, depth: usize) -> Self
    where
        I: Iterator<Item = T> + Send + 'static,
    {
        let (tx, rx) = bounded(depth.max(1));
        let handle = std::thread::Builder::new()
            .name("strand-prefetch".into())
            .spawn(move || {
                for item in iter {
                    if tx.send(item).is_err() {
                        break; // consumer dropped
                    }
                }
            })
            .expect("spawning a thread");
        Prefetch {
            rx,
            handle: Some(handle),
        }
    }
}

impl<T> Iterator for Prefetch<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> Drop for Prefetch<T> {
    fn drop(&mut self) {
        // Dropping the receiver makes the producer's next send fail, so it stops.
        let (_, dummy) = bounded(0);
        drop(std::mem::replace(&mut self.rx, dummy));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let a: Vec<u32> = ShuffleBuffer::new(0..1000u32, 64, 7).collect();
        let b: Vec<u32> = ShuffleBuffer::new(0..1000u32, 64, 7).collect();
        let c: Vec<u32> = ShuffleBuffer::new(0..1000u32, 64, 8).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut s = a.clone();
        s.sort();
        assert_eq!(s, (0..1000).collect::<Vec<_>>());
        assert_ne!(a, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn prefetch_preserves_order_and_stops_early() {
        let v: Vec<u64> = Prefetch::new(0..100u64, 4).collect();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
        let mut p = Prefetch::new(0..u64::MAX, 2);
        assert_eq!(p.next(), Some(0));
        drop(p); // must not hang
    }
}
