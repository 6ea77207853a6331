-- POST /api/v1/auth/login (bearer transport), cycling through the seeded accounts.
-- args: the file of "email password" lines. Rate limits are off for the bench.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx = 0
busy = 0
local requests, index = {}, 0
-- A 503 `busy` (the worker's bcrypt queue is full) asks to come back after
-- Retry-After seconds: this connection waits that long, as a client should.
local wait_ms = 0

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

function delay()
  local ms = wait_ms
  wait_ms = 0
  return ms
end

function response(status, headers, body)
  -- 503 `busy` (the bcrypt queue is full) and 429 (another login of the same
  -- account is being checked): both say to come back after Retry-After.
  if (status == 503 and body:find('"busy"', 1, true)) or status == 429 then
    busy = busy + 1
    wait_ms = 1000 * (tonumber(headers["Retry-After"]) or 1)
  elseif status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
