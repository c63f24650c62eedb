-- Shared by the per-format scripts: POST the body in $BODY_FILE, print latency percentiles as JSON.
local function read_body()
  local path = os.getenv("BODY_FILE")
  local handle = assert(io.open(path, "rb"), "BODY_FILE not readable: " .. tostring(path))
  local body = handle:read("*a")
  handle:close()
  return body
end

function setup_post(content_type)
  wrk.method = "POST"
  wrk.body = read_body()
  wrk.headers["Content-Type"] = content_type
end

non_200 = 0
function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
