--[[
  Formats a number so that it reads back exactly: the short form when it round-trips, 17 digits otherwise.
]]
local function num(x)
  local s = string.format("%.15g", x)
  if tonumber(s) ~= x then s = string.format("%.17g", x) end
  return s
end
