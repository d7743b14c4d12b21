//! The one criterion configuration of these benchmarks: a short warm-up and 50 samples over 4 s.

use std::time::Duration;

use criterion::Criterion;

pub fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4)).sample_size(50)
}
