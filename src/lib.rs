//! Examples and end-to-end tests of frontegg-rs.
