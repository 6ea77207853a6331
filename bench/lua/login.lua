-- POST /api/v1/auth/login (bearer transport), cycling through the seeded accounts.
-- args: the file of "email password" lines. Rate limits are off for the bench.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx = 0
local requests, index = {}, 0

function init(args)
  for _, pair in ipairs(common.read_lines(args[1], true)) do
    local body = string.format('{"email": "%s", "password": "%s"}', pair[1], pair[2])
    table.insert(requests, wrk.format("POST", "/api/v1/auth/login", {
      ["Content-Type"] = "application/json",
      ["X-Auth-Mode"] = "bearer",
    }, body))
  end
  index = thread_id
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
