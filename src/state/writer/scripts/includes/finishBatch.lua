--[[
  What every applied batch does last: count it in the stats hash (events, batches, dead letters per code,
  plus extra counters), store the new offset, append the change feed entry.
  dlq and extra are flat lists: name, count, name, count...
]]
local function finishBatch(statsKey, offsetsKey, feedKey, group, last, events, dlq, extra, maxLen, d)
  rcall("HINCRBY", statsKey, "batches", 1)
  if events > 0 then rcall("HINCRBY", statsKey, "events", events) end
  for i = 1, #dlq, 2 do rcall("HINCRBY", statsKey, "dlq:" .. dlq[i], dlq[i + 1]) end
  for i = 1, #extra, 2 do
    if extra[i + 1] ~= 0 then rcall("HINCRBY", statsKey, extra[i], extra[i + 1]) end
  end
  rcall("HSET", offsetsKey, group, last)
  rcall("XADD", feedKey, "MAXLEN", "~", maxLen, "*", "o", last, "d", d)
end
