//! JWKS and PEM parsing, as the key cache and static keys read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    frontegg_auth::fuzzing::key_set(data);
});
