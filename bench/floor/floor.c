/* The floor of a routed command: the least any module must do to serve a
 * command the way redis-idmp does, through a command filter, on a given
 * host (bench/floor.sh measures it against the host's own command).
 *
 * - `XLEN key` -> `floor.xlen key`: open the key, answer its length.
 * - `XADD key IDMP pid iid * f v ...` and `XADD key IDMPAUTO pid * f v ...`
 *   -> `floor.xadd`, with the slots the propagated form needs reserved by
 *   the filter (as redis-idmp's hot_idmp.rs does: `IDMPAT <time>` and, for
 *   IDMPAUTO, the computed iid). The command appends with the host's own
 *   stream API (RedisModule_StreamAdd), answers the ID, fills the slots and
 *   propagates the vector verbatim. It keeps no iid table at all: an iid
 *   of "dup" stands for a duplicate, answered with a fixed ID and its
 *   counters propagated (`floor.counters key 1 1`), as a duplicate must.
 *   The filter reserves no slots for a duplicate: a lower bound even for a
 *   module that could tell a duplicate in its filter (redis-idmp cannot:
 *   the filter does not see the key's value).
 *
 * No ACL check, no name index, nothing else: whatever this costs over the
 * host's own command, every module built this way pays. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "redismodule.h"

static RedisModuleString *xlen_name, *xadd_name, *idmpat, *slot, *idmp_word;

static int is(RedisModuleString *s, const char *word) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    return len == strlen(word) && strncasecmp(p, word, len) == 0;
}

static void insert(RedisModuleCommandFilterCtx *f, int pos, RedisModuleString *s) {
    RedisModule_RetainString(NULL, s);
    RedisModule_CommandFilterArgInsert(f, pos, s);
}

static void rename_to(RedisModuleCommandFilterCtx *f, RedisModuleString *name) {
    RedisModule_RetainString(NULL, name);
    RedisModule_CommandFilterArgReplace(f, 0, name);
}

static void filter(RedisModuleCommandFilterCtx *f) {
    int argc = RedisModule_CommandFilterArgsCount(f);
    if (argc < 2) return;
    RedisModuleString *a0 = RedisModule_CommandFilterArgGet(f, 0);
    if (argc == 2 && is(a0, "xlen")) {
        rename_to(f, xlen_name);
        return;
    }
    if (argc < 7 || !is(a0, "xadd")) return;
    RedisModuleString *opt = RedisModule_CommandFilterArgGet(f, 2);
    if (argc >= 8 && is(opt, "idmp")) {
        rename_to(f, xadd_name);
        if (is(RedisModule_CommandFilterArgGet(f, 4), "dup")) return;
        insert(f, 5, idmpat);
        insert(f, 6, slot);
    } else if (is(opt, "idmpauto")) {
        rename_to(f, xadd_name);
        insert(f, 4, slot);
        insert(f, 5, idmpat);
        insert(f, 6, slot);
    }
}

static int floor_xlen(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_ValueLength(k));
    RedisModule_CloseKey(k);
    return REDISMODULE_OK;
}

/* Replaces argv[i] in the client's vector by `s` (which it then owns). */
static void put(RedisModuleString **argv, int i, RedisModuleString *s) {
    RedisModule_FreeString(NULL, argv[i]);
    argv[i] = s;
}

/* floor.xadd key IDMP|IDMPAUTO pid iid|<slot> IDMPAT <slot> * f v ... */
static int floor_xadd(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc >= 8 && argv[5] != idmpat && is(argv[4], "dup")) { /* no slots */
        RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
        RedisModule_CloseKey(k);
        RedisModule_ReplyWithStringBuffer(ctx, "1-1", 3);
        RedisModule_Replicate(ctx, "floor.counters", "sll", argv[1], 1LL, 1LL);
        return REDISMODULE_OK;
    }
    if (argc < 10 || (argc - 8) % 2 != 0 || argv[5] != idmpat || argv[6] != slot)
        return RedisModule_ReplyWithError(ctx, "ERR floor: not a filtered XADD IDMP");
    int autoiid = argv[4] == slot;
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    char iid[17];
    if (autoiid) { /* the least a content iid costs: one pass over the pairs */
        unsigned long long h = 1469598103934665603ULL;
        for (int i = 8; i < argc; i++) {
            size_t len;
            const unsigned char *p = (const unsigned char *)RedisModule_StringPtrLen(argv[i], &len);
            for (size_t j = 0; j < len; j++) h = (h ^ p[j]) * 1099511628211ULL;
        }
        snprintf(iid, sizeof iid, "%016llx", h);
    }
    RedisModuleStreamID id;
    if (RedisModule_StreamAdd(k, REDISMODULE_STREAM_ADD_AUTOID, &id, argv + 8, (argc - 8) / 2) !=
        REDISMODULE_OK) {
        RedisModule_CloseKey(k);
        return RedisModule_ReplyWithError(ctx, "ERR floor: cannot append");
    }
    RedisModule_CloseKey(k);
    char buf[48], tbuf[24];
    int n = snprintf(buf, sizeof buf, "%llu-%llu", (unsigned long long)id.ms,
                     (unsigned long long)id.seq);
    RedisModule_ReplyWithStringBuffer(ctx, buf, n);
    int tn = snprintf(tbuf, sizeof tbuf, "%lld", (long long)RedisModule_Milliseconds());
    put(argv, 6, RedisModule_CreateString(NULL, tbuf, tn));
    put(argv, 7, RedisModule_CreateString(NULL, buf, n));
    if (autoiid) {
        put(argv, 4, RedisModule_CreateString(NULL, iid, 16));
        RedisModule_RetainString(NULL, idmp_word);
        put(argv, 2, idmp_word);
    }
    RedisModule_ReplicateVerbatim(ctx);
    return REDISMODULE_OK;
}

static int floor_counters(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    if (argc != 4) return RedisModule_WrongArity(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "floor", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "floor.xlen", floor_xlen, "readonly fast", 1, 1, 1) ==
            REDISMODULE_ERR ||
        RedisModule_CreateCommand(ctx, "floor.xadd", floor_xadd, "write deny-oom fast", 1, 1, 1) ==
            REDISMODULE_ERR ||
        RedisModule_CreateCommand(ctx, "floor.counters", floor_counters, "write fast", 1, 1, 1) ==
            REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (RedisModule_RegisterCommandFilter(ctx, filter, 0) == NULL) return REDISMODULE_ERR;
    xlen_name = RedisModule_CreateString(NULL, "floor.xlen", 10);
    xadd_name = RedisModule_CreateString(NULL, "floor.xadd", 10);
    idmpat = RedisModule_CreateString(NULL, "IDMPAT", 6);
    slot = RedisModule_CreateString(NULL, "0", 1);
    idmp_word = RedisModule_CreateString(NULL, "IDMP", 4);
    return REDISMODULE_OK;
}
