--[[
  Releases a job run's lease when this instance holds it (never another instance's).

  Input:
    KEYS[1] lease key
    ARGV[1] owner token

  Output:
    1  released
    0  not held by this owner
]]
local rcall = redis.call
local leaseKey = KEYS[1]
if rcall("GET", leaseKey) == ARGV[1] then
  rcall("DEL", leaseKey)
  return 1
end
return 0
