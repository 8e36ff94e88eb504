#include "store/store_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/file_util.h"

namespace shoal::store {

namespace {

constexpr const char* kFormatLine = "shoal-store 1\n";

Status Refuse(std::string msg) {
  return {Code::kInvalidRequest, std::move(msg)};
}

bool IsEmptyDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return PosixError("mkdir " + path, errno);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<StoreDir>> StoreDir::Open(const std::string& path_in, Mode mode) {
  char* resolved = ::realpath(path_in.c_str(), nullptr);
  std::string path = path_in;
  if (resolved == nullptr) {
    if (errno != ENOENT) return Refuse("cannot use store " + path_in + ": " + std::strerror(errno));
    if (mode == Mode::kMustExist) return Refuse("there is no store at " + path_in);
    if (::mkdir(path_in.c_str(), 0700) != 0) {
      return Refuse("cannot create store " + path_in + ": " + std::strerror(errno) +
                    " (does its parent directory exist and is it writable?)");
    }
    resolved = ::realpath(path_in.c_str(), nullptr);
    if (resolved == nullptr) return Refuse("cannot resolve store " + path_in);
  }
  path = resolved;
  std::free(resolved);

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Refuse("store " + path + " is not a directory");
  }
  if (::access(path.c_str(), R_OK | W_OK | X_OK) != 0) {
    return Refuse("store " + path + " is not writable by this user");
  }

  const std::string format_path = path + "/FORMAT";
  auto format = ReadFile(format_path);
  if (!format.ok()) {
    if (mode == Mode::kMustExist) return Refuse(path + " is not a shoal store (no FORMAT file)");
    if (!IsEmptyDir(path)) {
      return Refuse("store " + path +
                    " is not empty and has no FORMAT file; it is not a shoal store");
    }
  } else if (*format != kFormatLine) {
    std::string first = format->substr(0, format->find('\n'));
    return Refuse("store " + path + " has unknown format '" + first +
                  "'; this shoal reads 'shoal-store 1'");
  }

  const std::string lock_path = path + "/LOCK";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return Refuse("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    auto holder = ReadFile(lock_path);
    std::string pid = holder.ok() ? holder->substr(0, holder->find('\n')) : "?";
    return Refuse("store " + path + " is in use by another shoal process (pid " + pid +
                  "); unmount it first");
  }
  std::unique_ptr<StoreDir> dir(new StoreDir(path, std::move(lock)));
  Status s = dir->RecordOwner();
  if (!s.ok()) return s;

  for (const char* sub : {"/meta", "/blobs", "/staging"}) {
    s = MakeDir(path + sub);
    if (!s.ok()) return s;
  }
  if (!format.ok()) {
    s = WriteFileDurably(format_path, kFormatLine, 0600);
    if (!s.ok()) return s;
  }
  return dir;
}

Status StoreDir::RecordOwner() const {
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.get(), 0) != 0) return PosixError("truncate " + path_ + "/LOCK", errno);
  return PwriteAll(lock_.get(), pid, 0, path_ + "/LOCK");
}

}  // namespace shoal::store
