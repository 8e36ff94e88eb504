#include "fs/cli.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "base/raii.h"
#include "base/sim_clock.h"
#include "crypto/aead.h"
#include "fs/cli_cse.h"
#include "fs/fsck.h"
#include "fs/fuse_adapter.h"
#include "fs/mount_table.h"
#include "store/store_dir.h"
#include "tiers/storage_class.h"

#ifndef SHOAL_VERSION
#define SHOAL_VERSION "0.0.0"
#endif

namespace shoal::fs {

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  shoal mount STORE MOUNTPOINT [options]   create STORE if missing and mount it\n"
    "      --foreground            stay in the foreground, log to stderr\n"
    "      --allow-other           let other users in (needs user_allow_other for non-root)\n"
    "      --clock=now|ISO-8601    where the simulated clock starts (default: where the\n"
    "                              store's clock stopped; real time for a new store)\n"
    "      --clock-rate=R          simulated seconds per real second (default 1; 0 = frozen)\n"
    "      --default-storage-class=CLASS  class of new objects (default STANDARD)\n"
    "      --config=FILE           JSON file with defaults for these options\n"
    "  shoal umount MOUNTPOINT                  flush pending work and unmount\n"
    "  shoal fsck STORE                         verify every object; non-zero on damage\n"
    "  shoal cse encrypt --key-file K IN OUT    client-side encrypt IN to OUT as the S3\n"
    "                                           Encryption Client (v2, AES/GCM key wrap) does;\n"
    "                                           metadata as user.s3.meta.x-amz-* xattrs on OUT,\n"
    "                                           or OUT.instruction where xattrs are refused\n"
    "  shoal cse decrypt --key-file K IN OUT    verify and decrypt IN to OUT (OUT appears only\n"
    "                                           if IN authenticates); K: 32 raw bytes or their\n"
    "                                           base64, mode 0600\n"
    "  shoal --version | --help\n";

int Fail(const std::string& msg) {
  std::cerr << "shoal: " << msg << "\n";
  return 1;
}

std::string Resolve(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return {};
  std::string out(r);
  std::free(r);
  return out;
}

struct MountArgs {
  std::string store;
  std::string mountpoint;
  bool foreground = false;
  bool allow_other = false;
  ShoalFs::Options fs;
};

// Options not implemented by this version are refused rather than ignored.
bool ApplyFlag(const std::string& name, bool value, MountArgs& args, std::string& error) {
  if (name == "foreground") {
    args.foreground = value;
  } else if (name == "allow-other") {
    args.allow_other = value;
  } else {
    error = "unknown option --" + name + " (see shoal --help)";
    return false;
  }
  return true;
}

// Options that take a value (--name=value, or "name": "value" in --config).
bool ApplyValue(const std::string& name, const std::string& value, MountArgs& args,
                std::string& error) {
  if (name == "foreground" || name == "allow-other") {
    error = "--" + name + " takes no value (in --config: true or false)";
    return false;
  }
  if (name == "clock") {
    if (value == "now") {
      args.fs.clock_start = SystemClock().Now();
      return true;
    }
    auto t = ParseIso8601(value);
    if (!t.ok()) {
      error = "--clock: " + t.status().message();
      return false;
    }
    args.fs.clock_start = *t;
  } else if (name == "clock-rate") {
    auto rate = ParseClockRate(value);
    if (!rate.ok()) {
      error = "--clock-rate: " + rate.status().message();
      return false;
    }
    args.fs.clock_rate = *rate;
  } else if (name == "default-storage-class") {
    auto cls = tiers::ParseStorageClass(value);
    if (!cls) {
      error = "--default-storage-class: '" + value +
              "' is not a storage class: use STANDARD, STANDARD_IA, ONEZONE_IA, "
              "INTELLIGENT_TIERING, GLACIER_IR, GLACIER or DEEP_ARCHIVE";
      return false;
    }
    args.fs.default_class = *cls;
  } else {
    error = "unknown option --" + name + " (see shoal --help)";
    return false;
  }
  return true;
}

bool LoadConfig(const std::string& file, MountArgs& args, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot read config file " + file;
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "config file " + file + " is not a JSON object";
    return false;
  }
  for (const auto& [key, value] : j.items()) {
    bool applied = false;
    if (value.is_boolean()) {
      applied = ApplyFlag(key, value.get<bool>(), args, error);
    } else if (value.is_string()) {
      applied = ApplyValue(key, value.get<std::string>(), args, error);
    } else if (value.is_number()) {
      applied = ApplyValue(key, value.dump(), args, error);
    } else {
      error = "\"" + key + "\" must be true, false, a number or a string";
    }
    if (!applied) {
      error = "config file " + file + ": " + error;
      return false;
    }
  }
  return true;
}

