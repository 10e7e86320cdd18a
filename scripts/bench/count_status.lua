-- wrk script: the request from request.lua, plus a count of responses by status.
-- done() prints one machine-readable line that scripts/bench/upload.sh reads:
--
--   BENCH requests=N duration_us=N rps=X p50_us=N p99_us=N non2xx=N statuses=200:N,...
--         socket_errors=connect:N,read:N,write:N,timeout:N

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "request.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  -- request.lua's fresh bodies tell the threads apart by this.
  thread:set("thread_index", #threads)
end

-- Per-thread state (each wrk thread runs its own copy of this script).
statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(totals) do table.insert(codes, status) end
  table.sort(codes)
  local parts, non2xx = {}, 0
  for _, status in ipairs(codes) do
    table.insert(parts, string.format("%d:%d", status, totals[status]))
    if status < 200 or status > 299 then non2xx = non2xx + totals[status] end
  end
  local e = summary.errors
  local rps = summary.requests / (summary.duration / 1e6)
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d statuses=%s socket_errors=connect:%d,read:%d,write:%d,timeout:%d\n",
    summary.requests, summary.duration, rps,
    latency:percentile(50), latency:percentile(99),
    non2xx, (#parts > 0 and table.concat(parts, ",") or "none"),
    e.connect, e.read, e.write, e.timeout))
  if non2xx > 0 then
    io.write(string.format("non-2xx responses: %d (%s)\n", non2xx, table.concat(parts, ", ")))
  end
end
