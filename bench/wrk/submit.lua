-- wrk script: POST varied valid intakes to /api/v1/intakes, then print one JSON line of results.
--
-- The bodies come from a file of JSON documents, one a line: the path is the first argument
-- after `--` on the wrk command line, or the environment variable WRK_BODIES. Each thread
-- cycles through them from its own starting point, so threads do not send in step.
-- Non-2xx answers are errors (wrk counts status >= 400 in summary.errors.status).

local threads_made = 0

function setup(thread)
  -- Runs in the main Lua state; `thread_id` becomes a global of that thread's own state.
  thread:set("thread_id", threads_made)
  threads_made = threads_made + 1
end

local requests = {}
local next_request = 1

function init(args)
  local path = args[1] or os.getenv("WRK_BODIES")
  if not path then
    error("give the bodies file: wrk ... -s submit.lua URL -- BODIES, or WRK_BODIES=BODIES")
  end
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(path) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("POST", "/api/v1/intakes", headers, line)
    end
  end
  if #requests == 0 then
    error("no bodies in " .. path)
  end
  next_request = ((thread_id or 0) * 97) % #requests + 1
end

function request()
  local chosen = requests[next_request]
  next_request = next_request % #requests + 1
  return chosen
end

function done(summary, latency, _)
  local ms = function(microseconds) return microseconds / 1000 end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.6f, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), ms(latency.mean)
  ))
end
