-- Drives one benchmark operation from a request file.
--   wrk -s requests.lua URL -- FILE [chain PATH_PREFIX | post]
-- FILE: optional "#H Name: value" lines (headers on every request), then one request per
-- line: "PATH" or "PATH<TAB>Name: value" (a header for that request only). Each thread
-- starts at its own offset and cycles through the lines.
-- chain mode (refresh-token rotation): each line is a refresh token; a request sends
-- PATH_PREFIX .. token, and the refresh_token of its answer is queued for a later request,
-- so every token is presented once, as a real client would.
-- post mode (sign-in): each line is "PATH<TAB>BODY", sent as a POST with the file's headers.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local lines, headers, queue = {}, {}, {}
local pos, mode, prefix = 1, "list", ""

function init(args)
  local file = args[1]
  mode = args[2] or "list"
  prefix = args[3] or ""
  for line in io.lines(file) do
    local name, value = line:match("^#H ([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    elseif #line > 0 then
      table.insert(lines, line)
    end
  end
  local n = #lines
  if mode == "chain" then
    -- A disjoint slice of the tokens per thread.
    local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
    for i = id, n, nthreads do table.insert(queue, lines[i]) end
  else
    pos = ((id - 1) * 7919) % math.max(n, 1) + 1
  end
end

function request()
  if mode == "chain" then
    local token = table.remove(queue, 1)
    if token == nil then token = "exhausted" end
    return wrk.format("GET", prefix .. token, headers)
  end
  local line = lines[pos]
  pos = pos % #lines + 1
  local path, extra = line:match("^([^\t]+)\t(.*)$")
  if mode == "post" then return wrk.format("POST", path, headers, extra) end
  if path == nil then return wrk.format("GET", line, headers) end
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  h[name] = value
  return wrk.format("GET", path, h)
end

-- Answers other than 2xx (wrk itself counts only 4xx and 5xx): a redirect is no answer.
not_ok = 0

function response(status, hdrs, body)
  if status < 200 or status > 299 then not_ok = not_ok + 1 end
  if mode == "chain" and status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then table.insert(queue, token) end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local not_2xx = 0
  for _, thread in ipairs(threads) do not_2xx = not_2xx + (thread:get("not_ok") or 0) end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"not_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout, not_2xx))
end
