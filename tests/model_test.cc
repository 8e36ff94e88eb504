// Model-based random-operation test: applies the same seeded random sequence
// of file operations to a directory inside a shoal mount and to a plain
// directory, and after every step compares each operation's outcome (success
// or errno) and the whole tree (names, kinds, sizes, contents).
//
// usage: model_test MOUNT_DIR PLAIN_DIR [--seed=N] [--ops=N]
// Exit 0 when every step matched; otherwise prints the seed, the step and
// what differed, and exits 1.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

struct Node {
  bool is_dir = false;
  std::string content;
};
using Tree = std::map<std::string, Node>;

bool Snapshot(const std::string& root, const std::string& rel, Tree& out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(d);
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat st {};
    if (::lstat((root + "/" + r).c_str(), &st) != 0) return false;
    Node node;
    node.is_dir = S_ISDIR(st.st_mode);
    if (node.is_dir) {
      if (!Snapshot(root, r, out)) return false;
    } else {
      int fd = ::open((root + "/" + r).c_str(), O_RDONLY);
      if (fd < 0) return false;
      char buf[65536];
      ssize_t got;
      while ((got = ::read(fd, buf, sizeof buf)) > 0)
        node.content.append(buf, static_cast<size_t>(got));
      ::close(fd);
      if (got < 0) return false;
      if (static_cast<off_t>(node.content.size()) != st.st_size) {
        node.content += "<size mismatch: stat says " + std::to_string(st.st_size) + ">";
      }
    }
    out[r] = std::move(node);
  }
  return true;
}

class Model {
 public:
  Model(std::string mount, std::string plain, unsigned seed)
      : roots_{std::move(mount), std::move(plain)}, rng_(seed) {}

  std::string RandomPath() {
    static const char* kNames[] = {"a", "b", "c", "d", "e.txt"};
    std::uniform_int_distribution<int> depth(1, 3), pick(0, 4);
    std::string p;
    int n = depth(rng_);
    for (int i = 0; i < n; ++i) {
      if (!p.empty()) p += "/";
      p += kNames[pick(rng_)];
    }
    return p;
  }

  std::string RandomData(std::size_t max) {
    std::uniform_int_distribution<std::size_t> len(0, max);
    std::uniform_int_distribution<int> byte(0, 255), kind(0, 1);
    std::string s(len(rng_), '\0');
    bool text = kind(rng_) == 0;
    for (auto& c : s)
      c = text ? static_cast<char>('a' + byte(rng_) % 26) : static_cast<char>(byte(rng_));
    return s;
  }

  // Applies `op` to both roots; returns a description and the two outcomes.
  template <class Fn>
  bool Both(const std::string& what, Fn&& op) {
    int r[2];
    for (int i = 0; i < 2; ++i) {
      errno = 0;
      r[i] = op(roots_[i]) ? 0 : errno;
    }
    last_ = what;
    if (r[0] != r[1]) {
      std::fprintf(stderr, "outcome differs for %s: mount %s, plain %s\n", what.c_str(),
                   r[0] ? std::strerror(r[0]) : "ok", r[1] ? std::strerror(r[1]) : "ok");
      return false;
    }
    return true;
  }

  bool Step() {
    std::uniform_int_distribution<int> which(0, 9);
    std::uniform_int_distribution<int> offset(0, 300000);
    std::string p = RandomPath();
    std::string q = RandomPath();
    switch (which(rng_)) {
      case 0:
      case 1: {
        std::string data = RandomData(200000);
        return Both("create+write " + p + " (" + std::to_string(data.size()) + " bytes)",
                    [&](const std::string& root) {
                      int fd = ::open((root + "/" + p).c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
                      if (fd < 0) return false;
                      bool ok = ::write(fd, data.data(), data.size()) ==
                                static_cast<ssize_t>(data.size());
                      int e = errno;
                      ok = (::close(fd) == 0) && ok;
                      if (!ok && errno == 0) errno = e;
                      return ok;
                    });
      }
      case 2: {
        std::string data = RandomData(70000);
        off_t off = offset(rng_);
        return Both("pwrite " + p + " at " + std::to_string(off), [&](const std::string& root) {
          int fd = ::open((root + "/" + p).c_str(), O_WRONLY);
          if (fd < 0) return false;
          bool ok =
              ::pwrite(fd, data.data(), data.size(), off) == static_cast<ssize_t>(data.size());
          ok = (::close(fd) == 0) && ok;
          return ok;
        });
      }
      case 3: {
        std::string data = RandomData(5000);
        return Both("append " + p, [&](const std::string& root) {
          int fd = ::open((root + "/" + p).c_str(), O_WRONLY | O_APPEND);
          if (fd < 0) return false;
          bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
          ok = (::close(fd) == 0) && ok;
          return ok;
        });
      }
      case 4: {
        off_t size = offset(rng_);
        return Both("truncate " + p + " to " + std::to_string(size), [&](const std::string& root) {
          return ::truncate((root + "/" + p).c_str(), size) == 0;
        });
      }
      case 5:
        return Both("rename " + p + " -> " + q, [&](const std::string& root) {
          return ::rename((root + "/" + p).c_str(), (root + "/" + q).c_str()) == 0;
        });
      case 6:
        return Both("unlink " + p, [&](const std::string& root) {
          return ::unlink((root + "/" + p).c_str()) == 0;
        });
      case 7:
      case 8:
        return Both("mkdir " + p, [&](const std::string& root) {
          return ::mkdir((root + "/" + p).c_str(), 0755) == 0;
        });
      default:
        return Both("rmdir " + p, [&](const std::string& root) {
          return ::rmdir((root + "/" + p).c_str()) == 0;
        });
    }
  }

  bool Compare() {
    Tree a, b;
    if (!Snapshot(roots_[0], "", a) || !Snapshot(roots_[1], "", b)) {
      std::fprintf(stderr, "cannot read the trees after %s: %s\n", last_.c_str(),
                   std::strerror(errno));
      return false;
    }
    if (a.size() != b.size()) {
      std::fprintf(stderr, "after %s: mount has %zu entries, plain %zu\n", last_.c_str(), a.size(),
                   b.size());
      for (const auto& [k, v] : a)
        if (!b.count(k)) std::fprintf(stderr, "  only in mount: %s\n", k.c_str());
      for (const auto& [k, v] : b)
        if (!a.count(k)) std::fprintf(stderr, "  only in plain: %s\n", k.c_str());
      return false;
    }
    for (const auto& [k, v] : b) {
      auto it = a.find(k);
      if (it == a.end() || it->second.is_dir != v.is_dir || it->second.content != v.content) {
        std::fprintf(stderr, "after %s: %s differs\n", last_.c_str(), k.c_str());
        return false;
      }
    }
    return true;
  }

 private:
  std::string roots_[2];
  std::mt19937 rng_;
  std::string last_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: model_test MOUNT_DIR PLAIN_DIR [--seed=N] [--ops=N]\n");
    return 2;
  }
  unsigned seed = std::random_device{}();
  long ops = 2000;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seed=", 0) == 0) seed = static_cast<unsigned>(std::stoul(a.substr(7)));
    if (a.rfind("--ops=", 0) == 0) ops = std::stol(a.substr(6));
  }
  Model model(argv[1], argv[2], seed);
  for (long step = 1; step <= ops; ++step) {
    if (!model.Step() || !model.Compare()) {
      std::fprintf(stderr, "model_test: FAILED at step %ld; reproduce with --seed=%u --ops=%ld\n",
                   step, seed, step);
      return 1;
    }
  }
  std::printf("model_test: %ld operations matched (seed %u)\n", ops, seed);
  return 0;
}
