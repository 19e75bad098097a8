//! Unit tests of the Gemini translator: requests, whole responses, the
//! schema cleaner and the id / signature round trip.

mod borrowed;
mod cleaned;
mod ids;
mod request;
mod response;
mod schema;
mod tools;
