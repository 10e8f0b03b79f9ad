// Private to http/: the dashboard's built files (http/web/dist), embedded at build time by
// cmake/EmbedFiles.cmake. Served by http/static.cc.
#pragma once

#include <span>
#include <string_view>

namespace foresight::http {

struct WebAsset {
  std::string_view path;  // "/index.html", "/app-<hash>.js"
  std::string_view content_type;
  std::string_view data;
};

// Every embedded file, in name order.
std::span<const WebAsset> WebAssets();

}  // namespace foresight::http
