-- wrk script for the service's load benchmark (scripts/load/run.py runs it).
--
--   wrk -t 2 -c 16 -d 60s --latency -s scripts/load/related.lua URL -- MODE FILE [K]
--
-- MODE "related": GET /articles/{id}/related?k=K, the id drawn at random from FILE (one
--                 article id a line: the ids of the model served);
--      "explain": the same with &explain=true;
--      "text":    POST /related?k=K, the body drawn at random from FILE (one JSON article
--                 a line).
-- Ids are percent-encoded, so any id is one path segment.
--
-- wrk counts only socket errors and timeouts as errors; a 4xx or 5xx answer is a
-- "request" like any other. The response hook counts every answer outside 2xx, and done()
-- prints the total over the threads on a line of its own: "non-2xx: N".

local threads = {}

function setup(thread)
  thread:set("seed", #threads + 1)
  table.insert(threads, thread)
end

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  mode = args[1] or "related"
  local file = args[2] or error("usage: -- MODE FILE [K]")
  k = tonumber(args[3] or "5")
  lines = {}
  for line in io.lines(file) do
    if #line > 0 then
      table.insert(lines, mode == "text" and line or encode(line))
    end
  end
  if #lines == 0 then error(file .. " has no line") end
  math.randomseed(os.time() * 1000 + seed)
  non2xx = 0
  headers = {["Content-Type"] = "application/json"}
end

function request()
  local line = lines[math.random(#lines)]
  if mode == "text" then
    return wrk.format("POST", "/related?k=" .. k, headers, line)
  end
  local path = "/articles/" .. line .. "/related?k=" .. k
  if mode == "explain" then path = path .. "&explain=true" end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
  end
  io.write(string.format("non-2xx: %d\n", total))
end
