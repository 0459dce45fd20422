"""The redis engine's Lua scripts: each runs a store operation in one atomic round trip.

:class:`~.redis.RedisStore` registers them on its client (``EVALSHA``). They use
the layout described in :mod:`._keys`; :class:`._users.UserIndex` runs
the user index's own two. Every record script names only keys that share the
record's hash tag, so the scripts run on Redis Cluster too. All the engine's
Lua is here.
"""

from __future__ import annotations

# Part of the record scripts (save, touch); calls no command. owner: the new owner's
# digest ('' keeps the owner); known, known_until: the record's usr and usr_until
# (false for none); expire_ms: the record's new expire-at; until_ms: that plus
# the index margin. Returns false, or {owner, until_ms} when the owner's index must
# (again) hold the record until until_ms: the script then writes them to usr and
# usr_until, before the record's PEXPIREAT (an expire-at in the past deletes the
# key, and an HSET after it would bring it back), and returns them.
INDEX_DUE_LUA = """
local function index_due(owner, known, known_until, expire_ms, until_ms)
  if owner == '' then
    if not known or tonumber(expire_ms) <= (tonumber(known_until) or 0) then
      return false
    end
    owner = known
  end
  return {owner, until_ms}
end
"""

# KEYS: the index. ARGV: the record id, expire-at in ms. NX first: a new set has no
# expiry, which GT counts as infinite; then GT extends only, never shortens.
ADD_TO_INDEX = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'NX')
redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT')
return 1
"""

# KEYS: the hash. ARGV: the owner's digest. Deletes the record only if it is still that user's.
# The lock stays, as with RedisStore.delete: a request holding it then finds no record
# and saves nothing, instead of failing with a lost lock.
DELETE_OWNED = """
if redis.call('HGET', KEYS[1], 'usr') ~= ARGV[1] then
  return 0
end
return redis.call('UNLINK', KEYS[1])
"""

# Lua limits how many values unpack() may spread at once, hence batches of 1000.
_BATCHED = """
local function batched(command, key, from, to)
  for first = from, to, 1000 do
    redis.call(command, key, unpack(ARGV, first, math.min(first + 999, to)))
  end
end
"""

# KEYS: the hash, and the lock only with a token (a Cluster answers TRYAGAIN, while a
# slot moves, for keys that are not all on one node: a missing lock is on neither).
# ARGV: create, replace, meta, exp, expire-at in ms, the lock token ('' for none),
# the number of data fields to set, the owner's digest ('' keeps the owner), the
# owner index's expire-at in ms, then the field/value pairs, then the fields to delete.
# Returns 0 (no record), -1 (lock lost), else 1 or what index_due returns. A replace
# keeps the owner (only Change.user_id changes it) and starts ver again at 1. Every
# record has ver, so EXISTS runs only for a new key: a save is HMGET, HSET, PEXPIREAT
# (and EXISTS if new, HKEYS and HDEL if replaced, HDEL if keys were deleted), the
# bookkeeping and the first ~500 keys in one HSET.
SAVE = _BATCHED + INDEX_DUE_LUA + """
-- A replaced record's data fields ('k:...') that the save does not set, deleted after its
-- HSET rather than by a DEL before it: the key never ceases to exist, as a Cluster refuses
-- a script that brings back a key of a migrating slot ("non local key").
local function drop_stale(key, stale, from, to)
  local kept, doomed = {}, {}
  for i = from, to, 2 do
    kept[ARGV[i]] = true
  end
  for _, field in ipairs(stale) do
    if not kept[field] and string.sub(field, 1, 2) == 'k:' then
      doomed[#doomed + 1] = field
    end
  end
  for first = 1, #doomed, 1000 do
    redis.call('HDEL', key, unpack(doomed, first, math.min(first + 999, #doomed)))
  end
end

local key = KEYS[1]
if ARGV[6] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[6] then
  return -1
end
local known = redis.call('HMGET', key, 'ver', 'usr', 'usr_until')
local stale = false
if not known[1] and redis.call('EXISTS', key) == 0 then
  if ARGV[1] == '0' then
    return 0
  end
elseif ARGV[2] == '1' then
  stale = redis.call('HKEYS', key)
  known[1] = false
end
local ver = (tonumber(known[1]) or 0) + 1
local due = index_due(ARGV[8], known[2], known[3], ARGV[5], ARGV[9])
if due then
  known[2], known[3] = due[1], due[2]
end
local first_deleted = 10 + 2 * tonumber(ARGV[7])
batched('HDEL', key, first_deleted, #ARGV)
local last = math.min(first_deleted - 1, 999)
if known[2] and (due or ARGV[2] == '1') then
  redis.call('HSET', key, 'meta', ARGV[3], 'exp', ARGV[4], 'ver', ver, 'usr', known[2], 'usr_until',
             known[3] or '0', unpack(ARGV, 10, last))
else
  redis.call('HSET', key, 'meta', ARGV[3], 'exp', ARGV[4], 'ver', ver, unpack(ARGV, 10, last))
end
batched('HSET', key, last + 1, first_deleted - 1)
if stale then
  drop_stale(key, stale, 10, first_deleted - 1)
end
redis.call('PEXPIREAT', key, ARGV[5])
return due or 1
"""

# KEYS: the hash. ARGV: exp, expire-at in ms, the owner index's expire-at in ms.
# The version stays: the data did not change. Returns 0 (no record), else what index_due returns.
TOUCH = INDEX_DUE_LUA + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local known = redis.call('HMGET', KEYS[1], 'usr', 'usr_until')
local due = index_due('', known[1], known[2], ARGV[2], ARGV[3])
if due then
  redis.call('HSET', KEYS[1], 'exp', ARGV[1], 'usr', due[1], 'usr_until', due[2])
else
  redis.call('HSET', KEYS[1], 'exp', ARGV[1])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return due or 1
"""

# KEYS: the hash, the lock. ARGV: token, lease in ms. Returns 1 (taken), 0 (held by another), -1 (no record).
ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""

# KEYS: the lock. ARGV: token. A lease that ran out may be another holder's lock by now.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: the hash, the tombstone. Returns the hash's fields and values, or 1 for a tombstone.
LOAD_CACHED = """
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  return 1
end
return fields
"""

# KEYS: the hash, the tombstone. ARGV: version, meta, exp, expire-at in ms, then field/value pairs.
STORE_RECORD = _BATCHED + """
local key = KEYS[1]
local cached = redis.call('HGET', key, 'ver')
if cached then
  if tonumber(cached) >= tonumber(ARGV[1]) then
    return 0
  end
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('DEL', key)
batched('HSET', key, 5, #ARGV)
redis.call('HSET', key, 'meta', ARGV[2], 'exp', ARGV[3], 'ver', ARGV[1])
redis.call('PEXPIREAT', key, ARGV[4])
return 1
"""

# KEYS: the hash, the tombstone. ARGV: the tombstone's ttl in ms.
BURY = """
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
"""
