-- wrk script of benchmarks/load.py: every request is a GET of $BENCH_PATH carrying the Cookie
-- header $BENCH_COOKIE (one fixed session); done() prints one "BENCH {json}" line with the
-- totals, the latency percentiles (µs) and the number of 2xx responses, summed over threads.

wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH") or "/write"
local cookie = os.getenv("BENCH_COOKIE") or ""
if cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Each thread runs in its own Lua state: this counter is per thread; done() adds them up.
ok = 0

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local total_ok = 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "ok2xx": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, total_ok, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
