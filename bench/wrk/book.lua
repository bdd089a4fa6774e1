-- Book free slots through the booking page's form, each slot asked for by two patients at once.
-- Usage: wrk ... -s book.lua URL -- <targets file> <csrf token> <wrk threads>
--        <session cookie name> <csrf cookie name>
-- The targets file has one "<session key A> <session key B> <professional id> <start> <modality>"
-- per line (start as 2026-12-10T12:00Z). A asks for the slot and B for the same one right after, on another connection,
-- usually while A's booking is still in its transaction: exactly one of them may get it (a
-- redirect to the new session, 302) and the other is told it is taken (409). Each target is sent
-- once; a thread that runs out of targets sends /livez instead, and the run says so (the
-- data set needs more bookers).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  sequence = {}
  local i = 0
  local nthreads = tonumber(args[3])
  for line in io.lines(args[1]) do
    local a, b, pro, start, modality = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)$")
    if a then
      if i % nthreads == tid then
        local body = "start=" .. start .. "&modality=" .. modality
        table.insert(sequence, { key = a, pro = pro, body = body })
        table.insert(sequence, { key = b, pro = pro, body = body })
      end
      i = i + 1
    end
  end
  token = args[2]
  session_cookie = args[4] or "sessionid"
  csrf_cookie = args[5] or "csrftoken"
  total = #sequence
  n = 0
  won, refused, other, n5xx = 0, 0, 0, 0
end

function request()
  n = n + 1
  if n > total then
    -- Out of targets: an anonymous GET of /livez keeps wrk's connection busy without booking.
    return wrk.format("GET", "/livez")
  end
  local t = sequence[n]
  return wrk.format("POST", "/book/" .. t.pro .. "/", {
    ["Cookie"] = session_cookie .. "=" .. t.key .. "; " .. csrf_cookie .. "=" .. token,
    ["X-CSRFToken"] = token,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, t.body)
end

function response(status, headers, body)
  if status == 302 then won = won + 1
  elseif status == 409 then refused = refused + 1
  elseif status ~= 200 then other = other + 1 end
  if status >= 500 then n5xx = n5xx + 1 end
end

function done(summary, latency, requests)
  local w, r, o, five, sent = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    w = w + t:get("won")
    r = r + t:get("refused")
    o = o + t:get("other")
    five = five + t:get("n5xx")
    sent = sent + math.min(t:get("n"), t:get("total"))
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "status_5xx": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "won": %d, ' ..
    '"refused": %d, "sent": %d}\n',
    summary.requests, summary.duration, o, five,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), w, r, sent))
end
