-- Signs in with the right password, over and over (argon2id verification each time). Each request comes
-- "from" another address (X-Forwarded-For; the server trusts 127.0.0.1 as a proxy in the benchmark), as
-- sign-ins of many people would: the limits allow 10 attempts in flight per account and address.
init = function(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
end

request = function()
   local headers = {}
   for k, v in pairs(wrk.headers) do headers[k] = v end
   headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
   return wrk.format(nil, nil, headers, nil)
end
