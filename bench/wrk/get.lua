-- GET a path as many different logged-in patients, one session cookie after another.
-- Usage: wrk ... -s get.lua URL -- <sessions file> <path, with {client} for the patient's id>
--        <session cookie name> [<csrf cookie name>=<token>: the one a browser holds]
-- The sessions file has one "<session key> <user id>" per line; "none" sends no cookie at all.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  sessions = {}
  if args[1] == "none" then sessions = { { key = nil, client = "" } } end
  for line in (args[1] == "none" and function() return nil end or io.lines(args[1])) do
    local key, client = line:match("^(%S+)%s+(%S+)$")
    if key then table.insert(sessions, { key = key, client = client }) end
  end
  template = args[2]
  cookie = (args[3] or "sessionid") .. "="
  csrf = args[4] and ("; " .. args[4]) or ""
  n = tid * 7919 -- threads start at different patients
end

function request()
  n = n + 1
  local s = sessions[(n % #sessions) + 1]
  local path = template:gsub("{client}", s.client)
  if s.key == nil then return wrk.format("GET", path) end
  return wrk.format("GET", path, { ["Cookie"] = cookie .. s.key .. csrf })
end

-- No response() function: wrk then skips handing every header and body to Lua, which for a
-- 30 kB page cost the load generator (on the same two cores as the server) more than the
-- server's own work. Statuses are still counted: any 5xx is among the non-2xx/3xx.

function done(summary, latency, requests)
  -- Without response(), 5xx cannot be told apart: every non-2xx/3xx is counted as one.
  local five = summary.errors.status
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "status_5xx": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status, five,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
