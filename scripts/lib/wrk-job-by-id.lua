-- wrk script: GET /v1/jobs/{id} with ids uniform in 1..JOBS (default 1,000,000: scripts/lib/seed-jobs.sql).
--
-- Usage: JOBS=1000000 wrk -t2 -c32 -d30s --latency -s scripts/lib/wrk-job-by-id.lua http://127.0.0.1:PORT
-- wrk prints its latency distribution (p50/p75/p90/p99) with --latency; this script adds one JSON summary line.
-- Non-2xx answers are counted by wrk ("Non-2xx or 3xx responses") and in the summary's "non2xx".
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "wrk-common.lua")

local jobs = tonumber(os.getenv("JOBS") or "") or 1000000
local prefix = os.getenv("API_PREFIX") or "/v1"

setup = common.setup

function init(args)
  common.seed()
end

function request()
  return wrk.format("GET", prefix .. "/jobs/" .. math.random(1, jobs))
end

done = common.done("job-by-id")
