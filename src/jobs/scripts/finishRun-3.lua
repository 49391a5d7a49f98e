--[[
  Writes a run's final record and releases its lease, unless the interval was taken over: the record is written
  only while the runs hash still holds the record this run claimed the interval with (another instance that took
  the interval over after this run lost its lease has written its own), and the lease is released only when it
  is still this run's.

  Input:
    KEYS[1] runs hash (interval start → record)
    KEYS[2] recent list
    KEYS[3] lease key
    ARGV[1] owner token
    ARGV[2] interval start, the runs hash's field
    ARGV[3] the record the run claimed the interval with, as stored
    ARGV[4] the run's final record
    ARGV[5] writes kept in the recent list

  Output:
    1  written
    0  taken over: nothing written
]]
local rcall = redis.call
local runsKey = KEYS[1]
local recentKey = KEYS[2]
local leaseKey = KEYS[3]

if rcall("GET", leaseKey) == ARGV[1] then rcall("DEL", leaseKey) end
if rcall("HGET", runsKey, ARGV[2]) ~= ARGV[3] then return 0 end
rcall("HSET", runsKey, ARGV[2], ARGV[4])
rcall("LPUSH", recentKey, ARGV[4])
rcall("LTRIM", recentKey, 0, tonumber(ARGV[5]) - 1)
return 1
