-- Shared by the bench scripts: thread ids, the non-2xx count, and a JSON summary.
-- setup() and done() run in wrk's main Lua state; request()/response() in each
-- thread's own state, so the counters below are per thread and done() adds them up.
local common = {}
local threads = {}

function common.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- The lines of a file (tokens, or "a b" pairs when split is true).
function common.read_lines(path, split)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then
      if split then
        local a, b = line:match("^(%S+) (.+)$")
        table.insert(lines, { a, b })
      else
        table.insert(lines, line)
      end
    end
  end
  return lines
end

-- Every n-th item starting at the thread's own index: threads never share an item.
function common.slice(items, id, count)
  local mine = {}
  for i = id, #items, count do
    table.insert(mine, items[i])
  end
  return mine
end

function common.done(summary, latency, requests)
  local non2xx, exhausted, busy = 0, 0, 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("non2xx") or 0)
    exhausted = exhausted + (thread:get("exhausted") or 0)
    busy = busy + (thread:get("busy") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"exhausted":%d,'
      .. '"busy":%d,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"mean_us":%.0f,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, non2xx, exhausted, busy,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.timeout))
end

return common
