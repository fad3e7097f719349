// libFuzzer target: whole HTTP requests (request line, headers, Content-Length
// and chunked bodies, chunk extensions, trailers) through the parser the
// gateway reads with: Beast's request_parser with the gateway's limits, its
// bounded read buffer, and its checks. Nothing may throw (a 64 KiB trailer
// field once aborted the node through Beast's length_error), and whatever is
// accepted keeps within the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_request.hpp"

namespace hr = chat::gateway::http_request;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  hr::request req;
  try {
    auto why = hr::read_for_test(bytes, req);
    if (why.empty()) {
      if (req.body().size() > hr::body_limit)
        std::abort();
      if (req.count(boost::beast::http::field::host) > 1)
        std::abort();
    }
  } catch (...) {
    std::abort(); // in the node this would be an uncaught exception on an io thread
  }
  return 0;
}
