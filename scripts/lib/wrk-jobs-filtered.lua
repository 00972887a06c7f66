-- wrk script: GET /v1/jobs?status=<random status>&limit=50, and on CLIENT_SHARE of the requests (default 0.3)
-- also &client=<random client>, the clients read from CLIENTS_FILE (one lowercase 0x address per line; without
-- it, status-only requests). Statuses are the schema's: open, assigned, submitted, disputed, paid, cancelled,
-- refunded, drawn uniformly, so rare ones (disputed: 1 % of the seeded jobs) are asked as often as common ones.
--
-- Usage: CLIENTS_FILE=clients.txt wrk -t2 -c32 -d30s --latency -s scripts/lib/wrk-jobs-filtered.lua http://127.0.0.1:PORT
-- Env: CLIENTS_FILE, CLIENT_SHARE (0..1), LIMIT (default 50), API_PREFIX (default /v1).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "wrk-common.lua")

local statuses = { "open", "assigned", "submitted", "disputed", "paid", "cancelled", "refunded" }
local limit = tonumber(os.getenv("LIMIT") or "") or 50
local share = tonumber(os.getenv("CLIENT_SHARE") or "") or 0.3
local prefix = os.getenv("API_PREFIX") or "/v1"
local clients = {}

local path = os.getenv("CLIENTS_FILE")
if path and path ~= "" then
  local f = io.open(path, "r")
  if not f then error("wrk-jobs-filtered: cannot open CLIENTS_FILE " .. path) end
  for line in f:lines() do
    local a = line:match("^%s*(0x%x+)%s*$")
    if a then clients[#clients + 1] = a:lower() end
  end
  f:close()
end

setup = common.setup

function init(args)
  common.seed()
end

function request()
  local p = prefix .. "/jobs?status=" .. statuses[math.random(#statuses)] .. "&limit=" .. limit
  if #clients > 0 and math.random() < share then
    p = p .. "&client=" .. clients[math.random(#clients)]
  end
  return wrk.format("GET", p)
end

done = common.done("jobs-filtered")
