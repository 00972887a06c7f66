//! Scoring strategies: which eligible worker takes a job. The scheduler has already filtered the candidates
//! (registered, stake at least the minimum, not jailed, alive, below capacity, capabilities matching); a strategy
//! only ranks them.

use serde::{Deserialize, Serialize};

/// An eligible worker as the scheduler sees it during one round.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Lowercase 0x-hex address (shared: a round builds one candidate per worker of the fleet).
    pub address: std::sync::Arc<str>,
    /// Capability bits.
    pub capabilities: u16,
    /// Active stake, in tokens (an approximation is enough to rank).
    pub stake: f64,
    /// Jobs taken at once, from the worker's heartbeat.
    pub capacity: u32,
    /// Jobs assigned now, including assignments sent and not yet indexed.
    pub load: u32,
    /// Assignments paid.
    pub completed: u64,
    /// Assignments expired or refunded after a dispute.
    pub failed: u64,
}

impl Candidate {
    /// Whether it can take one more job needing `required`.
    pub fn fits(&self, required: u16) -> bool {
        self.load < self.capacity && self.capabilities & required == required
    }

    /// Laplace-smoothed success rate in (0, 1): 0.5 for a newcomer.
    pub fn reputation(&self) -> f64 {
        (self.completed as f64 + 1.0) / ((self.completed + self.failed) as f64 + 2.0)
    }

    /// Share of capacity in use, in [0, 1].
    pub fn load_share(&self) -> f64 {
        if self.capacity == 0 {
            1.0
        } else {
            f64::from(self.load) / f64::from(self.capacity)
        }
    }
}

/// Ranks candidates for one job.
pub trait Strategy: Send {
    /// Its configuration name.
    fn name(&self) -> &'static str;
    /// The index in `candidates` of the worker for a job needing `required`, or `None` when nobody fits.
    /// Called once per job; the scheduler raises the winner's load before the next call.
    fn pick(&mut self, required: u16, candidates: &[Candidate]) -> Option<usize>;

    /// [`Self::pick`] for job `key` (its id): the same unless the strategy places by key.
    fn pick_for(&mut self, _key: &str, required: u16, candidates: &[Candidate]) -> Option<usize> {
        self.pick(required, candidates)
    }
}

/// Weights of the default strategy; each is a non-negative factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Weight of stake relative to the largest candidate stake.
    pub stake: f64,
    /// Weight of reputation (smoothed share of paid assignments).
    pub reputation: f64,
    /// Weight of load (share of declared capacity in use), subtracted.
    pub load: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            stake: 1.0,
            reputation: 2.0,
            load: 1.0,
        }
    }
}

/// Which strategy to use, by configuration name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// [`Weighted`] (the default).
    #[default]
    Weighted,
    /// [`RoundRobin`].
    RoundRobin,
    /// [`LeastLoaded`].
    LeastLoaded,
    /// [`Placement`].
    Placement,
}

impl StrategyKind {
    /// A fresh strategy of this kind.
    pub fn build(self, weights: Weights) -> Box<dyn Strategy> {
        match self {
            Self::Weighted => Box::new(Weighted { weights }),
            Self::RoundRobin => Box::new(RoundRobin::default()),
            Self::LeastLoaded => Box::new(LeastLoaded),
            Self::Placement => Box::new(Placement),
        }
    }
}

/// Highest `stake·s/max_stake + reputation·r − load·l` wins; ties go to the lower address, so a decision is
/// reproducible from the same index.
#[derive(Debug, Clone)]
pub struct Weighted {
    /// The factors.
    pub weights: Weights,
}

impl Strategy for Weighted {
    fn name(&self) -> &'static str {
        "weighted"
    }

    fn pick(&mut self, required: u16, candidates: &[Candidate]) -> Option<usize> {
        let max_stake = candidates
            .iter()
            .map(|c| c.stake)
            .fold(0.0_f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let w = self.weights;
        best_by(candidates, required, |c| {
            w.stake * c.stake / max_stake + w.reputation * c.reputation() - w.load * c.load_share()
        })
    }
}

/// Takes fitting candidates in address order, continuing after the last one picked.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    last: Option<String>,
}

impl Strategy for RoundRobin {
    fn name(&self) -> &'static str {
        "round-robin"
    }

    fn pick(&mut self, required: u16, candidates: &[Candidate]) -> Option<usize> {
        let mut order: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].fits(required))
            .collect();
        order.sort_by(|&a, &b| candidates[a].address.cmp(&candidates[b].address));
        let next = match &self.last {
            Some(last) => order
                .iter()
                .copied()
                .find(|&i| *candidates[i].address > **last)
                .or_else(|| order.first().copied()),
            None => order.first().copied(),
        }?;
        self.last = Some(candidates[next].address.to_string());
        Some(next)
    }
}

/// The lowest share of capacity in use wins; ties go to the lower address.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeastLoaded;

impl Strategy for LeastLoaded {
    fn name(&self) -> &'static str {
        "least-loaded"
    }

    fn pick(&mut self, required: u16, candidates: &[Candidate]) -> Option<usize> {
        best_by(candidates, required, |c| -c.load_share())
    }
}

/// Rendezvous placement: of the fitting candidates, the one with the highest weight for the job's id
/// ([`crate::placement`]), so a job's replicas land on the workers `GET /v1/placement/{job id}` names (as far as
/// they fit: a full or excluded worker gives its place to the next). Without a key, the lowest address.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement;

