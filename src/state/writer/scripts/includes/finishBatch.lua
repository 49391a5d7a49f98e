--[[
  What every applied batch does last: count it in the stats hash (events, batches, dead letters per code,
  plus extra counters), store the new offset, keep the partition's marker, append the change feed entry and
  trim the feed by length and by age.

  The marker hash says what the partition's state is: `epoch` (when this state began, ms: a new value each
  time the partition is folded from nothing) and, only while the state is being rebuilt, `rebuildUntil` (the
  offset it must reach to be whole again). A batch folded from nothing (after = -1) behind the log end opens a
  rebuild until that end; the batch that reaches `rebuildUntil` closes it.

  b: a table
    stats, offsets, feed, marker   keys
    group                          consumer group id
    after, last                    the offset the batch continues from, its last offset (numbers)
    events                         records folded
    dlq, extra                     flat lists: name, count, name, count...
    maxLen                         change feed length kept (approximately)
    maxAgeMs                       change feed entries older than this (by Redis's clock, as their ids) are
                                   trimmed; 0: no age limit
    epoch                          the epoch of a new marker (ms)
    caughtUpAt                     the last offset of the log when the batch was fetched (-1: unknown)
    field                          field name of the change feed entry's data: "c" (compact) or "d" (JSON; the
                                   default)
    d                              change feed entry data
    clickTimes                     the entry's `t`: Kafka timestamps (ms) of the batch's clicks, space-separated;
                                   nil: none
]]
local function finishBatch(b)
  rcall("HINCRBY", b.stats, "batches", 1)
  if b.events > 0 then rcall("HINCRBY", b.stats, "events", b.events) end
  for i = 1, #b.dlq, 2 do rcall("HINCRBY", b.stats, "dlq:" .. b.dlq[i], b.dlq[i + 1]) end
  for i = 1, #b.extra, 2 do
    if b.extra[i + 1] ~= 0 then rcall("HINCRBY", b.stats, b.extra[i], b.extra[i + 1]) end
  end
  rcall("HSET", b.offsets, b.group, b.last)
  local mark = rcall("HMGET", b.marker, "epoch", "rebuildUntil")
  if not mark[1] then
    rcall("HSET", b.marker, "epoch", b.epoch)
    if b.after < 0 and b.caughtUpAt > b.last then rcall("HSET", b.marker, "rebuildUntil", b.caughtUpAt) end
  elseif mark[2] and (tonumber(mark[2]) or -1) <= b.last then
    rcall("HDEL", b.marker, "rebuildUntil")
  end
  if b.clickTimes then
    rcall("XADD", b.feed, "MAXLEN", "~", b.maxLen, "*", "o", b.last, b.field or "d", b.d, "t", b.clickTimes)
  else
    rcall("XADD", b.feed, "MAXLEN", "~", b.maxLen, "*", "o", b.last, b.field or "d", b.d)
  end
  if b.maxAgeMs > 0 then
    local now = rcall("TIME")
    local minId = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - b.maxAgeMs
    if minId > 0 then rcall("XTRIM", b.feed, "MINID", "~", string.format("%.0f", minId)) end
  end
end
