//! [`RequestHead`]: what this crate reads of a request, whatever the framework.

/// What this crate reads (admission, the hosted login's routes) of a request: its method, its target and its headers. Implemented for
/// `http` requests; an adapter implements it for its framework's request type.
pub trait RequestHead {
    /// The method, as sent (`GET`, `OPTIONS`...).
    fn method(&self) -> &str;
    /// The path and query, as sent.
    fn path_and_query(&self) -> &str;
    /// Every value of the header `name` (lower case), in order.
    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]>;
}

impl<B> RequestHead for http::Request<B> {
    fn method(&self) -> &str {
        self.method().as_str()
    }

    fn path_and_query(&self) -> &str {
        self.uri().path_and_query().map_or("/", |p| p.as_str())
    }

    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> {
        self.headers().get_all(name).into_iter().map(|v| v.as_bytes())
    }
}

impl RequestHead for http::request::Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn path_and_query(&self) -> &str {
        self.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> {
        self.headers.get_all(name).into_iter().map(|v| v.as_bytes())
    }
}
