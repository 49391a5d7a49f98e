--[[
  Claims one data interval of a job for a run, atomically: the interval has ended by Redis's clock, its record is
  still the one the caller read and decided on, and no instance holds its lease; then takes the lease and writes
  the run's record. Reading the record, taking the lease and writing happen in one step, so a caller paused after
  its read cannot run an interval that another instance ran meanwhile.

  Input:
    KEYS[1] runs hash (interval start → record)
    KEYS[2] recent list
    KEYS[3] lease key
    ARGV[1] owner token
    ARGV[2] lease length, ms
    ARGV[3] interval start, the runs hash's field
    ARGV[4] interval end, epoch ms
    ARGV[5] the record the caller read, as stored ("" when there was none)
    ARGV[6] the run's record to write
    ARGV[7] writes kept in the recent list

  Output: { code, Redis's time in epoch ms }
    1  claimed: the lease is the caller's and the record written
    0  another instance holds the lease
   -1  the record changed since the caller read it
   -2  the interval has not ended by Redis's clock
]]
local rcall = redis.call
local runsKey = KEYS[1]
local recentKey = KEYS[2]
local leaseKey = KEYS[3]

local time = rcall("TIME")
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if nowMs < tonumber(ARGV[4]) then return { -2, nowMs } end
if rcall("EXISTS", leaseKey) == 1 then return { 0, nowMs } end
local current = rcall("HGET", runsKey, ARGV[3])
if (current or "") ~= ARGV[5] then return { -1, nowMs } end

rcall("SET", leaseKey, ARGV[1], "PX", ARGV[2])
rcall("HSET", runsKey, ARGV[3], ARGV[6])
rcall("LPUSH", recentKey, ARGV[6])
rcall("LTRIM", recentKey, 0, tonumber(ARGV[7]) - 1)
return { 1, nowMs }
