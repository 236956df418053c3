-- Records sessions into many open series: request n goes to series n mod N, so each series receives its
-- sessions one after another, spread out. Beyond 5 x N requests every answer is the refusal (409) and
-- shows as non-2xx: bench/load.sh opens enough series that a run does not get there.
local ids = {}
local counter = 0
threads_total = 1
thread_index = 0 -- set per thread by setup()
local serial = 0

setup = function(thread)
   thread:set("thread_index", serial)
   serial = serial + 1
end

init = function(args)
   for line in io.lines(os.getenv("BENCH_SERIES_FILE")) do ids[#ids + 1] = line end
   threads_total = tonumber(os.getenv("BENCH_THREADS"))
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
   wrk.body = string.format('{"performed_on":"%s","treatment_areas":["cheeks","forehead"],'
      .. '"eye_area":false,"device":"pen","needle_depth_mm":0.5,"products_applied":["moisturizer","sunscreen"],'
      .. '"notes":"load test","acknowledge_beyond_typical":true,'
      -- The demo clinic has a consent form; the benchmark's patients have not signed it.
      .. '"consent_override_reason":"load test"}', os.getenv("BENCH_TODAY"))
end

request = function()
   local n = counter * threads_total + thread_index
   counter = counter + 1
   local id = ids[(n % #ids) + 1]
   return wrk.format(nil, "/api/v1/series/" .. id .. "/sessions")
end
