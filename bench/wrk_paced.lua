-- Each connection waits 10 ms between requests: with 10 connections, about 1,000 requests/s.
function delay()
  return 10
end
