//! The emulator's answers: one JSON body builder and one error shape for every handler (the
//! gateway, the directory and the hosted login).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

/// What every handler of the emulator answers.
pub(super) type Answer = Response<Full<Bytes>>;

/// `status` with `body` as `application/json`.
pub(super) fn json(status: StatusCode, body: Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `status` with Frontegg's error body, `{"errors": [message]}`.
pub(super) fn error(status: StatusCode, message: &str) -> Answer {
    json(status, json!({ "errors": [message] }))
}

/// `status` with no body at all (Frontegg's 200 of a deletion, 204).
pub(super) fn empty(status: StatusCode) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Adds a fresh `frontegg-trace-id`, as Frontegg's gateway does on every answer, so that
/// clients can be tested to carry it into their errors.
pub(super) fn traced(mut response: Answer) -> Answer {
    let id = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("frontegg-trace-id", value);
    }
    response
}
