--[[
  Applies one folded batch of a clickstream partition exactly once: adds the batch's deltas to the posterior,
  item and user state, records what each request showed, resolves clicks against earlier impressions, counts
  the batch, stores the new offset and appends the change feed entry with the absolute values it changed
  (`c`, the compact form of src/state/layout/feed-entry.ts; `d`, JSON, when an id holds its separator),
  atomically. Per-user and per-request keys are built from the partition's key base, so every key carries
  the partition's hash tag and the script touches one slot.

  Input:
    KEYS[1] offsets     hash: consumer group -> last applied offset
    KEYS[2] stats       hash: events, batches, orphanClicks, dlq:<CODE>
    KEYS[3] feed        stream: change feed of the partition
    KEYS[4] posterior   hash: imp|<itemId>|<segment>, clk|<itemId>|<segment>
    KEYS[5] item        hash: <field>|<itemId>
    KEYS[6] marker      hash: epoch, rebuildUntil (see includes/finishBatch.lua)

    ARGV[1] consumer group id
    ARGV[2] after: the stored offset this batch continues from (-1: none)
    ARGV[3] last: the last offset of the batch
    ARGV[4] key base of the partition, `<prefix>{<topic>:<partition>}:`
    ARGV[5] payload JSON, flat lists:
            n       events folded
            dlq     [code, count...]
            arms    [<itemId>|<segment>, dImp, dClk...]
            items   [itemId, imp, clk, conv, convValue, watchMs, seen, decayImp, decayClk, decayAt...]
            users   [userId, imp, clk, conv, convValue, watchMs, lastActive, nRecent, recent items oldest first...]
            reqs    [<userId>|<requestId>, nShown, itemId, "<slot>|<segment>"...]   what each request showed
                    its user, written to req:<userId>|<requestId>
            lookups [userId, requestId, itemId, segment or ""...]   clicks whose impression was not in the
                    batch, looked up in req:<userId>|<requestId>, then in a record of the layout before records
                    were keyed by user (req:<requestId>, its user in the field `|user`) while such records live
            ex      examination probability per slot, or absent when the position-bias model is off
            ct      Kafka timestamps (ms) of the batch's clicks, or absent: the feed entry's `t`
    ARGV[6] change feed max length
    ARGV[7] recent clicked items kept per user
    ARGV[8] decay half-life (ms)
    ARGV[9] seconds a request's shown items are kept
    ARGV[10] change feed entries older than this many ms are trimmed (0: no age limit)
    ARGV[11] epoch of a new marker (ms)
    ARGV[12] the last offset of the log when the batch was fetched (-1: unknown)
    ARGV[13] seconds a user's activity (`user:` and `recent:` keys) is kept after their last event (0: for good)

  Output:
    {1, last}     applied
    {0, stored}   already applied: nothing changed
    {2, stored}   the stored offset is not ARGV[2]: fold again from stored + 1
    {-1, reason}  the payload cannot be read
    {-2, raw}     the stored offset is not a number
    {-3, key}     a key of a user or request in the batch holds another type: nothing was written
    {-4, key}     a key of the partition (KEYS) holds another type: nothing was written
]]
local rcall = redis.call
local offsetsKey = KEYS[1]
local statsKey = KEYS[2]
local feedKey = KEYS[3]
local posteriorKey = KEYS[4]
local itemKey = KEYS[5]
local markerKey = KEYS[6]
local group = ARGV[1]
local after = tonumber(ARGV[2])
local last = tonumber(ARGV[3])
local base = ARGV[4]
local keepRecent = tonumber(ARGV[7])
local halfLife = tonumber(ARGV[8])
local requestTtl = ARGV[9]
local userTtl = tonumber(ARGV[13]) or 0

--- @include "checkOffset"
--- @include "finishBatch"
--- @include "wrongTypeKey"

local status, stored = checkOffset(offsetsKey, group, after, last)
if status ~= 1 then return {status, stored} end

