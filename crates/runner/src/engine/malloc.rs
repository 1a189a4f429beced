//! Keep freed tensor memory in the process instead of handing it back to the kernel.
//!
//! A CPU training step allocates and frees hundreds of large buffers (activations, gradients,
//! attention scores of 32 MiB for t5-tiny at batch 8 × 512). glibc serves every allocation above
//! its mmap threshold (at most 32 MiB) with a fresh `mmap` and returns it with `munmap` on free,
//! so the next step faults every page in again and the kernel zeroes it: `perf` on a t5-tiny
//! step showed 20–29% of the samples in page faults and `clear_page_erms`. With mmap disabled
//! and trimming off, freed blocks stay on glibc's heaps and are reused; the process keeps its
//! high-water mark, which is what the step needs anyway (peak memory, `VmHWM`, is unchanged).
//! Measured on the 2-core machine (README, section Performance).

/// Switches glibc's allocator to keep freed memory (no mmap for large blocks, no trimming).
/// Call once at the start of `main`, before any thread is spawned. No effect elsewhere than
/// glibc on Linux; `STRAND_MALLOC=default` leaves glibc's defaults in place.
pub fn keep_freed_memory() {
    if std::env::var("STRAND_MALLOC").is_ok_and(|v| v == "default") {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation parameters; it is called before any other
    // thread exists, and both parameters accept these values (0 mmaps; a threshold up to
    // `i32::MAX`).
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
