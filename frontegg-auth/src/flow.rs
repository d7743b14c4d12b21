//! [`Flow`]: the future of a middleware that decides, maybe asynchronously, whether a request
//! goes on, then calls the inner service with it or answers the refusal. The authentication and
//! requirement services both run on it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use tower_service::Service;

use crate::admission::Admitted;
use crate::refusal::Refusal;

/// An asynchronous decision: go on (with the caller to store in the request and a cookie for the
/// answer, if any), or refuse.
pub(crate) type Decision = Pin<Box<dyn Future<Output = Result<Option<Admitted>, Refusal>> + Send>>;

pin_project_lite::pin_project! {
    #[project = FlowProj]
    pub(crate) enum Flow<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        Deciding { decision: Decision, inner: Option<S>, request: Option<Request<ReqBody>> },
        Calling { #[pin] future: S::Future, set_cookie: Option<http::HeaderValue> },
        Answered { response: Option<S::Response> },
    }
}

impl<S, ReqBody, ResBody> Flow<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    /// A refusal known at once.
    pub(crate) fn refused(refusal: &Refusal) -> Self {
        Flow::Answered { response: Some(refusal.to_response()) }
    }

    pub(crate) fn poll_flow(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Response<ResBody>, S::Error>> {
        loop {
            match self.as_mut().project() {
                FlowProj::Calling { future, set_cookie } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(cookie) = set_cookie.take() {
                        response.headers_mut().append(http::header::SET_COOKIE, cookie);
                    }
                    return Poll::Ready(Ok(response));
                }
                FlowProj::Answered { response } => {
                    return match response.take() {
                        Some(response) => Poll::Ready(Ok(response)),
                        // Polled again after completion: a breach of the caller; stay pending
                        // rather than panic.
                        None => Poll::Pending,
                    };
                }
                FlowProj::Deciding { decision, inner, request } => {
                    if request.is_none() {
                        // Polled again after a refusal completed it: the decision is done and
                        // must not be polled again.
                        return Poll::Pending;
                    }
                    let decided = ready!(decision.as_mut().poll(cx));
                    let (Some(mut service), Some(mut request)) = (inner.take(), request.take()) else {
                        return Poll::Pending;
                    };
                    match decided {
                        Ok(admitted) => {
                            let mut set_cookie = None;
                            if let Some(admitted) = admitted {
                                let (caller, cookie) = admitted.into_parts();
                                request.extensions_mut().insert(caller);
                                set_cookie = cookie;
                            }
                            let future = service.call(request);
                            self.set(Flow::Calling { future, set_cookie });
                        }
                        Err(refusal) => return Poll::Ready(Ok(refusal.to_response())),
                    }
                }
            }
        }
    }
}

/// A public future type of a service that runs on a [`Flow`]: the pinned flow, a `Debug` that
/// shows nothing, and `Future` by the flow.
macro_rules! flow_future {
    ($(#[$meta:meta])* $name:ident) => {
        pin_project_lite::pin_project! {
            $(#[$meta])*
            pub struct $name<S, ReqBody>
            where
                S: tower_service::Service<http::Request<ReqBody>>,
            {
                #[pin]
                flow: crate::flow::Flow<S, ReqBody>,
            }
        }

        impl<S, ReqBody> std::fmt::Debug for $name<S, ReqBody>
        where
            S: tower_service::Service<http::Request<ReqBody>>,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        impl<S, ReqBody, ResBody> std::future::Future for $name<S, ReqBody>
        where
            S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
            ResBody: From<bytes::Bytes>,
        {
            type Output = Result<http::Response<ResBody>, S::Error>;

            fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
                self.project().flow.poll_flow(cx)
            }
        }
    };
}

pub(crate) use flow_future;
