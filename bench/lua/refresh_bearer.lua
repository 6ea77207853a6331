-- POST /api/v1/auth/refresh-token, bearer transport, along rotation chains.
-- args: the file of chain heads (one refresh token per line). Every refresh token is
-- presented exactly once: request() takes a token off this thread's queue and
-- response() puts the rotated one from the JSON body back, so no token is reused
-- (reuse would revoke the session and measure something else). Which connection a
-- response belongs to does not matter: a token in the queue is always unused.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "common.lua")
setup, done = common.setup, common.done

non2xx, exhausted = 0, 0
local queue, head, tail = {}, 1, 0

function init(args)
  local chains = common.read_lines(args[1])
  for _, token in ipairs(common.slice(chains, thread_id, tonumber(args[2]))) do
    tail = tail + 1
    queue[tail] = token
  end
end

function request()
  local token = "none-left"  -- only when every chain of this thread broke
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    exhausted = exhausted + 1
  end
  return wrk.format("POST", "/api/v1/auth/refresh-token",
    { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  local token = body:match('"refreshToken"%s*:%s*"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end
