--[[
  Finds a key that holds another type than the script will write to it, before anything is written: Redis does
  not roll back a script that fails half-way, so a WRONGTYPE error in the middle would leave half a batch
  applied without its offset.
  Input: a flat list {key, expected type ("hash", "list", "stream"), ...}
  Returns the first key whose type is neither "none" nor the expected one, or nil.
]]
local function wrongTypeKey(expected)
  for i = 1, #expected, 2 do
    local t = rcall("TYPE", expected[i]).ok
    if t ~= "none" and t ~= expected[i + 1] then return expected[i] end
  end
  return nil
end
