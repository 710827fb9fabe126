//! Migration mode (issue 15): on a host with native IDMP (Redis 8.6+) the
//! module only reads its data type (RDB, AOF preamble, full sync), routes
//! nothing, registers no command the host serves, and when loading ends
//! turns every module stream into a native stream through the host's own
//! commands (`persist::native_aof`, [`Form::Convert`]), built under a
//! temporary key, checked, then renamed over the original (TTL kept). A key
//! that fails stays as it was; the log and `INFO idmp` say so.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redis_module::raw;

use crate::persist::native_aof::{for_each_native_command, temporary_key, Form};
use crate::rm;
use crate::server::api::{self, c_string, create_string, str_bytes};
use crate::server::call::{call_v, Elem, REPLY_INTEGER};
use crate::server::guard::guard;
use crate::server::route::{key_kind, Kind, OpenKey};
use crate::server::{stats, GIT_REV, VERSION};
use crate::stream::id::parse_strict_id;
use crate::stream::{Stream, StreamId};

static MIGRATION: AtomicBool = AtomicBool::new(false);
static MIGRATED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// True once the module runs in migration mode.
pub fn active() -> bool {
    MIGRATION.load(Ordering::Relaxed)
}

fn field_u64(ctx: *mut raw::RedisModuleInfoCtx, name: &str, value: u64) {
    let n = c_string(name);
    let _ = rm!(RedisModule_InfoAddFieldULongLong(ctx, n.as_ptr(), value));
}

extern "C" fn info(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    guard((), || {
        let _ = rm!(RedisModule_InfoAddSection(ctx, std::ptr::null_mut()));
        for (n, v) in [("version", VERSION), ("git_revision", GIT_REV)] {
            let n = c_string(n);
            let v = c_string(v);
            let _ = rm!(RedisModule_InfoAddFieldCString(ctx, n.as_ptr(), v.as_ptr()));
        }
        field_u64(ctx, "migration_mode", 1);
        field_u64(ctx, "migrated_streams", MIGRATED.load(Ordering::Relaxed));
        field_u64(ctx, "migration_failures", FAILED.load(Ordering::Relaxed));
        for (name, value) in stats::snapshot() {
            field_u64(ctx, name, value);
        }
    })
}

/// Starts migration mode: INFO, the loading-ended hook, the translators of
/// propagated module commands.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> raw::Status {
    // SAFETY: reading function pointers the server filled at load.
    let present = unsafe {
        { raw::RedisModule_Call }.is_some()
            && { raw::RedisModule_Scan }.is_some()
            && { raw::RedisModule_ScanCursorCreate }.is_some()
            && { raw::RedisModule_SubscribeToServerEvent }.is_some()
            && { raw::RedisModule_SelectDb }.is_some()
    };
    if !present {
        api::log(
            ctx,
            "warning",
            "idmp: refusing to load: migration mode needs RedisModule_Call, Scan and SubscribeToServerEvent",
        );
        return raw::Status::Err;
    }
    MIGRATION.store(true, Ordering::Relaxed);
    let _ = rm!(RedisModule_RegisterInfoFunc(ctx, Some(info)));
    let _ = api::subscribe_event(ctx, raw::REDISMODULE_EVENT_LOADING, on_loading);
    // A module stream that arrives later by RESTORE (MIGRATE from a 7.x
    // node) is converted right after the command.
    // SAFETY: reading a function pointer the server filled at load (7.2+).
    let jobs = unsafe { { raw::RedisModule_AddPostNotificationJob }.is_some() };
    if jobs {
        let _ = rm!(RedisModule_SubscribeToKeyspaceEvents(
            ctx,
            raw::REDISMODULE_NOTIFY_GENERIC,
            Some(on_keyspace)
        ));
    }
    if !crate::server::translate::register(ctx) {
        api::log(ctx, "warning", "idmp: failed to register the translators");
        return raw::Status::Err;
    }
    let _ = rm!(RedisModule_SetModuleOptions(
        ctx,
        raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS as c_int
    ));
    api::log(
        ctx,
        "notice",
        &format!(
            "idmp: redis-idmp {VERSION} ({GIT_REV}) loaded in migration mode: this server has native idempotent streams; module streams become native streams when loading ends"
        ),
    );
    raw::Status::Ok
}

extern "C" fn on_loading(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    subevent: u64,
    _data: *mut c_void,
) {
    guard((), || {
        if subevent == raw::REDISMODULE_SUBEVENT_LOADING_ENDED {
            convert_all(ctx);
        }
    })
}

/// A conversion to run once the current command is done.
struct Job {
    db: c_int,
    key: Vec<u8>,
}

extern "C" fn on_keyspace(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    event: *const std::ffi::c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    guard(0, || {
        if event.is_null() {
            return 0;
        }
        // SAFETY: the server passes a NUL-terminated event name.
        let ev = unsafe { std::ffi::CStr::from_ptr(event) }.to_bytes();
        if ev != b"restore" {
            return 0;
        }
        let job = Box::new(Job {
            db: rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0),
            key: str_bytes(key).to_vec(),
        });
        let pd = Box::into_raw(job).cast::<c_void>();
        let added = rm!(RedisModule_AddPostNotificationJob(
            ctx,
            Some(run_job),
            pd,
            Some(free_job)
        ));
        if added != Some(raw::Status::Ok as c_int) {
            free_job(pd);
        }
        0
    })
}

