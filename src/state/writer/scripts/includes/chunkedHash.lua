--[[
  HMGET and HSET over many fields, in chunks that stay below Lua's limit on unpacked arguments.
]]
local CHUNK = 4000
local function hmgetChunked(key, fields)
  local out = {}
  for i = 1, #fields, CHUNK do
    local values = rcall("HMGET", key, unpack(fields, i, math.min(i + CHUNK - 1, #fields)))
    for j = 1, #values do out[#out + 1] = values[j] end
  end
  return out
end
local function hsetChunked(key, pairs)
  for i = 1, #pairs, CHUNK do
    rcall("HSET", key, unpack(pairs, i, math.min(i + CHUNK - 1, #pairs)))
  end
end
