//! Placement stability and speed (scripts/bench-placement): for a fleet of `workers` addresses and `keys` keys,
//! how many keys change placement when one worker leaves and when one joins, for rf 1, 3 and 5, beside the ideal
//! rf / n; and how many placements per second one core computes for a fleet of that size.

use std::time::Instant;

use accord::placement::place;

fn placements(keys: usize, workers: &[String], rf: usize) -> Vec<Vec<String>> {
    (0..keys)
        .map(|k| {
            place(
                format!("job:{k}").as_bytes(),
                workers.iter().map(String::as_str),
                rf,
            )
            .into_iter()
            .map(|(w, _)| w.to_owned())
            .collect()
        })
        .collect()
}

fn moved(a: &[Vec<String>], b: &[Vec<String>]) -> usize {
    a.iter()
        .zip(b)
        .filter(|(x, y)| {
            let mut x = (*x).clone();
            let mut y = (*y).clone();
            x.sort();
            y.sort();
            x != y
        })
        .count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut n, mut keys) = (100usize, 100_000usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--workers" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--workers N")
            }
            "--keys" => keys = args.next().and_then(|v| v.parse().ok()).expect("--keys N"),
            other => panic!("unknown argument {other} (--workers N, --keys N)"),
        }
    }
    let fleet: Vec<String> = (0..n)
        .map(|i| format!("0x{:040x}", (i as u128 + 1) * 0x9e37_79b9_7f4a_7c15))
        .collect();
    let left: Vec<String> = fleet
        .iter()
        .filter(|w| **w != fleet[n / 3])
        .cloned()
        .collect();
    let mut joined = fleet.clone();
    joined.push(format!("0x{:040x}", 0xfeed_u128));
    println!("## Placement stability ({n} workers, {keys} keys)\n");
    println!("| rf | keys moved when one worker leaves | when one joins | ideal rf/n |");
    println!("| ---: | ---: | ---: | ---: |");
    for rf in [1usize, 3, 5] {
        let base = placements(keys, &fleet, rf);
        let l = moved(&base, &placements(keys, &left, rf));
        let j = moved(&base, &placements(keys, &joined, rf));
        println!(
            "| {rf} | {l} ({:.2}%) | {j} ({:.2}%) | {:.2}% |",
            100.0 * l as f64 / keys as f64,
            100.0 * j as f64 / keys as f64,
            100.0 * rf as f64 / n as f64
        );
    }
    let started = Instant::now();
    let mut sink = 0usize;
    for k in 0..keys {
        sink += place(
            format!("job:{k}").as_bytes(),
            fleet.iter().map(String::as_str),
            3,
        )
        .len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\nplacements of rf 3 over {n} workers: {:.0}/s on one core ({sink} workers placed in {secs:.2} s)",
        keys as f64 / secs
    );
}
