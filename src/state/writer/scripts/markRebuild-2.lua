--[[
  Marks a partition whose state Redis lost as being rebuilt, before the first record of the rebuild is folded,
  so that readers keep their last good copy instead of taking the empty or partial state.

  Input:
    KEYS[1] offsets   hash: consumer group -> last applied offset
    KEYS[2] marker    hash: epoch, rebuildUntil (see includes/finishBatch.lua)

    ARGV[1] consumer group id
    ARGV[2] epoch of a new marker (ms), used when the marker is gone
    ARGV[3] until: the offset the state held before it was lost (the rebuild is done when it is reached again)

  Output:
    the stored offset (-1: none); the marker is written only when it is below ARGV[3]
]]
local rcall = redis.call
local offsetsKey = KEYS[1]
local markerKey = KEYS[2]
local stored = tonumber(rcall("HGET", offsetsKey, ARGV[1]) or "-1") or -1
local untilOffset = tonumber(ARGV[3])
if stored >= untilOffset then return stored end
if not rcall("HGET", markerKey, "epoch") then rcall("HSET", markerKey, "epoch", ARGV[2]) end
local current = tonumber(rcall("HGET", markerKey, "rebuildUntil") or "-1") or -1
if untilOffset > current then rcall("HSET", markerKey, "rebuildUntil", untilOffset) end
return stored
