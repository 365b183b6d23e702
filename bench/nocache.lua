-- wrk script for bench/throughput.py: append a unique `nocache=N` query parameter to every
-- request so checkd's response cache never answers it (each request runs the SQL query).
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = tid * 100000000
end

function request()
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "nocache=" .. counter)
end
