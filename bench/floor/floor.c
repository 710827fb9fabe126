/* The floor of a routed command: the least a module can do to serve XLEN
 * through a command filter on a given host. Its filter renames `XLEN key`
 * to `floor.xlen key` (as redis-idmp's filter renames it to `idmp.xlen`);
 * the command opens the key, answers its length and closes it. No ACL
 * check, no name index, no other command: whatever this costs over the
 * host's own XLEN, every module that routes XLEN pays (bench/floor.sh). */
#include <string.h>
#include <strings.h>
#include "redismodule.h"

static RedisModuleString *name;

static void filter(RedisModuleCommandFilterCtx *f) {
    if (RedisModule_CommandFilterArgsCount(f) != 2) return;
    size_t len;
    const char *a0 = RedisModule_StringPtrLen(RedisModule_CommandFilterArgGet(f, 0), &len);
    if (len != 4 || strncasecmp(a0, "xlen", 4) != 0) return;
    RedisModule_RetainString(NULL, name);
    RedisModule_CommandFilterArgReplace(f, 0, name);
}

static int floor_xlen(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_ValueLength(k));
    RedisModule_CloseKey(k);
    return REDISMODULE_OK;
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "floor", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "floor.xlen", floor_xlen, "readonly fast", 1, 1, 1) ==
        REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (RedisModule_RegisterCommandFilter(ctx, filter, 0) == NULL) return REDISMODULE_ERR;
    name = RedisModule_CreateString(NULL, "floor.xlen", 10);
    return REDISMODULE_OK;
}
