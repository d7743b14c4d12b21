//! Values read back from Redis (or the in-process store): sealed sessions and the JSON they
//! hold, and the shared cache's lookup records.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    frontegg_auth::fuzzing::session_value(data);
    frontegg_auth::fuzzing::shared_cache_value(data);
});
