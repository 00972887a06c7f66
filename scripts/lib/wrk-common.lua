-- Shared by the wrk scripts of scripts/bench-api-load: per-thread seeding and a machine-readable summary.
-- Loaded with dofile() from the directory of the calling script (wrk runs every script once per thread).
local M = {}

local threads = {}
local counter = 0

-- setup() runs in the main Lua state once per thread: give each thread its own id (and so its own seed).
function M.setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

function M.seed()
  local id = tonumber(thread_id) or 0
  math.randomseed(os.time() + id * 7919)
  for _ = 1, 10 do math.random() end
end

-- done() runs once at the end: one JSON line with the percentiles (microseconds) for harnesses, after wrk's own
-- --latency table.
function M.done(name)
  return function(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format(
      '{"bench":"%s","requests":%d,"seconds":%.2f,"rps":%.1f,"non2xx":%d,"socketErrors":%d,' ..
      '"latencyUs":{"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
      name, summary.requests, seconds, summary.requests / seconds, summary.errors.status, errors,
      latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
  end
end

-- This file's directory, for loading data files next to the scripts.
function M.dir()
  local src = debug.getinfo(1, "S").source
  return src:match("^@(.*/)") or "./"
end

return M
