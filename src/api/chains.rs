//! Several chains behind one API: the `chain` parameter, address filters read in each chain's family, and lists
//! that page through the chains one after the other.
//!
//! A list without `chain` covers every chain served, in the configured order: all of the first chain's items in
//! the list's own order, then the second's. Its cursor names the chain it stopped in, so a page may end in one
//! chain and the next start in another. Ids are unique per chain only, so a route about one thing (`/v1/jobs/7`)
//! needs `chain` when more than one chain is served.

use super::error::{Error, Result};
use super::input::{self, Page};
use super::{Inner, Served};

/// Longest chain id in a cursor: the digits of `i64::MAX`.
pub(crate) const CURSOR_CHAIN_DIGITS: usize = 19;

impl Inner {
    /// The served chain `raw` names: its CAIP-2 name (`eip155:31337`, `starknet:SN_SEPOLIA`) or its chain id in
    /// decimal, as `/v1/status` lists them.
    fn named(&self, raw: &str) -> Result<&Served> {
        self.chains
            .iter()
            .find(|c| c.name == raw || c.id.to_string() == raw)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "chain must be one of the chains served: {}",
                    self.chain_names()
                ))
            })
    }

    fn chain_names(&self) -> String {
        let names: Vec<&str> = self.chains.iter().map(|c| c.name.as_str()).collect();
        names.join(", ")
    }

    /// The chains a list covers: the one `chain` names, or every chain served.
    pub(crate) fn select(&self, chain: Option<&str>) -> Result<&[Served]> {
        match chain {
            None => Ok(&self.chains),
            Some(raw) => {
                let one = self.named(raw)?;
                let i = self
                    .chains
                    .iter()
                    .position(|c| std::ptr::eq(c, one))
                    .unwrap_or_default();
                Ok(&self.chains[i..=i])
            }
        }
    }

    /// The chain a request about one thing (a job, a worker, an upload) is on: the one `chain` names, or the only
    /// chain served. Ids and addresses are unique per chain only, so with several chains `chain` is required.
    pub(crate) fn one(&self, chain: Option<&str>) -> Result<&Served> {
        match (chain, self.chains.as_slice()) {
            (Some(raw), _) => self.named(raw),
            (None, [only]) => Ok(only),
            (None, _) => Err(Error::invalid(format!(
                "chain is required: this coordinator serves several chains ({})",
                self.chain_names()
            ))),
        }
    }
}

/// An address filter read in each chain's family. The same text can be an address on one family and not on
/// another (64 hex digits are a Starknet address only): a chain where it is none has no match.
pub(crate) struct AddressFilter(Vec<Option<String>>);

impl AddressFilter {
    /// Reads `raw` (the value of parameter `field`) for each of `chains`; an error when it is an address on none.
    pub(crate) fn parse(chains: &[Served], field: &str, raw: &str) -> Result<Self> {
        let mut first_error = None;
        let per_chain: Vec<Option<String>> = chains
            .iter()
            .map(|c| match input::address_of(c.family, field, raw) {
                Ok(a) => Some(a),
                Err(e) => {
                    first_error.get_or_insert(e);
                    None
                }
            })
            .collect();
        match first_error {
            Some(e) if per_chain.iter().all(Option::is_none) => Err(e),
            _ => Ok(Self(per_chain)),
        }
    }

    /// The normal form on chain `i` of the chains it was parsed for; `None` when it is no address there.
    pub(crate) fn on(&self, i: usize) -> Option<&str> {
        self.0.get(i).and_then(Option::as_deref)
    }
}

/// An optional address filter on chain `i`: `Some(None)` without a filter, `Some(Some(address))` with one, `None`
/// when the filter is no address of that chain's family (the chain has no match).
pub(crate) fn address_on(filter: &Option<AddressFilter>, i: usize) -> Option<Option<String>> {
    match filter {
        None => Some(None),
        Some(f) => f.on(i).map(|a| Some(a.to_owned())),
    }
}

/// Where a page of list `kind` over `chains` starts, from its cursor (hex of `<kind>:<chain id>:<key>`): the
/// position of the cursor's chain in `chains` (one of them: a cursor of a list filtered on another chain is
/// refused) and the key within it, read by `key`. Without a cursor: the first chain, from its start.
pub(crate) fn start<K>(
    chains: &[Served],
    kind: &str,
    raw: Option<&str>,
    key: impl Fn(&str) -> Option<K>,
) -> Result<(usize, Option<K>)> {
    let Some(raw) = raw else {
        return Ok((0, None));
    };
    let bad = || Error::invalid(format!("cursor is not a cursor of /v1/{kind}"));
    let text = input::decode_cursor(kind, raw)?;
    let (chain, rest) = text.split_once(':').ok_or_else(bad)?;
    if !(1..=CURSOR_CHAIN_DIGITS).contains(&chain.len())
        || !chain.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let i = chains
        .iter()
        .position(|c| c.id.to_string() == chain)
        .ok_or_else(bad)?;
    Ok((i, Some(key(rest).ok_or_else(bad)?)))
}

/// One page of a list over `chains` from `start`: `query(i, after, want)` returns up to `want + 1` rows of
/// `chains[i]` after `after` (its own key), in the list's order; `key` is a row's key within its chain. Chains are
/// read one after the other until the page is full; the cursor names the chain and key of its last row.
pub(crate) async fn page<T, K, F: Future<Output = Result<Vec<T>>>>(
    chains: &[Served],
    kind: &str,
    start: (usize, Option<K>),
    limit: i64,
    key: impl Fn(&T) -> String,
    // A closure returning a future that owns what it reads: an async closure's future borrows the closure, which
    // makes the handler's future `Send` for one lifetime only, and axum needs it for all.
    mut query: impl FnMut(usize, Option<K>, i64) -> F,
) -> Result<Page<T>> {
    let (first, mut after) = start;
    let mut items: Vec<T> = Vec::new();
    let mut last: Option<(i64, String)> = None;
    for (i, chain) in chains.iter().enumerate().skip(first) {
        let want = limit - items.len() as i64;
        let after = if i == first { after.take() } else { None };
        let mut rows = query(i, after, want).await?;
        let more = rows.len() as i64 > want;
        rows.truncate(usize::try_from(want).unwrap_or_default());
        if let Some(row) = rows.last() {
            last = Some((chain.id, key(row)));
        }
        items.extend(rows);
        if more {
            let next_cursor =
                last.map(|(id, key)| input::encode_cursor(kind, &format!("{id}:{key}")));
            return Ok(Page { items, next_cursor });
        }
    }
    Ok(Page {
        items,
        next_cursor: None,
    })
}
