//! Credential extraction from raw header bytes: any number of `Authorization` and `x-api-key`
//! values, as a framework hands them over.
#![no_main]

use frontegg_auth::Credential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Values separated by 0x00; the first byte says how many go to `Authorization`.
    let Some((&split, rest)) = data.split_first() else { return };
    let values: Vec<&[u8]> = rest.split(|b| *b == 0).collect();
    let at = usize::from(split % 4).min(values.len());
    let (authorization, api_key) = values.split_at(at);
    if let Ok(Some(credential)) = Credential::from_values(authorization.iter().copied(), api_key.iter().copied()) {
        assert!(!credential.token().expose().is_empty(), "an empty credential was accepted");
    }
    // The same bytes through http's header map, where they are valid header values.
    let mut headers = http::HeaderMap::new();
    for value in authorization {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            headers.append(http::header::AUTHORIZATION, value);
        }
    }
    let _ = Credential::from_headers(&headers);
});
