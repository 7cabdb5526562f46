//! The pages of the chunk being filled, faulted in ahead of the events
//! written into it, on another thread.
//!
//! A chunk's buffer is reserved whole (10 MiB) and only the pages written
//! count in memory, but each page costs a page fault when it is first
//! written: in a new process, a third of the time of filling a chunk with
//! small JSON events (about 4 ms of 12 for 7.5 MB, measured with the
//! connector figures' phases), on a core that has nothing else to do
//! meanwhile. Once a chunk holds [`START`] bytes, a thread faults in the
//! next [`AHEAD`] bytes before the events reach them
//! (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14 and later, which leaves the
//! bytes as they are), so that the pusher writes into resident pages. It
//! stays at most [`AHEAD`] bytes ahead (a chunk's memory grows by no more
//! than that beyond what it holds), naps when it is that far, and ends when
//! the chunk closes, at the end of the buffer, or at the first refusal (an
//! older kernel, a buffer moved). Elsewhere than Linux nothing is started.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

/// The bytes a chunk holds before its pages are faulted in ahead: a small
/// push starts no thread.
pub(crate) const START: usize = 256 * 1024;
/// How far ahead of the bytes written the pages are faulted in.
pub(crate) const AHEAD: usize = 256 * 1024;
/// The bytes faulted in at once, and their alignment (a multiple of any
/// page size).
const STEP: usize = 64 * 1024;
/// The longest nap of the thread between two looks at the chunk.
const NAP: Duration = Duration::from_millis(10);

/// Faults in the pages ahead of one chunk's writer; stops it when dropped.
#[derive(Debug)]
pub(crate) struct Prefault {
    shared: Arc<Shared>,
    thread: Thread,
    /// The buffer's address: a buffer that moves is no longer followed.
    base: usize,
    /// The length written when the thread was last woken.
    woken_at: usize,
}

#[derive(Debug)]
struct Shared {
    written: AtomicUsize,
    closed: AtomicBool,
}

impl Prefault {
    /// Starts faulting in the pages of `buffer` after its length, ahead of
    /// what is written into it; `None` where there is nothing to gain (not
    /// Linux, a buffer of less than [`START`] bytes reserved, no thread).
    pub(crate) fn start(buffer: &[u8], capacity: usize) -> Option<Prefault> {
        if !cfg!(target_os = "linux") || capacity < START + AHEAD {
            return None;
        }
        let base = buffer.as_ptr() as usize;
        let shared = Arc::new(Shared {
            written: AtomicUsize::new(buffer.len()),
            closed: AtomicBool::new(false),
        });
        let follower = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sekoia-prefault".into())
            // It keeps three words and calls madvise.
            .stack_size(64 * 1024)
            .spawn(move || follow(base, capacity, &follower))
            .ok()?;
        Some(Prefault {
            thread: thread.thread().clone(),
            shared,
            base,
            woken_at: buffer.len(),
        })
    }

    /// Says that `buffer` now holds its length: the thread is woken each
    /// [`STEP`] bytes; a buffer that moved (grown for a huge event) is no
    /// longer followed.
    pub(crate) fn wrote(&mut self, buffer: &[u8]) {
        if buffer.as_ptr() as usize != self.base {
            self.shared.closed.store(true, Ordering::Relaxed);
            return;
        }
        self.shared.written.store(buffer.len(), Ordering::Relaxed);
        if buffer.len() >= self.woken_at + STEP {
            self.woken_at = buffer.len();
            self.thread.unpark();
        }
    }
}

