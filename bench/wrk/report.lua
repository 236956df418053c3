-- Appended to every load script: one machine-readable line per run.
done = function(summary, latency, requests)
   local seconds = summary.duration / 1e6
   io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n",
      summary.requests / seconds,
      latency:percentile(50) / 1000,
      latency:percentile(99) / 1000,
      summary.errors.status,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
