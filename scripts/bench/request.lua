-- wrk request script: one fixed request whose method, headers and body come from the
-- environment, so that every route of the benchmark is driven by the same script.
--
--   BENCH_METHOD        HTTP method (default POST)
--   BENCH_BODY_FILE     file whose bytes are sent as the body (optional)
--   BENCH_BODY          literal body, used when BENCH_BODY_FILE is not set (optional)
--   BENCH_CONTENT_TYPE  Content-Type header (optional)
--   BENCH_AUTHORIZATION Authorization header value, e.g. "Bearer ..." or "Basic ..." (optional)

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open BENCH_BODY_FILE " .. path)
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = os.getenv("BENCH_METHOD") or "POST"

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  wrk.body = read_file(body_file)
else
  wrk.body = os.getenv("BENCH_BODY")
end

local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end

local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

-- BENCH_FRESH=1: every request a new package from the body: the recipient's ids and email
-- and every credential's id (each number of 13 or more digits) get a suffix unique to this
-- request (BENCH_RUN, the thread, a counter), so each upload is a new person's new
-- credentials, as a partner's push of a term's results is.
if os.getenv("BENCH_FRESH") == "1" then
  local template = wrk.body
  local run = os.getenv("BENCH_RUN") or tostring(os.time())
  local sent = 0
  function request()
    sent = sent + 1
    local tag = run .. "-" .. tostring(thread_index or 0) .. "-" .. tostring(sent)
    local body = template:gsub('"(%d%d%d%d%d%d%d%d%d%d%d%d%d+)"', '"%1-' .. tag .. '"')
    body = body:gsub('"jsmith@', '"jsmith+' .. tag .. '@')
    return wrk.format(nil, nil, nil, body)
  end
end
