# Fails when a module includes a header it may not (the table in ../shared/DESIGN.md).
# Run as: cmake -DROOT=<repo> -P cmake/CheckLayering.cmake
#
# Rules:
#  - a module may include only the public headers of the modules it may use;
#  - tools/ (main() and the subcommands) may use every module, through its public header only;
#  - the public headers are listed in PublicHeaders.cmake: <module>/<module>.h, plus
#    storage/log.h (the shared logging seam);
#  - inside its own folder a module may include anything.
set(allowed_storage "")
set(allowed_query storage)
set(allowed_ingest storage query)
set(allowed_ml storage query)
set(allowed_http storage query ingest ml)
set(allowed_tools storage query ingest ml http)
set(modules storage query ingest ml http tools)
include(${CMAKE_CURRENT_LIST_DIR}/PublicHeaders.cmake)
set(public_headers ${FORESIGHT_PUBLIC_HEADERS})

set(violations "")
foreach(module IN LISTS modules)
  file(GLOB_RECURSE files ${ROOT}/${module}/*.h ${ROOT}/${module}/*.cc)
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[^\"]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" header "${line}")
      string(REGEX MATCH "^[a-z]+/" prefix "${header}")
      string(REPLACE "/" "" target "${prefix}")
      if(target STREQUAL "" OR target STREQUAL module)
        continue()
      endif()
      list(FIND modules ${target} is_module)
      if(is_module EQUAL -1)
        continue()
      endif()
      file(RELATIVE_PATH rel ${ROOT} ${file})
      list(FIND allowed_${module} ${target} ok)
      if(ok EQUAL -1)
        list(APPEND violations "${rel}: ${module}/ may not depend on ${target}/ (\"${header}\")")
        continue()
      endif()
      list(FIND public_headers ${header} is_public)
      if(is_public EQUAL -1)
        list(APPEND violations "${rel}: \"${header}\" is private to ${target}/; include its public header")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "Layering violations:\n  ${text}")
endif()
