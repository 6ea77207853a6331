-- POST /api/v1/auth/refresh-token, cookie transport (refresh cookie + X-CSRF-TOKEN).
-- args: the pool file ("refresh_token csrf" per line) and the thread count.
-- wrk gives response() a Lua table of headers in which the last Set-Cookie wins (the
-- csrf cookie), so the rotated refresh cookie cannot be followed; instead each thread
-- takes its own slice of a pool of cookie sessions and presents each token once.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx, exhausted = 0, 0
local pool, index = {}, 0

function init(args)
  pool = common.slice(common.read_lines(args[1], true), thread_id, tonumber(args[2]))
end

function request()
  index = index + 1
  local pair = pool[index]
  if pair == nil then
    exhausted = exhausted + 1
    pair = { "none-left", "none-left" }
  end
  return wrk.format("POST", "/api/v1/auth/refresh-token", {
    ["Cookie"] = "refresh_token=" .. pair[1] .. "; csrf_refresh_token=" .. pair[2],
    ["X-CSRF-TOKEN"] = pair[2],
  })
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