local ok, p = pcall(cjson.decode, ARGV[5])
if not ok or type(p) ~= "table" or type(p.arms) ~= "table" or type(p.items) ~= "table"
  or type(p.users) ~= "table" or type(p.reqs) ~= "table" or type(p.lookups) ~= "table" then
  return {-1, "payload is not a clickstream delta"}
end
local ex = p.ex
if type(ex) ~= "table" or #ex == 0 then ex = nil end

-- Every key this batch writes, with its type, checked before the first write.
local wrongKey = wrongTypeKey({offsetsKey, "hash", statsKey, "hash", feedKey, "stream", posteriorKey, "hash", itemKey, "hash", markerKey, "hash"})
if wrongKey then return {-4, wrongKey} end
local expected = {}
for i = 1, #p.lookups, 4 do
  expected[#expected + 1] = base .. "req:" .. p.lookups[i] .. "|" .. p.lookups[i + 1]
  expected[#expected + 1] = "hash"
  expected[#expected + 1] = base .. "req:" .. p.lookups[i + 1]
  expected[#expected + 1] = "hash"
end
do
  local u = 1
  while u <= #p.users do
    expected[#expected + 1] = base .. "user:" .. p.users[u]
    expected[#expected + 1] = "hash"
    if p.users[u + 7] > 0 then
      expected[#expected + 1] = base .. "recent:" .. p.users[u]
      expected[#expected + 1] = "list"
    end
    u = u + 8 + p.users[u + 7]
  end
  local r = 1
  while r <= #p.reqs do
    expected[#expected + 1] = base .. "req:" .. p.reqs[r]
    expected[#expected + 1] = "hash"
    r = r + 2 + 2 * p.reqs[r + 1]
  end
end
local wrong = wrongTypeKey(expected)
if wrong then return {-3, wrong} end

-- Change feed entry `d`: the absolute values of every field the batch changed, encoded once at the end.
local feedArms, feedItems, feedUsers = {}, {}, {}

-- Arms: the batch's deltas, then clicks resolved against requests stored by earlier batches.
local armImp, armClk, armOrder = {}, {}, {}
local function addArm(key, dImp, dClk)
  if armImp[key] == nil then
    armImp[key] = 0
    armClk[key] = 0
    armOrder[#armOrder + 1] = key
  end
  armImp[key] = armImp[key] + dImp
  armClk[key] = armClk[key] + dClk
end
local arms = p.arms
for i = 1, #arms, 3 do addArm(arms[i], arms[i + 1], arms[i + 2]) end

local orphans = 0
local lookups = p.lookups
for i = 1, #lookups, 4 do
  local userId = lookups[i]
  local itemId = lookups[i + 2]
  local segment = lookups[i + 3]
  local shown = rcall("HGET", base .. "req:" .. userId .. "|" .. lookups[i + 1], itemId)
  if not shown then
    local legacy = rcall("HMGET", base .. "req:" .. lookups[i + 1], itemId, "|user")
    if legacy[1] and legacy[2] == userId then shown = legacy[1] end
  end
  local correction = 0
  if shown then
    local bar = string.find(shown, "|", 1, true)
    if segment == "" then segment = string.sub(shown, bar + 1) end
    if ex then
      local slot = tonumber(string.sub(shown, 1, bar - 1)) or 0
      correction = 1 - ex[math.min(math.max(slot, 0) + 1, #ex)]
      addArm(itemId .. "|*", correction, 0)
    end
  else
    orphans = orphans + 1
  end
  if segment ~= "" then addArm(itemId .. "|" .. segment, correction, 1) end
end

-- Integer counters go through HINCRBY (its reply is a number); examination-weighted impressions may be
-- fractional, so with the position-bias model on they go through HINCRBYFLOAT.
local impIncr = ex and "HINCRBYFLOAT" or "HINCRBY"
for i = 1, #armOrder do
  local key = armOrder[i]
  local impField, clkField = "imp|" .. key, "clk|" .. key
  local imp, clk
  if armImp[key] ~= 0 then
    imp = tonumber(rcall(impIncr, posteriorKey, impField, armImp[key]))
  else
    imp = tonumber(rcall("HGET", posteriorKey, impField)) or 0
  end
  if armClk[key] ~= 0 then
    clk = rcall("HINCRBY", posteriorKey, clkField, armClk[key])
  else
    clk = tonumber(rcall("HGET", posteriorKey, clkField)) or 0
  end
  feedArms[key] = {imp, clk}
end

-- Items: counters that moved, last seen, and the decayed counts merged at the later of the two times.
local items = p.items
for i = 1, #items, 10 do
  local id = items[i]
  local out = {}
  if items[i + 1] ~= 0 then out.imp = rcall("HINCRBY", itemKey, "imp|" .. id, items[i + 1]) end
  if items[i + 2] ~= 0 then out.clk = rcall("HINCRBY", itemKey, "clk|" .. id, items[i + 2]) end
  if items[i + 3] ~= 0 then out.conv = rcall("HINCRBY", itemKey, "conv|" .. id, items[i + 3]) end
  if items[i + 4] ~= 0 then
    out.convValue = tonumber(rcall("HINCRBYFLOAT", itemKey, "convValue|" .. id, items[i + 4]))
  end
  if items[i + 5] ~= 0 then out.watchMs = rcall("HINCRBY", itemKey, "watchMs|" .. id, items[i + 5]) end
  local seenField = "seen|" .. id
  local bAt = items[i + 9]
  if bAt > 0 then
    local dimpField, dclkField, dtsField = "dimp|" .. id, "dclk|" .. id, "dts|" .. id
    local c = rcall("HMGET", itemKey, seenField, dimpField, dclkField, dtsField)
    local dimp, dclk, dts = tonumber(c[2]) or 0, tonumber(c[3]) or 0, tonumber(c[4]) or 0
    if bAt >= dts then
      local f = 2 ^ (-(bAt - dts) / halfLife)
      dimp = dimp * f + items[i + 7]
      dclk = dclk * f + items[i + 8]
      dts = bAt
    else
      local f = 2 ^ (-(dts - bAt) / halfLife)
      dimp = dimp + items[i + 7] * f
      dclk = dclk + items[i + 8] * f
    end
    local seen = math.max(tonumber(c[1]) or 0, items[i + 6])
    rcall("HSET", itemKey, seenField, seen, dimpField, dimp, dclkField, dclk, dtsField, dts)
    out.seen, out.dimp, out.dclk, out.dts = seen, dimp, dclk, dts
  else
    local seen = tonumber(rcall("HGET", itemKey, seenField)) or 0
    if items[i + 6] > seen then
      seen = items[i + 6]
      rcall("HSET", itemKey, seenField, seen)
    end
    out.seen = seen
  end
  feedItems[id] = out
end

-- Users: counters that moved, last activity, recent clicked items (newest first, each once, at most keepRecent).
local users = p.users
local i = 1
while i <= #users do
  local id = users[i]
  local userKey = base .. "user:" .. id
  local out = {}
  if users[i + 1] ~= 0 then out.imp = rcall("HINCRBY", userKey, "imp", users[i + 1]) end
  if users[i + 2] ~= 0 then out.clk = rcall("HINCRBY", userKey, "clk", users[i + 2]) end
  if users[i + 3] ~= 0 then out.conv = rcall("HINCRBY", userKey, "conv", users[i + 3]) end
  if users[i + 4] ~= 0 then out.convValue = tonumber(rcall("HINCRBYFLOAT", userKey, "convValue", users[i + 4])) end
  if users[i + 5] ~= 0 then out.watchMs = rcall("HINCRBY", userKey, "watchMs", users[i + 5]) end
  local lastActive = tonumber(rcall("HGET", userKey, "lastActive")) or 0
  if users[i + 6] > lastActive then
    lastActive = users[i + 6]
    rcall("HSET", userKey, "lastActive", lastActive)
  end
  out.lastActive = lastActive
  local nRecent = users[i + 7]
  if nRecent > 0 then
    local recentKey = base .. "recent:" .. id
    for r = i + 8, i + 7 + nRecent do
      rcall("LREM", recentKey, 0, users[r])
      rcall("LPUSH", recentKey, users[r])
    end
    rcall("LTRIM", recentKey, 0, keepRecent - 1)
    out.recent = rcall("LRANGE", recentKey, 0, -1)
  end
  if userTtl > 0 then
    rcall("EXPIRE", userKey, userTtl)
    rcall("EXPIRE", base .. "recent:" .. id, userTtl)
  end
  feedUsers[id] = out
  i = i + 8 + nRecent
end

-- What each request showed, for the clicks of later batches (written after the lookups: a click earlier in
-- the log than its impression stays an orphan).
local reqs = p.reqs
local j = 1
while j <= #reqs do
  local requestKey = base .. "req:" .. reqs[j]
  local shown = reqs[j + 1]
  rcall("HSET", requestKey, unpack(reqs, j + 2, j + 1 + 2 * shown))
  rcall("EXPIRE", requestKey, requestTtl)
  j = j + 2 + 2 * shown
end

-- The change feed entry: `c`, tokens joined by the unit separator (src/state/layout/feed-entry.ts), read without a
-- JSON parser; `d` (JSON) only when an id holds the separator. cjson writes an empty table as {}, which is what an
-- empty map of `d` should be.
local US = "\31"
local function compactEntry()
  local t, n = {}, 0
  local function put(v)
    n = n + 1
    t[n] = v
  end
  local function opt(v)
    n = n + 1
    if v == nil then t[n] = "" else t[n] = v end
  end
  for a = 1, #armOrder do
    local key = armOrder[a]
    if string.find(key, US, 1, true) then return nil end
    local v = feedArms[key]
    put("a") put(key) put(v[1]) put(v[2])
  end
  for id, out in pairs(feedItems) do
    if string.find(id, US, 1, true) then return nil end
    put("i") put(id)
    opt(out.imp) opt(out.clk) opt(out.conv) opt(out.convValue) opt(out.watchMs)
    opt(out.seen) opt(out.dimp) opt(out.dclk) opt(out.dts)
  end
  for id, out in pairs(feedUsers) do
    if string.find(id, US, 1, true) then return nil end
    put("u") put(id)
    opt(out.imp) opt(out.clk) opt(out.conv) opt(out.convValue) opt(out.watchMs) opt(out.lastActive)
    local recent = out.recent
    if recent == nil then
      put("")
    else
      put(#recent)
      for r = 1, #recent do
        if string.find(recent[r], US, 1, true) then return nil end
        put(recent[r])
      end
    end
  end
  return table.concat(t, US)
end
local feedField, feedData = "c", compactEntry()
if feedData == nil then
  feedField, feedData = "d", cjson.encode({posterior = feedArms, item = feedItems, user = feedUsers})
end
local clickTimes = nil
if type(p.ct) == "table" and #p.ct > 0 then
  local t = {}
  for i = 1, #p.ct do t[i] = string.format("%.0f", tonumber(p.ct[i]) or 0) end
  clickTimes = table.concat(t, " ")
end
finishBatch({
  stats = statsKey, offsets = offsetsKey, feed = feedKey, marker = markerKey, group = group,
  after = after, last = last, events = p.n, dlq = p.dlq, extra = {"orphanClicks", orphans},
  maxLen = ARGV[6], maxAgeMs = tonumber(ARGV[10]), epoch = ARGV[11], caughtUpAt = tonumber(ARGV[12]),
  field = feedField, d = feedData, clickTimes = clickTimes,
})
return {1, last}
