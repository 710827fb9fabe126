//! Module configs (`idmp.*`), registered through `redis_module!` and settable
//! at load (`loadmodule ... idmp.x value` style args) and with CONFIG SET.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use redis_module::configuration::{
    get_bool_default_config_value, get_i64_default_config_value, register_bool_configuration,
    register_i64_configuration, ConfigurationFlags,
};
use redis_module::{Context, RedisString};

use crate::stream::idmp::IdmpSettings;

/// `idmp.stream-idmp-duration`: default IDMP duration of new streams (seconds).
pub static DURATION: AtomicI64 = AtomicI64::new(100);
/// `idmp.stream-idmp-maxsize`: default per-producer capacity of new streams.
pub static MAXSIZE: AtomicI64 = AtomicI64::new(100);
/// `idmp.capture-new-streams`: every new stream is a module stream.
pub static CAPTURE: AtomicBool = AtomicBool::new(true);

/// `idmp.aof-rewrite-native`: the AOF rewrite emits only commands native
/// Redis 8.6 understands (the way out, issue 15; see `persist::native_aof`).
pub static AOF_NATIVE: AtomicBool = AtomicBool::new(false);

/// The IDMP settings a new stream starts with.
pub fn defaults() -> IdmpSettings {
    IdmpSettings {
        duration_secs: DURATION.load(Ordering::Relaxed).clamp(1, 86_400) as u32,
        maxsize: MAXSIZE.load(Ordering::Relaxed).clamp(1, 10_000) as u32,
    }
}

/// Whether new streams become module streams.
pub fn capture() -> bool {
    CAPTURE.load(Ordering::Relaxed)
}

/// Registers the module configs (`idmp.stream-idmp-duration`,
/// `idmp.stream-idmp-maxsize`, `idmp.capture-new-streams`,
/// `idmp.aof-rewrite-native`), taking defaults
/// from the module arguments as well (`loadmodule ... stream-idmp-maxsize 5`),
/// then loads the values the server was given. Called once the host is known
/// to have module configs (`RedisModule_RegisterNumericConfig`, Redis 7.0+).
/// `Err` names an unreadable module argument.
pub fn register(ctx: &Context, args: &[RedisString]) -> Result<(), String> {
    let duration = get_i64_default_config_value(args, "stream-idmp-duration", 100)
        .map_err(|e| e.to_string())?;
    let maxsize = get_i64_default_config_value(args, "stream-idmp-maxsize", 100)
        .map_err(|e| e.to_string())?;
    let capture = get_bool_default_config_value(args, "capture-new-streams", true)
        .map_err(|e| e.to_string())?;
    let aof_native = get_bool_default_config_value(args, "aof-rewrite-native", false)
        .map_err(|e| e.to_string())?;
    register_i64_configuration(
        ctx,
        "stream-idmp-duration",
        &DURATION,
        duration,
        1,
        86_400,
        ConfigurationFlags::DEFAULT,
        None,
    );
    register_i64_configuration(
        ctx,
        "stream-idmp-maxsize",
        &MAXSIZE,
        maxsize,
        1,
        10_000,
        ConfigurationFlags::DEFAULT,
        None,
    );
    register_bool_configuration(
        ctx,
        "capture-new-streams",
        &CAPTURE,
        capture,
        ConfigurationFlags::DEFAULT,
        None,
    );
    register_bool_configuration(
        ctx,
        "aof-rewrite-native",
        &AOF_NATIVE,
        aof_native,
        ConfigurationFlags::DEFAULT,
        None,
    );
    let _ = crate::rm!(RedisModule_LoadConfigs(ctx.ctx));
    Ok(())
}
