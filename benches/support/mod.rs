//! Helpers the benchmarks that start a real `tributary` server share: a deterministic hash
//! for generated data, the schema version that names cached databases, and waiting for the
//! server to come up.

use std::process::Child;
use std::time::Duration;

use tributary::store::Store;

/// SplitMix64's finalizer: a well-spread deterministic hash of `x`, for generated data.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The schema version this build migrates to (part of a cached database's name).
pub fn schema_version() -> i64 {
    Store::open_in_memory()
        .and_then(|s| s.schema_version())
        .expect("schema version")
}

/// Waits up to a minute for `/healthz` to answer 200; panics when the server exits first.
pub async fn wait_healthy(client: &reqwest::Client, base: &str, server: &mut Child) {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("tributary serve exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("tributary serve did not answer /healthz");
}