extern "C" fn run_job(ctx: *mut raw::RedisModuleCtx, pd: *mut c_void) {
    guard((), || {
        // SAFETY: pd is the Job boxed in on_keyspace, freed by free_job after.
        let Some(job) = (unsafe { pd.cast::<Job>().as_ref() }) else {
            return;
        };
        let original = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
        if rm!(RedisModule_SelectDb(ctx, job.db)) != Some(raw::Status::Ok as c_int) {
            return;
        }
        let is_module = {
            let k = OpenKey::open(ctx, create_string(ctx, &job.key), false);
            matches!(key_kind(k.0), Kind::Module(_))
        };
        if is_module {
            report(ctx, job.db, &job.key, convert_key(ctx, &job.key));
        }
        let _ = rm!(RedisModule_SelectDb(ctx, original));
    })
}

extern "C" fn free_job(pd: *mut c_void) {
    if !pd.is_null() {
        // SAFETY: pd came from Box::into_raw(Box<Job>) and is freed once.
        drop(unsafe { Box::from_raw(pd.cast::<Job>()) });
    }
}

/// Logs and counts the outcome of one conversion.
pub fn report(ctx: *mut raw::RedisModuleCtx, db: c_int, name: &[u8], r: Result<(), String>) {
    let shown = String::from_utf8_lossy(name);
    match r {
        Ok(()) => {
            MIGRATED.fetch_add(1, Ordering::Relaxed);
            api::log(
                ctx,
                "verbose",
                &format!("idmp: db {db}: module stream '{shown}' is now a native stream"),
            );
        }
        Err(e) => {
            FAILED.fetch_add(1, Ordering::Relaxed);
            api::log(
                ctx,
                "warning",
                &format!(
                    "idmp: db {db}: module stream '{shown}' NOT converted, left as it was: {e}"
                ),
            );
        }
    }
}

extern "C" fn collect(
    _ctx: *mut raw::RedisModuleCtx,
    keyname: *mut raw::RedisModuleString,
    key: *mut raw::RedisModuleKey,
    privdata: *mut c_void,
) {
    guard((), || {
        // SAFETY: privdata is the Vec passed to RedisModule_Scan below, alive
        // for the whole scan.
        let Some(out) = (unsafe { privdata.cast::<Vec<(Vec<u8>, *mut c_void)>>().as_mut() }) else {
            return;
        };
        if key.is_null() {
            return;
        }
        if let Kind::Module(p) = key_kind(key) {
            out.push((str_bytes(keyname).to_vec(), p.cast::<c_void>()));
        }
    })
}

/// The module streams of the selected database: each key's name and value.
fn module_keys(ctx: *mut raw::RedisModuleCtx) -> Vec<(Vec<u8>, *mut c_void)> {
    let mut out: Vec<(Vec<u8>, *mut c_void)> = Vec::new();
    let Some(cursor) = rm!(RedisModule_ScanCursorCreate()) else {
        return out;
    };
    let priv_ptr = (&mut out as *mut Vec<(Vec<u8>, *mut c_void)>).cast::<c_void>();
    while rm!(RedisModule_Scan(ctx, cursor, Some(collect), priv_ptr)).unwrap_or(0) != 0 {}
    let _ = rm!(RedisModule_ScanCursorDestroy(cursor));
    out
}

/// Calls `each(db, name, value)` for every module stream of every database,
/// with `db` selected in `ctx` (the selection is restored after).
pub fn for_each_module_stream(
    ctx: *mut raw::RedisModuleCtx,
    mut each: impl FnMut(c_int, &[u8], *mut c_void),
) {
    let original = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
    let mut db: c_int = 0;
    while rm!(RedisModule_SelectDb(ctx, db)) == Some(raw::Status::Ok as c_int) {
        for (name, value) in module_keys(ctx) {
            each(db, &name, value);
        }
        db += 1;
    }
    let _ = rm!(RedisModule_SelectDb(ctx, original));
}

/// Converts every module stream of every database.
pub fn convert_all(ctx: *mut raw::RedisModuleCtx) {
    for_each_module_stream(ctx, |db, name, _| {
        let r = convert_key(ctx, name);
        report(ctx, db, name, r);
    });
    let (ok, failed) = (
        MIGRATED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed),
    );
    if ok + failed > 0 {
        api::log(
            ctx,
            "notice",
            &format!(
                "idmp: migration: {ok} module streams converted to native streams, {failed} failed"
            ),
        );
    }
}

/// What the rebuilt native stream must show in `XINFO STREAM`.
struct Expect {
    length: i64,
    last: StreamId,
    max_deleted: StreamId,
    entries_added: i64,
    first: StreamId,
    groups: i64,
    duration: i64,
    maxsize: i64,
}

