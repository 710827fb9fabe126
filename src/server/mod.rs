//! The glue with the server: FFI, type callbacks, command registration, the
//! command filter and routing. All `unsafe` of the crate lives here.
