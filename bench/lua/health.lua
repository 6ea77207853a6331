-- GET /health: the load balancer's probe (database and rate-limit storage checks).
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx = 0
local req

function init(args)
  req = wrk.format("GET", "/health")
end

function request()
  return req
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