impl Expect {
    fn of(s: &Stream) -> Self {
        let st = s.idmp.settings();
        Expect {
            length: s.len() as i64,
            last: s.last_id,
            max_deleted: s.max_deleted_id,
            entries_added: s.entries_added as i64,
            first: if s.is_empty() {
                StreamId::MIN
            } else {
                s.first_id
            },
            groups: s.groups.len() as i64,
            duration: i64::from(st.duration_secs),
            maxsize: i64::from(st.maxsize),
        }
    }
}

/// Calls one write command; an error reply is an error.
fn run(ctx: *mut raw::RedisModuleCtx, argv: &[Vec<u8>]) -> Result<(), String> {
    let Some((name, rest)) = argv.split_first() else {
        return Ok(());
    };
    let mut args: Vec<*mut raw::RedisModuleString> =
        rest.iter().map(|a| create_string(ctx, a)).collect();
    let cmd = String::from_utf8_lossy(name).into_owned();
    let reply =
        call_v(ctx, &cmd, "!E", &mut args).ok_or_else(|| format!("{cmd} could not be called"))?;
    let e = reply.elem();
    if e.kind() == raw::REDISMODULE_REPLY_ERROR as i32 {
        return Err(format!("{cmd}: {}", String::from_utf8_lossy(e.bytes())));
    }
    Ok(())
}

fn check(
    ps: &[(Elem<'_>, Elem<'_>)],
    name: &str,
    want: Result<i64, StreamId>,
) -> Result<(), String> {
    let v = ps
        .iter()
        .find(|(k, _)| k.bytes() == name.as_bytes())
        .map(|&(_, v)| v)
        .ok_or_else(|| format!("XINFO STREAM of the rebuilt stream lacks {name}"))?;
    let ok = match want {
        Ok(n) => v.kind() == REPLY_INTEGER && v.integer() == n,
        Err(id) => parse_strict_id(v.bytes()) == Some(id),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the rebuilt stream's {name} differs from the module stream's"
        ))
    }
}

/// Compares the rebuilt stream at `tmp` with what the module stream had.
fn verify(ctx: *mut raw::RedisModuleCtx, tmp: &[u8], want: &Expect) -> Result<(), String> {
    let mut args = [create_string(ctx, b"STREAM"), create_string(ctx, tmp)];
    let reply = call_v(ctx, "XINFO", "E", &mut args)
        .ok_or_else(|| "XINFO STREAM could not be called".to_string())?;
    let ps = reply.elem().pairs();
    check(&ps, "length", Ok(want.length))?;
    check(&ps, "last-generated-id", Err(want.last))?;
    check(&ps, "max-deleted-entry-id", Err(want.max_deleted))?;
    check(&ps, "entries-added", Ok(want.entries_added))?;
    check(&ps, "recorded-first-entry-id", Err(want.first))?;
    check(&ps, "groups", Ok(want.groups))?;
    check(&ps, "idmp-duration", Ok(want.duration))?;
    check(&ps, "idmp-maxsize", Ok(want.maxsize))
}

fn integer_call(ctx: *mut raw::RedisModuleCtx, cmd: &str, key: &[u8]) -> Option<i64> {
    let mut args = [create_string(ctx, key)];
    let r = call_v(ctx, cmd, "E", &mut args)?;
    let e = r.elem();
    (e.kind() == REPLY_INTEGER).then(|| e.integer())
}

/// Converts the module stream at `name` (selected database) into a native
/// stream, or leaves it untouched and says why.
pub fn convert_key(ctx: *mut raw::RedisModuleCtx, name: &[u8]) -> Result<(), String> {
    let tmp = temporary_key(name);
    if integer_call(ctx, "EXISTS", &tmp) != Some(0) {
        return Err(format!(
            "the temporary key '{}' exists",
            String::from_utf8_lossy(&tmp)
        ));
    }
    let key = OpenKey::open(ctx, create_string(ctx, name), false);
    let Kind::Module(p) = key_kind(key.0) else {
        return Err("not a module stream any more".to_string());
    };
    // SAFETY: the value belongs to the open key; the commands below write the
    // temporary key only, so the original value stays alive and unchanged
    // while it is read, command by command.
    let s = unsafe { &*p };
    let want = Expect::of(s);
    let built = for_each_native_command(&tmp, s, Some(api::now_ms()), Form::Convert, &mut |argv| {
        run(ctx, &argv)
    })
    .and_then(|()| verify(ctx, &tmp, &want));
    drop(key);
    if let Err(e) = built {
        let _ = run(ctx, &[b"DEL".to_vec(), tmp]);
        return Err(e);
    }
    let expire_at = integer_call(ctx, "PEXPIRETIME", name).unwrap_or(-1);
    run(ctx, &[b"RENAME".to_vec(), tmp.clone(), name.to_vec()]).inspect_err(|_| {
        let _ = run(ctx, &[b"DEL".to_vec(), tmp.clone()]);
    })?;
    if expire_at > 0 {
        run(
            ctx,
            &[
                b"PEXPIREAT".to_vec(),
                name.to_vec(),
                expire_at.to_string().into_bytes(),
            ],
        )?;
    }
    Ok(())
}
