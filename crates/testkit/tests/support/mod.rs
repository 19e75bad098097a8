//! A minimal real HTTP/1.1 client for talking to the fake upstream.

#![allow(dead_code)] // each test binary uses a different part of it

use std::error::Error as StdError;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, Error};
use hyper_util::rt::TokioExecutor;

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A request to `url` with the given headers and body.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("valid test request")
}

/// POSTs `{}` to `url` with the given headers.
pub async fn post(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Response<Incoming>, Error> {
    client.request(request("POST", url, headers, "{}")).await
}

/// The status and whole body of a response that is expected to complete.
pub async fn status_and_body(response: Response<Incoming>) -> (u16, Bytes) {
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("complete response body")
        .to_bytes();
    (status, body)
}

/// Every data frame of a body as it arrived, and how the body ended.
pub async fn frames(response: Response<Incoming>) -> (Vec<Bytes>, Result<(), hyper::Error>) {
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => frames.extend(frame.into_data().ok()),
            Err(e) => return (frames, Err(e)),
        }
    }
    (frames, Ok(()))
}

/// The `hyper::Error` somewhere in the chain of `error`, if any.
pub fn hyper_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a hyper::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<hyper::Error>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}