bool ParseMountArgs(const std::vector<std::string>& words, MountArgs& args, std::string& error) {
  std::vector<std::string> positional;
  // --config first, so flags on the command line override the file.
  for (const auto& w : words) {
    if (w.rfind("--config=", 0) == 0 && !LoadConfig(w.substr(9), args, error)) return false;
  }
  for (const auto& w : words) {
    if (w.rfind("--config=", 0) == 0) continue;
    if (w.rfind("--", 0) == 0) {
      std::size_t eq = w.find('=');
      if (eq != std::string::npos) {
        if (!ApplyValue(w.substr(2, eq - 2), w.substr(eq + 1), args, error)) return false;
        continue;
      }
      if (!ApplyFlag(w.substr(2), true, args, error)) return false;
    } else if (w.rfind('-', 0) == 0) {
      error = "unknown option " + w + " (see shoal --help)";
      return false;
    } else {
      positional.push_back(w);
    }
  }
  if (positional.size() != 2) {
    error = "mount needs STORE and MOUNTPOINT (see shoal --help)";
    return false;
  }
  args.store = positional[0];
  args.mountpoint = positional[1];
  return true;
}

// Validates the mount point; returns its resolved path or an error.
bool CheckMountpoint(const std::string& given, std::string& resolved, std::string& error) {
  resolved = Resolve(given);
  struct stat st {};
  if (resolved.empty() || ::stat(resolved.c_str(), &st) != 0) {
    error = "mount point " + given + " does not exist; create it with mkdir -p " + given;
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = "mount point " + given + " is not a directory";
    return false;
  }
  if (::access(resolved.c_str(), W_OK | X_OK) != 0) {
    error = "mount point " + given + " is not writable by this user";
    return false;
  }
  if (auto m = FindMount(resolved)) {
    error = "mount point " + resolved + " is busy: " + m->fstype + " from " + m->source +
            " is mounted there; unmount it first";
    return false;
  }
  return true;
}

// The daemon's body: open the store's parts, mount, serve. `ready` gets one
// line, "ok" or the reason for failing, as soon as that is known.
int ServeDaemon(std::unique_ptr<store::StoreDir> dir, const std::string& mountpoint,
                bool allow_other, const ShoalFs::Options& fs_options, int ready_fd) {
  auto say = [&](const std::string& line) {
    if (ready_fd < 0) {
      if (line != "ok") std::cerr << "shoal: " << line << "\n";
      return;
    }
    std::string l = line + "\n";
    // One short write to a pipe is atomic; the reader waits for it or EOF.
    ssize_t n = ::write(ready_fd, l.data(), l.size());
    (void)n;
    ::close(ready_fd);
    ready_fd = -1;
  };
  std::string store_path = dir->path();
  Status owner = dir->RecordOwner();
  if (!owner.ok()) {
    say("cannot record the daemon in " + store_path + "/LOCK: " + owner.ToString());
    return 1;
  }
  auto fs = ShoalFs::Open(std::move(dir), fs_options);
  if (!fs.ok()) {
    say("cannot open store " + store_path + ": " + fs.status().ToString());
    return 1;
  }
  ServeOptions options{.mountpoint = mountpoint, .fsname = store_path, .allow_other = allow_other};
  Status s = ServeMount(**fs, options, [&] { say("ok"); });
  if (!s.ok()) {
    say(s.message());
    return 1;
  }
  return 0;
}

