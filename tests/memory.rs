//! What the server asks of the machine's memory. The allocator reserves its heap in large
//! aligned regions; were they marked for transparent huge pages, the kernel would back them
//! with 2 MiB pages, and its background collapsing (khugepaged) would refill the 4 KiB pages
//! the allocator had handed back: the resident set would then rise in steps long after
//! start-up with nothing more in use (the soaks in docs/reliability.md showed it).

mod common;

use common::process::{Served, create_partner, free_port, token};

/// The first line (address range, permissions, file) of every mapping of process `pid` that
/// asked for huge pages: `madvise(MADV_HUGEPAGE)` shows as the flag `hg` in its `VmFlags`.
fn huge_page_mappings(pid: u32) -> Option<Vec<String>> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut current = String::new();
    let mut marked = Vec::new();
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if flags.split_whitespace().any(|flag| flag == "hg") {
                marked.push(current.clone());
            }
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|w| w.contains('-'))
        {
            current = line.to_string();
        }
    }
    Some(marked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_does_not_ask_for_transparent_huge_pages() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite://{}", dir.path().join("memory.db").display());
    let partner = create_partner(&database, "memory");
    let server = Served::start(&database, free_port(), &[], None).await;
    // A token request: the allocator has reserved and used its heap by now.
    token(&server.base, &partner).await;
    let Some(marked) = huge_page_mappings(server.pid()) else {
        return; // no /proc: not Linux, nothing to ask
    };
    assert!(
        marked.is_empty(),
        "mappings marked for huge pages: {marked:?}"
    );
}
