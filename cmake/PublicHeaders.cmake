# The one list of public headers: the only files of a module that another may include. Read by
# the top-level CMakeLists.txt (each must compile on its own) and by CheckLayering.cmake.
set(FORESIGHT_PUBLIC_HEADERS storage/storage.h storage/backup.h storage/json.h storage/log.h storage/sync.h query/query.h
  ingest/ingest.h
  ml/ml.h http/http.h)