int Mount(const std::vector<std::string>& words) {
  MountArgs args;
  std::string error;
  if (!ParseMountArgs(words, args, error)) return Fail(error);
  std::string mountpoint;
  if (!CheckMountpoint(args.mountpoint, mountpoint, error)) return Fail(error);
  auto dir = store::StoreDir::Open(args.store, store::StoreDir::Mode::kCreateIfMissing);
  if (!dir.ok()) return Fail(dir.status().message());
  if (Resolve((*dir)->path()) == mountpoint || mountpoint.rfind((*dir)->path() + "/", 0) == 0) {
    return Fail("the mount point must not lie inside the store");
  }

  if (args.foreground)
    return ServeDaemon(std::move(*dir), mountpoint, args.allow_other, args.fs, -1);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Fail(std::string("pipe: ") + std::strerror(errno));
  std::string log_path = (*dir)->log_path();
  pid_t pid = ::fork();
  if (pid < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(pipefd[0]);
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDWR);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    std::_Exit(ServeDaemon(std::move(*dir), mountpoint, args.allow_other, args.fs, pipefd[1]));
  }
  ::close(pipefd[1]);
  dir->reset();  // the daemon holds the lock now (inherited descriptor)
  std::string reply;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  while (!reply.empty() && reply.back() == '\n') reply.pop_back();
  if (reply == "ok") return 0;
  if (reply.empty()) return Fail("the daemon exited during start-up; see " + log_path);
  ::waitpid(pid, nullptr, 0);
  return Fail(reply);
}

int Umount(const std::vector<std::string>& words) {
  if (words.size() != 1) return Fail("umount needs MOUNTPOINT (see shoal --help)");
  std::string mountpoint = Resolve(words[0]);
  if (mountpoint.empty()) return Fail(words[0] + " does not exist");
  auto m = FindMount(mountpoint);
  if (!m || m->fstype != "fuse.shoal") return Fail(mountpoint + " is not a shoal mount");
  if (::geteuid() == 0) {
    if (::umount2(mountpoint.c_str(), 0) != 0) {
      if (errno == EBUSY) {
        return Fail(mountpoint + " is busy: close the files open in it and leave it, then retry");
      }
      return Fail("cannot unmount " + mountpoint + ": " + std::strerror(errno));
    }
  } else {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execlp("fusermount3", "fusermount3", "-u", mountpoint.c_str(), nullptr);
      std::_Exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail("fusermount3 -u " + mountpoint + " failed");
    }
  }
  // The daemon finishes pending work and releases the store lock on exit.
  std::string lock_path = m->source + "/LOCK";
  UniqueFd lock(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!lock.valid()) return 0;
  for (int i = 0; i < 600; ++i) {
    if (::flock(lock.get(), LOCK_SH | LOCK_NB) == 0) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Fail("unmounted, but the daemon for " + m->source + " has not exited after 60 s");
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Fail("no command given (see shoal --help)");
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "shoal " << SHOAL_VERSION
              << (crypto::IsUnsealedBaseline() ? " (unsealed benchmark baseline)" : "") << "\n";
    return 0;
  }
  // The unsealed baseline build stores data unencrypted (crypto/aead.h); it
  // must never pass for shoal, so it runs only when asked to by name.
  if (crypto::IsUnsealedBaseline()) {
    const char* allow = std::getenv("SHOAL_UNSEALED_BASELINE");
    if (allow == nullptr || std::string(allow) != "1") {
      return Fail(
          "this is the unsealed benchmark baseline build: it stores data UNENCRYPTED and is "
          "for scripts/bench only (use build/release/fs/shoal; SHOAL_UNSEALED_BASELINE=1 "
          "runs it anyway)");
    }
  }
  if (cmd == "mount") return Mount(rest);
  if (cmd == "umount" || cmd == "unmount") return Umount(rest);
  if (cmd == "cse") return RunCse(rest);
  if (cmd == "fsck") {
    if (rest.size() != 1) return Fail("fsck needs STORE (see shoal --help)");
    return RunFsck(rest[0], std::cout, std::cerr);
  }
  return Fail("unknown command '" + cmd + "' (see shoal --help)");
}

}  // namespace shoal::fs
