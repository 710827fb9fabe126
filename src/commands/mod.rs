//! Commands: argv parsing into typed requests (pure), execution against the
//! model, replies through [`reply::Reply`] and propagation described as effects.

pub mod reply;
