--[[
  Applies one folded batch of a clickstream partition exactly once: adds the batch's deltas to the posterior,
  item and user state, records what each request showed, resolves clicks against earlier impressions, counts
  the batch, stores the new offset and appends the change feed entry with the absolute values it changed,
  atomically. Per-user and per-request keys are built from the partition's key base, so every key carries
  the partition's hash tag and the script touches one slot.

  Input:
    KEYS[1] offsets     hash: consumer group -> last applied offset
    KEYS[2] stats       hash: events, batches, orphanClicks, dlq:<CODE>
    KEYS[3] feed        stream: change feed of the partition
    KEYS[4] posterior   hash: imp|<itemId>|<segment>, clk|<itemId>|<segment>
    KEYS[5] item        hash: <field>|<itemId>

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
            reqs    [requestId, nShown, itemId, "<slot>|<segment>"...]
            lookups [requestId, itemId, segment or ""...]   clicks whose impression was not in the batch
            ex      examination probability per slot, or absent when the position-bias model is off
    ARGV[6] change feed max length
    ARGV[7] recent clicked items kept per user
    ARGV[8] decay half-life (ms)
    ARGV[9] seconds a request's shown items are kept

  Output:
    {1, last}     applied
    {0, stored}   already applied: nothing changed
    {2, stored}   the stored offset is not ARGV[2]: fold again from stored + 1
    {-1, reason}  the payload cannot be read
    {-2, raw}     the stored offset is not a number
]]
local rcall = redis.call
local offsetsKey = KEYS[1]
local statsKey = KEYS[2]
local feedKey = KEYS[3]
local posteriorKey = KEYS[4]
local itemKey = KEYS[5]
local group = ARGV[1]
local after = tonumber(ARGV[2])
local last = tonumber(ARGV[3])
local base = ARGV[4]
local keepRecent = tonumber(ARGV[7])
local halfLife = tonumber(ARGV[8])
local requestTtl = ARGV[9]

--- @include "checkOffset"
--- @include "num"
--- @include "chunkedHash"
--- @include "finishBatch"

local status, stored = checkOffset(offsetsKey, group, after, last)
if status ~= 1 then return {status, stored} end

local ok, p = pcall(cjson.decode, ARGV[5])
if not ok or type(p) ~= "table" or type(p.arms) ~= "table" or type(p.items) ~= "table"
  or type(p.users) ~= "table" or type(p.reqs) ~= "table" or type(p.lookups) ~= "table" then
  return {-1, "payload is not a clickstream delta"}
end
local ex = p.ex
if type(ex) ~= "table" or #ex == 0 then ex = nil end

local enc = cjson.encode

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
for i = 1, #lookups, 3 do
  local itemId = lookups[i + 1]
  local segment = lookups[i + 2]
  local shown = rcall("HGET", base .. "req:" .. lookups[i], itemId)
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

