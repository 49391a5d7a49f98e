--[[
  Compares a batch with the offset stored for the consumer group.
  Returns status, stored:
     1, stored   the batch continues the stored offset: apply it
     0, stored   every record of the batch is already applied (stored >= last)
     2, stored   the stored offset is not the one the batch continues from
    -2, raw      the stored offset is not a number
]]
local function checkOffset(offsetsKey, group, after, last)
  local raw = rcall("HGET", offsetsKey, group)
  local stored = -1
  if raw then
    stored = tonumber(raw)
    if stored == nil then return -2, raw end
  end
  if stored >= last then return 0, stored end
  if stored ~= after then return 2, stored end
  return 1, stored
end
