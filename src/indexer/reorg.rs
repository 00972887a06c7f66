//! Fork-point search: the highest stored block whose hash is still the canonical one.

use std::future::Future;

/// Walks `stored` (block number and the hash indexed for it, highest first) and returns the first block whose
/// canonical hash, from `canonical`, equals the stored one: everything above it is orphaned. `None` when no
/// stored block matches: the reorg is deeper than the window kept.
pub async fn fork_point<F, Fut, E>(
    stored: &[(u64, String)],
    mut canonical: F,
) -> Result<Option<u64>, E>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<String, E>>,
{
    for (number, hash) in stored {
        if canonical(*number).await? == *hash {
            return Ok(Some(*number));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(hashes: &[(u64, &str)]) -> impl FnMut(u64) -> std::future::Ready<Result<String, ()>> {
        let map: std::collections::HashMap<u64, String> =
            hashes.iter().map(|(n, h)| (*n, h.to_string())).collect();
        move |n| std::future::ready(Ok(map.get(&n).cloned().unwrap_or_default()))
    }

    #[tokio::test]
    async fn finds_the_highest_common_block() {
        let stored: Vec<(u64, String)> = [(12, "c"), (11, "b"), (10, "a")]
            .iter()
            .map(|(n, h)| (*n, h.to_string()))
            .collect();
        // (canonical chain, expected fork point)
        type Chain<'a> = &'a [(u64, &'a str)];
        let cases: [(Chain, Option<u64>); 4] = [
            (&[(10, "a"), (11, "b"), (12, "c")], Some(12)), // no reorg
            (&[(10, "a"), (11, "b"), (12, "x")], Some(11)), // one block replaced
            (&[(10, "a"), (11, "y"), (12, "x")], Some(10)), // two blocks replaced
            (&[(10, "z"), (11, "y"), (12, "x")], None),     // deeper than the window
        ];
        for (canonical, want) in cases {
            assert_eq!(
                fork_point(&stored, chain(canonical)).await.unwrap(),
                want,
                "{canonical:?}"
            );
        }
        assert_eq!(fork_point::<_, _, ()>(&[], chain(&[])).await.unwrap(), None);
    }

    #[tokio::test]
    async fn rpc_errors_are_not_mismatches() {
        let stored = vec![(5, "a".to_string())];
        let failing = |_n: u64| std::future::ready(Err::<String, &str>("node down"));
        assert_eq!(fork_point(&stored, failing).await, Err("node down"));
    }
}
