--[[
  Extends a job run's lease when this instance still holds it.

  Input:
    KEYS[1] lease key
    ARGV[1] owner token
    ARGV[2] lease length, ms

  Output:
    1  extended
    0  the lease is another instance's, or expired
]]
local rcall = redis.call
local leaseKey = KEYS[1]
if rcall("GET", leaseKey) == ARGV[1] then
  rcall("PEXPIRE", leaseKey, ARGV[2])
  return 1
end
return 0
