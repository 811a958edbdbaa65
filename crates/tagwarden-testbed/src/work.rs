//! Work measured exactly, for tests that guard against blow-ups: the allocations and bytes a
//! closure asks for on the current thread. Unlike a clock, the count is the same on an idle laptop
//! and a loaded CI machine, so a bound on it never flakes and still catches quadratic or
//! exponential work that allocates. Speed itself is for the benchmarks.
//!
//! A test binary opts in with
//! `#[global_allocator] static ALLOC: tagwarden_testbed::CountingAllocator = tagwarden_testbed::CountingAllocator;`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator, counting what each thread asks for.
pub struct CountingAllocator;

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    // Const-initialised and without a destructor, so counting never allocates itself.
    static COUNT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn count(bytes: usize) {
    INSTALLED.store(true, Ordering::Relaxed);
    // During thread teardown the slot may be gone: those allocations are nobody's work.
    let _ = COUNT.try_with(|c| {
        let (allocations, total) = c.get();
        c.set((allocations + 1, total + bytes as u64));
    });
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches only a thread-local cell.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What a closure allocated on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Work {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Bytes those calls asked for (a `realloc` counts its new size).
    pub bytes: u64,
}

/// Runs `f` and returns its value with the work it allocated on this thread. Panics when the test
/// binary has not installed [`CountingAllocator`], since every bound would then pass unchecked.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Work) {
    let before = COUNT.with(Cell::get);
    let value = f();
    let after = COUNT.with(Cell::get);
    assert!(
        INSTALLED.load(Ordering::Relaxed),
        "work::measure needs #[global_allocator] static ALLOC: tagwarden_testbed::CountingAllocator"
    );
    let work = Work {
        allocations: after.0 - before.0,
        bytes: after.1 - before.1,
    };
    (value, work)
}

/// How much a linear parse may allocate per input byte: four times what the heaviest extractor
/// needed in December 2026 (drone: ~940 bytes per byte of a long script, ~8 allocations per byte
/// of a small alias bomb), yet far below quadratic work on the inputs the tests use (100 KiB to
/// 10 MiB; quadratic bytes pass the bound from 8 KiB of input on). Constant factors are the
/// benchmarks' business, not this bound's.
pub const BYTES_PER_INPUT_BYTE: u64 = 4096;
/// See [`BYTES_PER_INPUT_BYTE`].
pub const ALLOCATIONS_PER_INPUT_BYTE: u64 = 32;

/// Runs `f` on an input of `input_len` bytes and asserts that its work stayed linear (not
/// quadratic or exponential): at most [`BYTES_PER_INPUT_BYTE`] bytes and
/// [`ALLOCATIONS_PER_INPUT_BYTE`] allocations per input byte, inputs under 4 KiB counting as
/// 4 KiB so that small bombs still have room for a parse's fixed costs. Returns `f`'s value.
pub fn assert_linear<T>(what: &str, input_len: usize, f: impl FnOnce() -> T) -> T {
    let (value, work) = measure(f);
    let len = input_len.max(4096) as u64;
    assert!(
        work.bytes <= BYTES_PER_INPUT_BYTE * len
            && work.allocations <= ALLOCATIONS_PER_INPUT_BYTE * len,
        "{what}: {work:?} for {input_len} input bytes, more than linear work allows"
    );
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[global_allocator]
    static ALLOC: CountingAllocator = CountingAllocator;

    #[test]
    fn counts_what_the_closure_allocates_on_its_thread() {
        let ((), work) = measure(|| {
            let mut v: Vec<u8> = black_box(Vec::with_capacity(1000));
            v.reserve_exact(2000);
            // Another thread's allocations are not this closure's work.
            std::thread::scope(|s| {
                s.spawn(|| black_box(Vec::<u8>::with_capacity(1 << 20)));
            });
        });
        assert!(work.allocations >= 2, "{work:?}");
        assert!((3000..(1 << 20)).contains(&work.bytes), "{work:?}");
    }

    #[test]
    fn linear_work_passes() {
        let n = 100_000;
        assert_linear("linear", n, || {
            for _ in 0..n {
                black_box(Vec::<u8>::with_capacity(64));
            }
        });
    }

    #[test]
    #[should_panic(expected = "more than linear work allows")]
    fn quadratic_work_fails() {
        let n = 100_000;
        assert_linear("quadratic", n, || {
            for i in 0..n {
                black_box(Vec::<u8>::with_capacity(i));
            }
        });
    }
}
