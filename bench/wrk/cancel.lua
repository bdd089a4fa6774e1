-- Cancel reservations through the page's endpoint, as htmx does, each one as its own patient.
-- Usage: wrk ... -s cancel.lua URL -- <targets file> <csrf token> <wrk threads>
--        <session cookie name> <csrf cookie name> [<every how many targets one is sent twice>]
-- The targets file has one "<session key> <reservation id>" per line. Each target is cancelled
-- once, and every Nth (default 10) is sent twice in a row, on two connections at once, usually:
-- racing cancels are part of the load, and afterwards each target must have exactly one
-- cancellation event.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  targets = {}
  local i = 0
  local nthreads = tonumber(args[3])
  for line in io.lines(args[1]) do
    local key, pk = line:match("^(%S+)%s+(%S+)$")
    if key then
      -- Each thread takes its own share of the targets.
      if i % nthreads == tid then table.insert(targets, { key = key, pk = pk }) end
      i = i + 1
    end
  end
  local every = tonumber(args[6] or "10")
  sequence = {}
  for j, t in ipairs(targets) do
    table.insert(sequence, t)
    if j % every == 1 then table.insert(sequence, t) end
  end
  token = args[2]
  session_cookie = args[4] or "sessionid"
  csrf_cookie = args[5] or "csrftoken"
  n = 0
  n5xx = 0
end

function request()
  local t = sequence[(n % #sequence) + 1]
  n = n + 1
  return wrk.format("POST", "/reservations/" .. t.pk .. "/cancel/", {
    ["Cookie"] = session_cookie .. "=" .. t.key .. "; " .. csrf_cookie .. "=" .. token,
    ["X-CSRFToken"] = token,
    ["HX-Request"] = "true",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "")
end

function response(status, headers, body)
  if status >= 500 then n5xx = n5xx + 1 end
end

function done(summary, latency, requests)
  local five = 0
  for _, t in ipairs(threads) do five = five + t:get("n5xx") end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "status_5xx": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status, five,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
