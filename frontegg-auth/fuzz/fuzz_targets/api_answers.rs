//! Frontegg's API answers: access-token and user lookups, error bodies, paged lists and the
//! management models, with any status.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&status, body)) = data.split_first() else { return };
    let status = match status % 6 {
        0 => 200,
        1 => 201,
        2 => 403,
        3 => 404,
        4 => 429,
        _ => 500,
    };
    frontegg_auth::fuzzing::api_answer(status, body);
});
