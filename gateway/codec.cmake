# chat_codec: the gateway's parsers of untrusted input (client frames, tokens,
# request targets, whole HTTP requests, stream parameters, WebSocket frames).
# No sockets and no actor runtime: the gateway links it, and so do its unit
# tests and the fuzz targets (tests/fuzz), which build it with their own flags.
# It sees the actors' message headers only (no compiled actor code).
function(chat_add_codec)
  set(dir ${PROJECT_SOURCE_DIR}/gateway)
  add_library(chat_codec STATIC
    ${dir}/src/auth.cpp
    ${dir}/src/codec.cpp
    ${dir}/src/http_query.cpp
    ${dir}/src/http_request.cpp
    ${dir}/src/stream_format.cpp
    ${dir}/src/ws_protocol.cpp)
  target_include_directories(chat_codec
    PUBLIC ${dir}/include ${PROJECT_SOURCE_DIR}/actors/include
           ${PROJECT_SOURCE_DIR}/storage/include ${PROJECT_SOURCE_DIR}/runtime/include)
  target_link_libraries(chat_codec
    PUBLIC Boost::headers CAF::core cereal::cereal
    PRIVATE nlohmann_json::nlohmann_json OpenSSL::Crypto PkgConfig::JWT)
endfunction()
