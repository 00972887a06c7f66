//! Replica placement by rendezvous hashing (highest random weight): a key (a job id, a data hash) goes to the `rf`
//! workers with the highest `sha256(key ‖ 0x00 ‖ worker)`. Every client computes the same answer from the same
//! worker set, with no ring to keep, and the answer is stable: when a worker joins or leaves, only the keys whose
//! top `rf` it enters or leaves move, about `rf / n` of them for `n` workers.

use sha2::{Digest, Sha256};

/// A worker's weight for `key`: big-endian, higher wins.
pub fn weight(key: &[u8], worker: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key);
    h.update([0u8]);
    h.update(worker.as_bytes());
    h.finalize().into()
}

/// The `rf` workers of `workers` (distinct addresses in their normal form) with the highest weight for `key`,
/// highest first, each with its weight. Fewer when there are fewer workers.
pub fn place<'a, I>(key: &[u8], workers: I, rf: usize) -> Vec<(&'a str, [u8; 32])>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut scored: Vec<(&str, [u8; 32])> =
        workers.into_iter().map(|w| (w, weight(key, w))).collect();
    // Ties (a sha256 collision) fall back to the address, so the order is total and the same everywhere.
    scored.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    scored.truncate(rf);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("0x{i:040x}")).collect()
    }

    #[test]
    fn placement_is_deterministic_distinct_and_bounded() {
        let workers = fleet(10);
        let a = place(b"job:1", workers.iter().map(String::as_str), 3);
        let b = place(b"job:1", workers.iter().rev().map(String::as_str), 3);
        assert_eq!(a, b, "the input order does not matter");
        let names: std::collections::BTreeSet<&str> = a.iter().map(|(w, _)| *w).collect();
        assert_eq!(names.len(), 3, "distinct workers");
        assert!(a.windows(2).all(|p| p[0].1 >= p[1].1), "highest first");
        assert_eq!(
            place(b"job:1", workers.iter().take(2).map(String::as_str), 3).len(),
            2
        );
        assert_ne!(
            place(b"job:1", workers.iter().map(String::as_str), 1),
            place(b"job:2", workers.iter().map(String::as_str), 1),
            "keys spread (these two differ)"
        );
    }

    /// When one of 100 workers leaves, exactly the keys it held move, each to one new worker; and about 1/100
    /// of the keys (rf = 1) or 3/100 (rf = 3) did hold it.
    #[test]
    fn one_worker_leaving_moves_only_its_keys() {
        let workers = fleet(100);
        let gone = workers[37].as_str();
        let rest: Vec<&str> = workers
            .iter()
            .map(String::as_str)
            .filter(|w| *w != gone)
            .collect();
        for rf in [1usize, 3] {
            let mut moved = 0;
            let keys = 20_000;
            for k in 0..keys {
                let key = format!("job:{k}");
                let before: Vec<&str> =
                    place(key.as_bytes(), workers.iter().map(String::as_str), rf)
                        .into_iter()
                        .map(|(w, _)| w)
                        .collect();
                let after: Vec<&str> = place(key.as_bytes(), rest.iter().copied(), rf)
                    .into_iter()
                    .map(|(w, _)| w)
                    .collect();
                let held = before.contains(&gone);
                let kept: Vec<&str> = before.iter().copied().filter(|w| *w != gone).collect();
                if held {
                    moved += 1;
                    assert_eq!(&after[..rf - 1], &kept[..], "the others keep their places");
                } else {
                    assert_eq!(after, before, "a key the leaver did not hold stays put");
                }
            }
            let share = moved as f64 / keys as f64;
            let expected = rf as f64 / 100.0;
            assert!(
                (share - expected).abs() < expected * 0.25,
                "rf {rf}: {share} of keys moved"
            );
        }
    }
}
