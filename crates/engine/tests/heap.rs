//! The host's heap stays in a bounded number of allocator arenas however many threads
//! allocate at once (its own process: no other test's threads made arenas before it).

/// Allocator heaps other than the main one in this process: anonymous mappings aligned to
/// glibc's heap size (64 MiB) that, with the reservation after them, span exactly that.
fn arena_heaps() -> usize {
    const HEAP: u64 = 64 << 20;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let spans: Vec<(u64, u64, bool)> = maps
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let anonymous = f.nth(3).is_none();
            let (a, b) = range.split_once('-')?;
            let (a, b) = (
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            );
            anonymous.then_some((a, b, perms.starts_with("rw")))
        })
        .collect();
    spans
        .iter()
        .enumerate()
        .filter(|&(i, &(a, b, rw))| {
            let reserved_to = match spans.get(i + 1) {
                Some(&(c, d, false)) if c == b => d,
                _ => b,
            };
            rw && a % HEAP == 0 && reserved_to - a == HEAP
        })
        .count()
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn sixteen_threads_allocating_at_once_share_the_bounded_arenas() {
    // (Without this call, the same threads made 15 heaps on a 2-core machine.)
    chronus_engine::heap::bound_arenas();
    let start = std::sync::Barrier::new(16);
    std::thread::scope(|s| {
        for t in 0..16 {
            let start = &start;
            s.spawn(move || {
                start.wait();
                let mut kept = Vec::new();
                for i in 0..20_000usize {
                    kept.push(vec![t as u8; 64 + i % 512]);
                    if kept.len() > 64 {
                        kept.swap_remove(i % 64);
                    }
                }
                std::hint::black_box(kept);
            });
        }
    });
    let heaps = arena_heaps();
    println!("allocator heaps besides the main one: {heaps}");
    assert!(
        heaps < chronus_engine::heap::HEAP_ARENAS as usize,
        "{heaps} arenas besides the main one"
    );
}
