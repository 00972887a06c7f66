//! The bounds the contracts enforce on each governed parameter (`contracts/src/ProtocolBounds.sol`, mirrored in
//! `contracts/starknet/src/bounds.cairo`), by the key `ParameterUpdated` names it with: what `/v1/params` serves
//! beside each value. A test reads both sources and compares.

/// Inclusive bounds of parameter `key` (decimal strings), when the contracts bound it.
pub fn of(key: &str) -> Option<(&'static str, &'static str)> {
    BOUNDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, min, max)| (*min, *max))
}

/// (key, least, most), least `0` where the contracts set no lower bound.
const BOUNDS: [(&str, &str, &str); 14] = [
    ("protocolFeeBps", "0", "2000"),
    ("slashShareBps", "100", "5000"),
    ("assignmentTimeout", "60", "259200"),
    ("challengeWindow", "60", "259200"),
    ("disputePeriod", "3600", "259200"),
    ("slashRewardMultipleBps", "1000", "50000"),
    ("compensationBps", "0", "1000"),
    ("declineFeeBps", "0", "1000"),
    ("disputeBondBps", "0", "10000"),
    ("minSubmitWindow", "60", "86400"),
    ("revealWindow", "60", "86400"),
    ("consensusBps", "5001", "10000"),
    ("unbondingPeriod", "864000", "31536000"),
    (
        "minStake",
        "1000000000000000000",
        "100000000000000000000000000",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use alloy::primitives::U256;

    /// The constant names of each key's bounds in both sources (`MIN_…`/`MAX_…` after this prefix).
    const NAMES: [(&str, &str); 14] = [
        ("protocolFeeBps", "PROTOCOL_FEE_BPS"),
        ("slashShareBps", "SLASH_SHARE_BPS"),
        ("assignmentTimeout", "ASSIGNMENT_TIMEOUT"),
        ("challengeWindow", "CHALLENGE_WINDOW"),
        ("disputePeriod", "DISPUTE_PERIOD"),
        ("slashRewardMultipleBps", "SLASH_REWARD_MULTIPLE_BPS"),
        ("compensationBps", "COMPENSATION_BPS"),
        ("declineFeeBps", "DECLINE_FEE_BPS"),
        ("disputeBondBps", "DISPUTE_BOND_BPS"),
        ("minSubmitWindow", "MIN_SUBMIT_WINDOW"),
        ("revealWindow", "REVEAL_WINDOW"),
        ("consensusBps", "CONSENSUS_BPS"),
        ("unbondingPeriod", "UNBONDING_PERIOD"),
        ("minStake", "MIN_STAKE"),
    ];

    /// A Solidity or Cairo constant's value: literals with `_`, `eN` exponents, time units, sums of constants
    /// defined before it.
    fn eval(expr: &str, known: &HashMap<String, U256>) -> U256 {
        expr.split('+')
            .map(|term| {
                let words: Vec<&str> = term.split_whitespace().collect();
                let base = words[0].replace('_', "");
                let value = if let Some(v) = known.get(words[0]) {
                    *v
                } else if let Some((m, e)) = base.split_once('e') {
                    U256::from(m.parse::<u64>().unwrap())
                        * U256::from(10u64).pow(U256::from(e.parse::<u64>().unwrap()))
                } else if let Some(hex) = base.strip_prefix("0x") {
                    U256::from_str_radix(hex, 16).unwrap()
                } else {
                    base.parse()
                        .unwrap_or_else(|_| panic!("cannot read {term}"))
                };
                let unit = match words.get(1).copied() {
                    None => 1u64,
                    Some("minutes") => 60,
                    Some("hours") => 3600,
                    Some("days") => 86_400,
                    Some(other) => panic!("unknown unit {other}"),
                };
                value * U256::from(unit)
            })
            .fold(U256::ZERO, |a, b| a + b)
    }

    /// `NAME = expr;` constants of a source file, in order.
    fn constants(path: &str) -> HashMap<String, U256> {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap();
        let mut known = HashMap::new();
        let mut statement = String::new();
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            if statement.is_empty()
                && !line.contains(" constant ")
                && !line.starts_with("pub const ")
            {
                continue;
            }
            statement.push(' ');
            statement.push_str(line);
            if !statement.contains(';') {
                continue;
            }
            let (lhs, rhs) = statement.split_once('=').unwrap();
            let name = lhs
                .split(':')
                .next()
                .unwrap()
                .split_whitespace()
                .last()
                .unwrap()
                .to_owned();
            let value = eval(rhs.trim().trim_end_matches(';'), &known);
            known.insert(name, value);
            statement.clear();
        }
        known
    }

    #[test]
    fn bounds_match_both_contracts() {
        for source in [
            "contracts/src/ProtocolBounds.sol",
            "contracts/starknet/src/bounds.cairo",
        ] {
            let known = constants(source);
            for (key, name) in NAMES {
                let (min, max) = super::of(key).unwrap();
                let want_min = known
                    .get(&format!("MIN_{name}"))
                    .copied()
                    .unwrap_or_default();
                let want_max = known[&format!("MAX_{name}")];
                assert_eq!(
                    (min.parse::<U256>().unwrap(), max.parse::<U256>().unwrap()),
                    (want_min, want_max),
                    "{key} in {source}"
                );
            }
        }
        assert_eq!(super::of("unknownKey"), None);
    }
}
