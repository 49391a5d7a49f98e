--[[
  Applies one folded batch of a CDC partition (cdc.items or cdc.users) exactly once: upserts and deletes rows,
  counts the batch, stores the new offset and appends the change feed entry, atomically. A key whose change
  carries a source position (payload pos) is changed only when that position is newer than the one stored for
  the key (a change re-sent by the source is skipped, and the feed entry leaves it out); positions stay after a
  delete, so a re-sent older change cannot bring a deleted row back.

  A truncate (payload trunc: the source position of the batch's last op `t`, "" for one without a position) comes
  first: every row of the partition whose stored position is older (every row, for "") is removed and goes into
  the feed entry as null; the batch's set/del/pos are the changes after the truncate. The partition's last
  truncate position (positions field "|truncate") makes every change older than it stale, and a truncate not
  newer than it a re-send that removes nothing. A snapshot's truncate (payload reset) removes every row and every
  key's position whatever their positions: the snapshot's reads follow it (a database restored to an earlier
  point, or a replica promoted without WAL the source streamed, gives LSNs below those held).

  Input:
    KEYS[1] offsets   hash: consumer group -> last applied offset
    KEYS[2] stats     hash: events, batches, tombstones, dlq:<CODE>
    KEYS[3] feed      stream: change feed of the partition
    KEYS[4] rows      hash: key -> row JSON
    KEYS[5] marker    hash: epoch, rebuildUntil (see includes/finishBatch.lua)
    KEYS[6] positions hash: key -> source position of its last applied change (32 hex digits)

    ARGV[1] consumer group id
    ARGV[2] after: the stored offset this batch continues from (-1: none)
    ARGV[3] last: the last offset of the batch
    ARGV[4] payload JSON {n, dlq: [code, count...], tombstones, set: [key, json...], del: [key...],
            pos: [key, position...] (optional), trunc: position (optional), reset: true (optional)}
    ARGV[5] change feed entry `d` (JSON)
    ARGV[6] change feed max length
    ARGV[7] change feed entries older than this many ms are trimmed (0: no age limit)
    ARGV[8] epoch of a new marker (ms)
    ARGV[9] the last offset of the log when the batch was fetched (-1: unknown)

  Output:
    {1, last}     applied
    {0, stored}   already applied: nothing changed
    {2, stored}   the stored offset is not ARGV[2]: fold again from stored + 1
    {-1, reason}  the payload cannot be read
    {-2, raw}     the stored offset is not a number
    {-4, key}     a key of the partition (KEYS) holds another type: nothing was written
]]
local rcall = redis.call
local offsetsKey = KEYS[1]
local statsKey = KEYS[2]
local feedKey = KEYS[3]
local rowsKey = KEYS[4]
local markerKey = KEYS[5]
local positionsKey = KEYS[6]
local group = ARGV[1]
local after = tonumber(ARGV[2])
local last = tonumber(ARGV[3])

--- @include "checkOffset"
--- @include "chunkedHash"
--- @include "finishBatch"
--- @include "wrongTypeKey"

local status, stored = checkOffset(offsetsKey, group, after, last)
if status ~= 1 then return {status, stored} end

local ok, p = pcall(cjson.decode, ARGV[4])
if not ok or type(p) ~= "table" or type(p.set) ~= "table" or type(p.del) ~= "table" then
  return {-1, "payload is not a CDC delta"}
end

local wrong = wrongTypeKey({offsetsKey, "hash", statsKey, "hash", feedKey, "stream", rowsKey, "hash", markerKey, "hash",
  positionsKey, "hash"})
if wrong then return {-4, wrong} end

local feedData = ARGV[5]
-- Keys a truncate removed, for the feed entry (those the batch sets again after it are left out there).
local truncated = {}
-- The partition's last truncate with a position is kept in positions under "|truncate" (no key holds "|"): every
-- row older than it was removed, so a change older than it is stale whatever its key held (a key the partition
-- never had, from a second source's older snapshot, too), and a truncate not newer than it is a re-send that
-- removes nothing (without reading every row again).
local truncatedAt = rcall("HGET", positionsKey, "|truncate")
if type(p.trunc) == "string" and not (p.trunc ~= "" and truncatedAt and truncatedAt >= p.trunc) then
  local trunc = p.trunc
  if trunc ~= "" then
    rcall("HSET", positionsKey, "|truncate", trunc)
    truncatedAt = trunc
  end
  local keys = rcall("HKEYS", rowsKey)
  if p.reset == true then
    -- A snapshot's truncate: every row and every key's position go, whatever their positions (UNLINK: a large
    -- catalog is freed off the main thread).
    truncated = keys
    rcall("UNLINK", rowsKey, positionsKey)
    if trunc ~= "" then rcall("HSET", positionsKey, "|truncate", trunc) end
  else
    local held = trunc == "" and {} or hmgetChunked(positionsKey, keys)
    for i, key in ipairs(keys) do
      if trunc == "" or not held[i] or held[i] < trunc then truncated[#truncated + 1] = key end
    end
    for i = 1, #truncated, 4000 do
      rcall("HDEL", rowsKey, unpack(truncated, i, math.min(i + 3999, #truncated)))
    end
  end
end

local stale = {}
local anyStale = false
if type(p.pos) == "table" and #p.pos > 0 then
  for i = 1, #p.pos, 2 do
    local key, position = p.pos[i], p.pos[i + 1]
    local held = rcall("HGET", positionsKey, key)
    if (held and held >= position) or (truncatedAt and truncatedAt >= position) then
      stale[key] = true
      anyStale = true
    else
      rcall("HSET", positionsKey, key, position)
    end
  end
end
if anyStale or #truncated > 0 then
  -- Leave the stale keys out of the rows and rebuild the feed entry from what is applied (a row's JSON is
  -- its feed value), the truncated keys first as null unless the batch applies a change of theirs.
  local kind = string.match(feedData, '^{"(%a+)":')
  local set, del, parts, changed = {}, {}, {}, {}
  for i = 1, #p.set, 2 do
    if not stale[p.set[i]] then
      set[#set + 1] = p.set[i]
      set[#set + 1] = p.set[i + 1]
      changed[p.set[i]] = true
    end
  end
  for _, key in ipairs(p.del) do
    if not stale[key] then
      del[#del + 1] = key
      changed[key] = true
    end
  end
  for _, key in ipairs(truncated) do
    if not changed[key] then parts[#parts + 1] = cjson.encode(key) .. ":null" end
  end
  for i = 1, #set, 2 do parts[#parts + 1] = cjson.encode(set[i]) .. ":" .. set[i + 1] end
  for _, key in ipairs(del) do parts[#parts + 1] = cjson.encode(key) .. ":null" end
  p.set, p.del = set, del
  feedData = '{"' .. kind .. '":{' .. table.concat(parts, ",") .. "}}"
end

if #p.set > 0 then hsetChunked(rowsKey, p.set) end
for i = 1, #p.del, 4000 do
  rcall("HDEL", rowsKey, unpack(p.del, i, math.min(i + 3999, #p.del)))
end

finishBatch({
  stats = statsKey, offsets = offsetsKey, feed = feedKey, marker = markerKey, group = group,
  after = after, last = last, events = p.n, dlq = p.dlq,
  extra = {"tombstones", p.tombstones, "truncates", type(p.trunc) == "string" and 1 or 0},
  maxLen = ARGV[6], maxAgeMs = tonumber(ARGV[7]), epoch = ARGV[8], caughtUpAt = tonumber(ARGV[9]), d = feedData,
})
return {1, last}