impl Drop for Prefault {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// The thread: faults in the buffer at `base` ([`STEP`] bytes at a time,
/// aligned) up to [`AHEAD`] bytes past what is written, until the chunk
/// closes or the buffer's end.
fn follow(base: usize, capacity: usize, shared: &Shared) {
    let end = (base + capacity) & !(STEP - 1);
    let written = shared.written.load(Ordering::Relaxed);
    let mut at = (base + written).next_multiple_of(STEP);
    while at + STEP <= end && !shared.closed.load(Ordering::Relaxed) {
        let written = shared.written.load(Ordering::Relaxed);
        if at + STEP <= base + written + AHEAD {
            if !populate_write(at, STEP) {
                return;
            }
            at += STEP;
        } else {
            std::thread::park_timeout(NAP);
        }
    }
}

/// Faults in the pages of `length` bytes at `address` (page-aligned) as a
/// first write would; false when the kernel refuses.
#[cfg(target_os = "linux")]
fn populate_write(address: usize, length: usize) -> bool {
    // SAFETY: madvise reads and writes no memory that Rust sees: with
    // MADV_POPULATE_WRITE it maps the pages of the range as a write fault
    // would, leaving their bytes as they are (and fails, without a signal,
    // where the range is not mapped or not writable). The address is only
    // passed to the kernel, never dereferenced.
    #[allow(unsafe_code)]
    let refused = unsafe {
        libc::madvise(
            address as *mut libc::c_void,
            length,
            libc::MADV_POPULATE_WRITE,
        )
    };
    refused == 0
}

#[cfg(not(target_os = "linux"))]
fn populate_write(_address: usize, _length: usize) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The resident pages of `buffer`'s first `length` bytes, from
    /// `/proc/self/pagemap` (bit 63 of each page's entry).
    fn resident_pages(buffer: &[u8], length: usize) -> usize {
        use std::io::{Read, Seek, SeekFrom};
        const PAGE: usize = 4096;
        let first = buffer.as_ptr() as usize / PAGE;
        let last = (buffer.as_ptr() as usize + length - 1) / PAGE;
        let mut pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
        pagemap.seek(SeekFrom::Start(first as u64 * 8)).unwrap();
        let mut entries = vec![0u8; (last - first + 1) * 8];
        pagemap.read_exact(&mut entries).unwrap();
        entries
            .chunks_exact(8)
            .filter(|entry| u64::from_le_bytes((*entry).try_into().unwrap()) >> 63 == 1)
            .count()
    }

    /// The pages after the bytes written become resident before they are
    /// written, never more than [`AHEAD`] (and a step) past them; the bytes
    /// written stay as they are; the thread stops when the chunk closes.
    #[test]
    fn pages_ahead_of_the_writer_are_faulted_in_and_no_further() {
        // Larger than glibc's largest mmap threshold (32 MiB): fresh pages,
        // never memory the allocator reuses (resident already).
        const CAPACITY: usize = 40 << 20;
        const MEASURED: usize = 4 << 20;
        let mut buffer: Vec<u8> = Vec::with_capacity(CAPACITY);
        buffer.resize(START, b'x');
        let mut prefault = Prefault::start(&buffer, buffer.capacity()).expect("Linux");
        // Transparent huge pages for every mapping fault in 2 MiB at once:
        // only the lower bound holds then.
        let huge_pages_always =
            std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
                .is_ok_and(|mode| mode.contains("[always]"));
        let resident = |buffer: &[u8]| resident_pages(buffer, MEASURED) * 4096;
        for length in [START, START + 300_000, START + 1_000_000] {
            buffer.resize(length, b'y');
            prefault.wrote(&buffer);
            // The thread's time to catch up, bounded.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while resident(&buffer) < length + AHEAD - 2 * STEP {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{} bytes resident for {length} written",
                    resident(&buffer)
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(20));
            let resident = resident(&buffer);
            assert!(
                huge_pages_always || resident <= length + AHEAD + 2 * STEP,
                "{resident} bytes resident for {length} written"
            );
        }
        assert!(buffer[..START].iter().all(|&byte| byte == b'x'));
        assert!(buffer[START..].iter().all(|&byte| byte == b'y'));
        let written = buffer.len();
        drop(prefault);
        std::thread::sleep(Duration::from_millis(20));
        let resident = resident(&buffer);
        assert!(
            huge_pages_always || resident <= written + AHEAD + 2 * STEP,
            "{resident}"
        );
    }

    /// A buffer that moved is no longer followed.
    #[test]
    fn a_buffer_that_moved_is_left_alone() {
        let mut buffer: Vec<u8> = Vec::with_capacity(2 << 20);
        buffer.resize(START, 1);
        let mut prefault = Prefault::start(&buffer, buffer.capacity()).expect("Linux");
        let mut moved: Vec<u8> = Vec::with_capacity(4 << 20);
        moved.extend_from_slice(&buffer);
        drop(buffer);
        prefault.wrote(&moved);
        assert!(prefault.shared.closed.load(Ordering::Relaxed));
    }
}