impl Strategy for Placement {
    fn name(&self) -> &'static str {
        "placement"
    }

    fn pick(&mut self, required: u16, candidates: &[Candidate]) -> Option<usize> {
        best_by(candidates, required, |_| 0.0)
    }

    fn pick_for(&mut self, key: &str, required: u16, candidates: &[Candidate]) -> Option<usize> {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.fits(required))
            .max_by(|(_, a), (_, b)| {
                crate::placement::weight(key.as_bytes(), &a.address)
                    .cmp(&crate::placement::weight(key.as_bytes(), &b.address))
                    .then_with(|| b.address.cmp(&a.address))
            })
            .map(|(i, _)| i)
    }
}

/// The fitting candidate with the highest score; ties to the lower address.
fn best_by(
    candidates: &[Candidate],
    required: u16,
    score: impl Fn(&Candidate) -> f64,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in candidates.iter().enumerate() {
        if !c.fits(required) {
            continue;
        }
        let s = score(c);
        let better = match best {
            None => true,
            Some((j, b)) => s > b || (s == b && c.address < candidates[j].address),
        };
        if better {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(address: &str, stake: f64, capacity: u32, load: u32) -> Candidate {
        Candidate {
            address: address.into(),
            capabilities: 0b11,
            stake,
            capacity,
            load,
            completed: 0,
            failed: 0,
        }
    }

    /// Runs `strategy` over `n` jobs, raising the winner's load like the scheduler does.
    fn assign(strategy: &mut dyn Strategy, pool: &mut [Candidate], n: usize) -> Vec<String> {
        let mut picked = Vec::new();
        for _ in 0..n {
            let Some(i) = strategy.pick(0b01, pool) else {
                break;
            };
            pool[i].load += 1;
            picked.push(pool[i].address.to_string());
        }
        picked
    }

    #[test]
    fn nobody_over_capacity_or_without_the_capabilities_is_picked() {
        let mut pool = vec![candidate("0xa", 100.0, 1, 1), candidate("0xb", 100.0, 2, 0)];
        pool[1].capabilities = 0b10;
        for kind in [
            StrategyKind::Weighted,
            StrategyKind::RoundRobin,
            StrategyKind::LeastLoaded,
        ] {
            assert_eq!(kind.build(Weights::default()).pick(0b01, &pool), None);
        }
    }

    #[test]
    fn weighted_prefers_stake_and_reputation_and_spreads_by_load() {
        let mut pool = vec![
            candidate("0xa", 100.0, 10, 0),
            candidate("0xb", 400.0, 10, 0),
        ];
        let mut s = StrategyKind::Weighted.build(Weights::default());
        // The larger stake wins until its load outweighs the stake difference (0.75 = 7.5 jobs of 10).
        let picked = assign(s.as_mut(), &mut pool, 12);
        let b = picked.iter().filter(|a| *a == "0xb").count();
        assert_eq!(&picked[..7], vec!["0xb"; 7].as_slice());
        assert!((7..=10).contains(&b), "{picked:?}");

        // A worker that failed often loses to an equal one with a clean record.
        let mut pool = vec![
            candidate("0xa", 100.0, 10, 0),
            candidate("0xb", 100.0, 10, 0),
        ];
        pool[0].failed = 8;
        pool[1].completed = 8;
        assert_eq!(s.pick(0b01, &pool), Some(1));

        // Zero weights on everything but load reduce it to least-loaded.
        let mut only_load = Weighted {
            weights: Weights {
                stake: 0.0,
                reputation: 0.0,
                load: 1.0,
            },
        };
        let pool = vec![candidate("0xa", 900.0, 4, 3), candidate("0xb", 1.0, 4, 1)];
        assert_eq!(only_load.pick(0b01, &pool), Some(1));
    }

    #[test]
    fn round_robin_cycles_in_address_order() {
        let mut pool = vec![
            candidate("0xc", 1.0, 9, 0),
            candidate("0xa", 1.0, 9, 0),
            candidate("0xb", 1.0, 9, 0),
        ];
        let mut s = RoundRobin::default();
        assert_eq!(
            assign(&mut s, &mut pool, 5),
            ["0xa", "0xb", "0xc", "0xa", "0xb"]
        );
    }

    #[test]
    fn least_loaded_evens_out_shares_of_capacity() {
        let mut pool = vec![candidate("0xa", 1.0, 2, 0), candidate("0xb", 1.0, 6, 0)];
        let picked = assign(&mut LeastLoaded, &mut pool, 8);
        assert_eq!(picked.len(), 8);
        assert_eq!(pool[0].load, 2);
        assert_eq!(pool[1].load, 6);
        // A full pool gets nothing more.
        assert_eq!(LeastLoaded.pick(0b01, &pool), None);
    }

    #[test]
    fn placement_follows_the_rendezvous_order_among_fitting_workers() {
        let mut cs: Vec<Candidate> = (0..20)
            .map(|i| candidate(&format!("0x{i:040x}"), 100.0, 1, 0))
            .collect();
        let addresses: Vec<String> = cs.iter().map(|c| c.address.to_string()).collect();
        let order = crate::placement::place(b"42", addresses.iter().map(String::as_str), 20);
        let mut s = Placement;
        let first = s.pick_for("42", 0, &cs).unwrap();
        assert_eq!(*cs[first].address, *order[0].0);
        // The first is full: the next in rendezvous order takes the job.
        cs[first].load = 1;
        let second = s.pick_for("42", 0, &cs).unwrap();
        assert_eq!(*cs[second].address, *order[1].0);
    }
}
