-- wrk script: requests the paths listed one a line in the file named by $PATHS, in turn, and
-- prints one summary line that scripts/bench/compare.sh reads.
local list, next = {}, 0
for p in io.lines(os.getenv("PATHS")) do list[#list + 1] = p end

request = function()
  next = next % #list + 1
  return wrk.format("GET", list[next])
end

done = function(s, latency, _)
  local failed = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
  io.write(string.format("SUMMARY rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d failed=%d bytes=%.0f\n",
    s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    s.errors.status, failed, s.bytes / math.max(s.requests, 1)))
end
