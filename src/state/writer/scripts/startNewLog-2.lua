--[[
  Follows a partition whose Kafka log started again (an in-memory broker restarted, a topic deleted and made again)
  while Redis kept the partition's state: the stored offset is past the end of the new log, so every record of
  that log would be skipped as already applied. The folded state is kept (it is what the old log said); the stored
  offset moves to just before the new log's first record, so each record of the new log is applied once. Only
  when the stored offset is still the one the topology found past the log end: a batch applied in between (or a
  second call after a crash) finds another offset and nothing is written.

  Input:
    KEYS[1] offsets   hash: consumer group -> last applied offset
    KEYS[2] marker    hash: epoch, rebuildUntil, logEpoch, logEpochAfter (see includes/finishBatch.lua)

    ARGV[1] consumer group id
    ARGV[2] expected: the stored offset found past the log end
    ARGV[3] the offset before the new log's first record (its log start - 1)
    ARGV[4] now (ms): the new log epoch

  Output:
    {1, ARGV[3]}  moved: the marker's `logEpoch` is ARGV[4], `logEpochAfter` the offset the old log had reached,
                  and a rebuild of the old log in progress is over (its records are gone)
    {2, stored}   the stored offset is not ARGV[2]: nothing written
    {-2, raw}     the stored offset is not a number
]]
local rcall = redis.call
local offsetsKey = KEYS[1]
local markerKey = KEYS[2]
local raw = rcall("HGET", offsetsKey, ARGV[1])
local stored = -1
if raw then
  stored = tonumber(raw)
  if stored == nil then return {-2, raw} end
end
if stored ~= tonumber(ARGV[2]) then return {2, stored} end
rcall("HSET", offsetsKey, ARGV[1], ARGV[3])
rcall("HSET", markerKey, "logEpoch", ARGV[4], "logEpochAfter", stored)
rcall("HDEL", markerKey, "rebuildUntil")
return {1, tonumber(ARGV[3])}
