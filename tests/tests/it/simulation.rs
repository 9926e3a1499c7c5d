//! The replication simulation over many seeds, and proof that its checks can fail.
//!
//! `PREAU_SIM_SEEDS=N` runs seeds `0..N` (default 500); `PREAU_SIM_SEED=S` runs only `S`.

use std::sync::atomic::{AtomicU64, Ordering};

use preau_tests::sim::{Report, Sabotage, SimConfig, run};

fn run_in_temp(seed: u64, cfg: &SimConfig) -> Result<Report, String> {
    // tmpfs when there is one: the simulation tests logic, not the disk's fsync speed.
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let dir = tempfile::Builder::new().prefix("preau-sim-").tempdir_in(base).map_err(|e| e.to_string())?;
    run(seed, cfg, dir.path()).map_err(|f| f.to_string())
}

#[test]
fn replicas_converge_under_faults_for_every_seed() {
    let seeds: Vec<u64> = match std::env::var("PREAU_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("PREAU_SIM_SEED must be a number")],
        Err(_) => {
            let n =
                std::env::var("PREAU_SIM_SEEDS").map_or(500, |s| s.parse().expect("PREAU_SIM_SEEDS must be a number"));
            (0..n).collect()
        }
    };
    let cfg = SimConfig::default();
    let next = AtomicU64::new(0);
    let totals = std::sync::Mutex::new(Report::default());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(&seed) = seeds.get(i) else { break };
                        match run_in_temp(seed, &cfg) {
                            Ok(r) => {
                                let mut t = totals.lock().expect("totals");
                                t.writes += r.writes;
                                t.sessions += r.sessions;
                                t.completed += r.completed;
                                t.dropped += r.dropped;
                                t.duplicated += r.duplicated;
                                t.crashes += r.crashes;
                                t.restores += r.restores;
                                t.reconciliations += r.reconciliations;
                                t.scope_changes += r.scope_changes;
                                t.partial_bundles += r.partial_bundles;
                                t.bundles += r.bundles;
                                t.quiesce_sessions += r.quiesce_sessions;
                            }
                            Err(e) => failures.push(e),
                        }
                    }
                    failures
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("simulation worker panicked")).collect()
    });
    let t = totals.into_inner().expect("totals");
    println!(
        "simulation: {} seeds, {} failed; {} writes, {} sessions ({} completed under faults), {} messages dropped, \
         {} duplicated, {} crashes, {} restores from backup, {} full reconciliations, {} scope changes, {} bundles \
         applied and replayed ({} cut short by a budget)",
        seeds.len(),
        failures.len(),
        t.writes,
        t.sessions,
        t.completed,
        t.dropped,
        t.duplicated,
        t.crashes,
        t.restores,
        t.reconciliations,
        t.scope_changes,
        t.bundles,
        t.partial_bundles
    );
    if !failures.is_empty() {
        let seeds: Vec<&str> =
            failures.iter().filter_map(|f| f.strip_prefix("simulation seed ")?.split(' ').next()).collect();
        panic!("{} seed(s) failed: {}; first:\n{}", failures.len(), seeds.join(", "), failures[0]);
    }
    // A full run must have exercised the faults it claims to test.
    if seeds.len() >= 50 {
        assert!(t.completed > 0 && t.dropped > 0 && t.duplicated > 0 && t.crashes > 0, "{t:?}");
        assert!(t.restores > 0 && t.reconciliations > 0 && t.scope_changes > 0 && t.partial_bundles > 0, "{t:?}");
    }
}

#[test]
fn the_harness_catches_a_network_that_loses_changes() {
    let cfg = SimConfig { sabotage: Some(Sabotage::StripBundlesToSchoolB), ..SimConfig::default() };
    let failed = (0..5).filter_map(|seed| run_in_temp(seed, &cfg).err()).collect::<Vec<_>>();
    assert_eq!(failed.len(), 5, "every sabotaged seed must fail");
    assert!(failed[0].contains("seed 0") && failed[0].contains("PREAU_SIM_SEED=0"), "{}", failed[0]);
    assert!(failed.iter().all(|f| f.contains("school_b") || f.contains("quiescence")), "{failed:#?}");
}

#[test]
fn the_harness_catches_a_read_model_that_drifts_from_its_documents() {
    let cfg = SimConfig { sabotage: Some(Sabotage::TamperHubReadModel), ..SimConfig::default() };
    let failure = run_in_temp(3, &cfg).expect_err("tampering must be caught");
    assert!(failure.contains("read models"), "{failure}");
}
