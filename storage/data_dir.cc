// The checks a data directory must pass before RocksDB opens it.
#include "storage/engine.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace foresight::storage {

namespace fs = std::filesystem;
Status CheckDataDirectory(const std::string& path, bool create_if_missing) {
  auto fail = [&path](const std::string& reason) {
    return Status::IOError("cannot open data directory '" + path + "': " + reason);
  };
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return fail(std::strerror(errno));
    if (!create_if_missing) return fail("it does not exist");
    fs::path parent = fs::absolute(path).parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) {
      return fail("it does not exist and its parent '" + parent.string() + "' is not a directory");
    }
    if (::mkdir(path.c_str(), 0755) != 0)
      return fail(std::string("mkdir: ") + std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    return fail("it is not a directory");
  }
  // access(2) is not enough: it ignores read-only mounts for root and ACL subtleties. Try it.
  std::string probe = path + "/.write-probe";
  int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(std::string("it is not writable: ") + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::OK();
}

}  // namespace foresight::storage
