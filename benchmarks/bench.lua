-- wrk script: print one JSON line with the figures the scale benchmark records.
-- Latencies are in microseconds; non-2xx/3xx answers are counted, and fail the run.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"bad_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, errors))
end
