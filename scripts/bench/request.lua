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
--
-- The body is cut once, where the suffixes go, and each request joins the pieces with its
-- tag: the load generator shares the machine's cores with the server, and matching the
-- patterns over the whole body for every request cost it more than the join.
--
-- BENCH_FRESH=twice: as 1, but the tag leaves out the thread, so each of wrk's threads sends
-- the same new packages in the same order: every package sent twice, at about the same
-- moment, as by a partner whose retries overlap the first attempts.
local fresh = os.getenv("BENCH_FRESH")
if fresh == "1" or fresh == "twice" then
  -- "\1" marks where a tag goes (no JSON body holds that byte unescaped).
  local marked = wrk.body:gsub('"(%d%d%d%d%d%d%d%d%d%d%d%d%d+)"', '"%1-\1"')
  marked = marked:gsub('"jsmith@', '"jsmith+\1@')
  local pieces = {}
  for piece in (marked .. "\1"):gmatch("([^\1]*)\1") do
    table.insert(pieces, piece)
  end
  local run = os.getenv("BENCH_RUN") or tostring(os.time())
  local sent = 0
  local parts = {}
  function request()
    sent = sent + 1
    local thread = fresh == "twice" and "twice" or tostring(thread_index or 0)
    local tag = run .. "-" .. thread .. "-" .. tostring(sent)
    for i, piece in ipairs(pieces) do
      parts[2 * i - 1] = piece
      parts[2 * i] = tag
    end
    parts[2 * #pieces] = nil
    return wrk.format(nil, nil, nil, table.concat(parts))
  end
end
