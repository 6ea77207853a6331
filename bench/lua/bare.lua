-- GET /bare on the reference app (bench/bare.py): a constant JSON body; or the path
-- given as the script's argument (GET /health, the load balancer's probe).
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx = 0
local req

function init(args)
  req = wrk.format("GET", args[1] or "/bare")
end

function request()
  return req
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
