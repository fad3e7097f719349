# Turns a web asset into a C++ source holding it as a string constant:
#   cmake -DINPUT=... -DOUTPUT=... -DNAME=... -P embed.cmake
file(READ "${INPUT}" content)
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by gateway/web/embed.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace chat::gateway::web {\n"
  "extern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME} = R\"chatweb(${content})chatweb\";\n"
  "}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
