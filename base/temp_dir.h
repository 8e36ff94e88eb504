#pragma once
// TempDir: for tests, a fresh directory under the system's temporary
// directory ($TMPDIR or /tmp), removed with everything in it when the
// TempDir is destroyed.

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace shoal {

class TempDir {
 public:
  // `prefix` starts the directory's name ("shoal-blob" → /tmp/shoal-blob-Ab3xYz).
  // Throws std::system_error if it cannot be made (a test then fails).
  explicit TempDir(std::string_view prefix = "shoal-test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    }
    path_ = std::move(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shoal
