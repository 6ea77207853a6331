-- GET /api/v1/users/me, cycling through the access tokens of many users.
-- args: the token file (one access token per line).
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx = 0
local requests, index = {}, 0

function init(args)
  for _, token in ipairs(common.read_lines(args[1])) do
    table.insert(requests, wrk.format("GET", "/api/v1/users/me",
      { ["Authorization"] = "Bearer " .. token }))
  end
  index = thread_id  -- threads start at different users
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