local feedArms = {}
if #armOrder > 0 then
  local fields = {}
  for i = 1, #armOrder do
    fields[2 * i - 1] = "imp|" .. armOrder[i]
    fields[2 * i] = "clk|" .. armOrder[i]
  end
  local current = hmgetChunked(posteriorKey, fields)
  local writes = {}
  for i = 1, #armOrder do
    local key = armOrder[i]
    local imp = num((tonumber(current[2 * i - 1]) or 0) + armImp[key])
    local clk = num((tonumber(current[2 * i]) or 0) + armClk[key])
    writes[#writes + 1] = fields[2 * i - 1]
    writes[#writes + 1] = imp
    writes[#writes + 1] = fields[2 * i]
    writes[#writes + 1] = clk
    feedArms[i] = enc(key) .. ":[" .. imp .. "," .. clk .. "]"
  end
  hsetChunked(posteriorKey, writes)
end

-- Items: counters, last seen, and the decayed counts merged at the later of the two times.
local ITEM_FIELDS = {"imp", "clk", "conv", "convValue", "watchMs", "seen", "dimp", "dclk", "dts"}
local items = p.items
local feedItems = {}
if #items > 0 then
  local fields = {}
  for i = 1, #items, 10 do
    local id = items[i]
    for f = 1, 9 do fields[#fields + 1] = ITEM_FIELDS[f] .. "|" .. id end
  end
  local current = hmgetChunked(itemKey, fields)
  local writes = {}
  local n = 0
  for i = 1, #items, 10 do
    local id = items[i]
    local c = {}
    for f = 1, 9 do c[f] = tonumber(current[n * 9 + f]) or 0 end
    local v = {
      c[1] + items[i + 1], c[2] + items[i + 2], c[3] + items[i + 3], c[4] + items[i + 4], c[5] + items[i + 5],
      math.max(c[6], items[i + 6]), c[7], c[8], c[9],
    }
    local bImp, bClk, bAt = items[i + 7], items[i + 8], items[i + 9]
    if bAt > 0 then
      if bAt >= v[9] then
        local f = 2 ^ (-(bAt - v[9]) / halfLife)
        v[7] = v[7] * f + bImp
        v[8] = v[8] * f + bClk
        v[9] = bAt
      else
        local f = 2 ^ (-(v[9] - bAt) / halfLife)
        v[7] = v[7] + bImp * f
        v[8] = v[8] + bClk * f
      end
    end
    local parts = {}
    for f = 1, 9 do
      local s = num(v[f])
      writes[#writes + 1] = fields[n * 9 + f]
      writes[#writes + 1] = s
      parts[f] = '"' .. ITEM_FIELDS[f] .. '":' .. s
    end
    feedItems[#feedItems + 1] = enc(id) .. ":{" .. table.concat(parts, ",") .. "}"
    n = n + 1
  end
  hsetChunked(itemKey, writes)
end

-- Users: counters, last activity, recent clicked items (newest first, each once, at most keepRecent).
local USER_FIELDS = {"imp", "clk", "conv", "convValue", "watchMs", "lastActive"}
local users = p.users
local feedUsers = {}
local i = 1
while i <= #users do
  local id = users[i]
  local userKey = base .. "user:" .. id
  local c = rcall("HMGET", userKey, "imp", "clk", "conv", "convValue", "watchMs", "lastActive")
  local v = {}
  for f = 1, 5 do v[f] = (tonumber(c[f]) or 0) + users[i + f] end
  v[6] = math.max(tonumber(c[6]) or 0, users[i + 6])
  local writes = {}
  local parts = {}
  for f = 1, 6 do
    local s = num(v[f])
    writes[2 * f - 1] = USER_FIELDS[f]
    writes[2 * f] = s
    parts[f] = '"' .. USER_FIELDS[f] .. '":' .. s
  end
  rcall("HSET", userKey, unpack(writes))
  local nRecent = users[i + 7]
  if nRecent > 0 then
    local recentKey = base .. "recent:" .. id
    for r = i + 8, i + 7 + nRecent do
      rcall("LREM", recentKey, 0, users[r])
      rcall("LPUSH", recentKey, users[r])
    end
    rcall("LTRIM", recentKey, 0, keepRecent - 1)
    local recent = rcall("LRANGE", recentKey, 0, -1)
    local quoted = {}
    for r = 1, #recent do quoted[r] = enc(recent[r]) end
    parts[7] = '"recent":[' .. table.concat(quoted, ",") .. "]"
  end
  feedUsers[#feedUsers + 1] = enc(id) .. ":{" .. table.concat(parts, ",") .. "}"
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

local d = '{"posterior":{' .. table.concat(feedArms, ",") .. '},"item":{' .. table.concat(feedItems, ",")
  .. '},"user":{' .. table.concat(feedUsers, ",") .. "}}"
finishBatch(statsKey, offsetsKey, feedKey, group, ARGV[3], p.n, p.dlq, {"orphanClicks", orphans}, ARGV[6], d)
return {1, last}
