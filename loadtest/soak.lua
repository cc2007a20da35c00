-- Mixed API traffic for wrk. Requests come from SOAK_REQUESTS_FILE: one request per line,
-- "METHOD<TAB>PATH<TAB>BODY" (BODY may be empty); headers are set from SOAK_SECRET.
local requests_file = os.getenv("SOAK_REQUESTS_FILE")
local secret = os.getenv("SOAK_SECRET")
local threads = {}
local prepared = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  local lines = {}
  for line in io.lines(requests_file) do
    local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = { ["X-LoginRadius-ApiSecret"] = secret }
    if body ~= nil and body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    table.insert(lines, wrk.format(method, path, headers, body))
  end
  prepared = lines
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  return prepared[math.random(#prepared)]
end

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
  io.write("SOAK-STATUS")
  for status, n in pairs(totals) do
    io.write(string.format(" %d=%d", status, n))
  end
  io.write("\n")
  io.write(string.format("SOAK-LATENCY-MS p50=%.2f p95=%.2f p99=%.2f max=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("SOAK-TOTAL requests=%d duration_s=%.1f rps=%.1f socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
