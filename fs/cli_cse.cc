// shoal cse encrypt|decrypt: client-side encryption in the S3 Encryption
// Client's V2 format (crypto/CSE_FORMAT.md), from the command line.
#include "fs/cli_cse.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "base/raii.h"
#include "crypto/cse.h"

namespace shoal::fs {

namespace {

int Fail(const std::string& msg) {
  std::cerr << "shoal: " << msg << "\n";
  return 1;
}

constexpr std::string_view kCseXattrPrefix = "user.s3.meta.";
constexpr std::string_view kInstructionSuffix = ".instruction";

// The metadata names read back on decrypt; S3EC's full V1/V2 set, so an
// object in another format is named as such rather than reported as bare.
constexpr std::string_view kCseNames[] = {crypto::kCseKeyV2,
                                          crypto::kCseIv,
                                          crypto::kCseCekAlg,
                                          crypto::kCseWrapAlg,
                                          crypto::kCseTagLen,
                                          crypto::kCseMatDesc,
                                          crypto::kCseUnencryptedLength,
                                          crypto::kCseKeyV1};

bool XattrsUnsupported(int err) {
  return err == ENOTSUP || err == EOPNOTSUPP;
}

// A file created beside its destination (same directory, so same file
// system and an atomic rename), removed at scope exit unless committed: a
// failed run leaves neither a partial OUT nor unverified plaintext behind.
class TempBeside {
 public:
  TempBeside() = default;
  TempBeside(const TempBeside&) = delete;
  TempBeside& operator=(const TempBeside&) = delete;
  ~TempBeside() {
    fd_.Reset();
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  // Creates the file with `mode`; false with `error` set on failure.
  bool Create(const std::string& dest, mode_t mode, std::string& error) {
    std::size_t slash = dest.rfind('/');
    std::string dir = slash == std::string::npos ? "." : dest.substr(0, slash == 0 ? 1 : slash);
    std::string base = slash == std::string::npos ? dest : dest.substr(slash + 1);
    std::string tmpl = dir + "/." + base + ".shoal-cse.XXXXXX";
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
      error = "cannot create a temporary file beside " + dest + ": " + std::strerror(errno);
      return false;
    }
    fd_.Reset(fd);
    path_ = tmpl;
    if (::fchmod(fd, mode) != 0) {
      error = "chmod " + path_ + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // fsync and close, leaving the file in place (still removed unless
  // committed).
  bool Close(std::string& error) {
    if (::fsync(fd_.get()) != 0) {
      error = "fsync " + path_ + ": " + std::strerror(errno);
      return false;
    }
    if (::close(fd_.release()) != 0) {
      error = "close " + path_ + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  bool CommitAs(const std::string& dest, std::string& error) {
    if (::rename(path_.c_str(), dest.c_str()) != 0) {
      error = "cannot rename " + path_ + " to " + dest + ": " + std::strerror(errno);
      return false;
    }
    path_.clear();
    return true;
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

struct CseArgs {
  std::string verb;
  std::string key_file;
  std::string in;
  std::string out;
};

bool ParseCseArgs(const std::vector<std::string>& words, CseArgs& args, std::string& error) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--key-file") {
      if (i + 1 == words.size()) {
        error = "cse: --key-file needs a file name";
        return false;
      }
      args.key_file = words[++i];
    } else if (w.rfind("--key-file=", 0) == 0) {
      args.key_file = w.substr(11);
    } else if (w.size() > 1 && w[0] == '-') {
      error = "cse: unknown option " + w + " (see shoal --help)";
      return false;
    } else {
      positional.push_back(w);
    }
  }
  if (positional.empty() || (positional[0] != "encrypt" && positional[0] != "decrypt")) {
    error = "cse needs encrypt or decrypt: shoal cse encrypt|decrypt --key-file K IN OUT";
    return false;
  }
  if (positional.size() != 3) {
    error = "cse " + positional[0] + " needs IN and OUT: shoal cse " + positional[0] +
            " --key-file K IN OUT";
    return false;
  }
  if (args.key_file.empty()) {
    error = "cse " + positional[0] +
            " needs --key-file K (32 random bytes or their base64; "
            "make one with 'head -c 32 /dev/urandom | base64 > K && chmod 600 K')";
    return false;
  }
  args.verb = positional[0];
  args.in = positional[1];
  args.out = positional[2];
  return true;
}

// Opens IN and checks OUT is a place a file can be written.
bool OpenCseFiles(const CseArgs& args, UniqueFd& in, std::string& error) {
  in.Reset(::open(args.in.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    error = "cse: cannot open " + args.in + ": " + std::strerror(errno);
    return false;
  }
  struct stat in_st {};
  if (::fstat(in.get(), &in_st) != 0 || S_ISDIR(in_st.st_mode)) {
    error = "cse: " + args.in + " is a directory; give a file";
    return false;
  }
  struct stat out_st {};
  if (::stat(args.out.c_str(), &out_st) == 0) {
    if (S_ISDIR(out_st.st_mode)) {
      error = "cse: " + args.out + " is a directory; give the output file's name";
      return false;
    }
    if (out_st.st_dev == in_st.st_dev && out_st.st_ino == in_st.st_ino) {
      error = "cse: IN and OUT are the same file; give another OUT";
      return false;
    }
  }
  return true;
}

// The metadata stored with IN: its user.s3.meta.x-amz-* xattrs if it has the
// data key there, else IN.instruction. Empty `error` and an empty map when
// neither exists.
bool ReadCseMetadata(int fd, const std::string& in, std::map<std::string, std::string>& meta,
                     std::string& error) {
  for (std::string_view name : kCseNames) {
    std::string attr = std::string(kCseXattrPrefix) + std::string(name);
    ssize_t size = ::fgetxattr(fd, attr.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) continue;
      if (XattrsUnsupported(errno)) break;
      error = "cse: cannot read " + attr + " of " + in + ": " + std::strerror(errno);
      return false;
    }
    std::string value(static_cast<std::size_t>(size), '\0');
    size = ::fgetxattr(fd, attr.c_str(), value.data(), value.size());
    if (size < 0) {
      error = "cse: cannot read " + attr + " of " + in + ": " + std::strerror(errno);
      return false;
    }
    value.resize(static_cast<std::size_t>(size));
    meta.emplace(name, std::move(value));
  }
  if (meta.count(std::string(crypto::kCseKeyV2)) != 0 ||
      meta.count(std::string(crypto::kCseKeyV1)) != 0) {
    return true;
  }
  meta.clear();
  const std::string instruction = in + std::string(kInstructionSuffix);
  auto text = ReadFile(instruction);
  if (!text.ok()) {
    if (text.status().code() == Code::kNoSuchKey) return true;
    error = "cse: cannot read " + instruction + ": " + text.status().message();
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "cse: " + instruction + " is not a JSON object";
    return false;
  }
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) {
      error = "cse: " + instruction + ": \"" + k + "\" is not a string";
      return false;
    }
    meta.emplace(k, v.get<std::string>());
  }
  return true;
}

int CseEncrypt(const CseArgs& args, const crypto::Key& kek) {
  UniqueFd in;
  std::string error;
  if (!OpenCseFiles(args, in, error)) return Fail(error);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  TempBeside tmp;
  if (!tmp.Create(args.out, 0666 & ~mask, error)) return Fail("cse: " + error);
  auto env = crypto::EncryptStream(kek, in.get(), tmp.fd());
  if (!env.ok()) return Fail("cse: cannot encrypt " + args.in + ": " + env.status().message());
  if (!tmp.Close(error)) return Fail("cse: " + error);

  // The metadata goes on the closed file: inside a shoal mount the close is
  // the PUT, and the xattrs then become the new object's user metadata.
  const auto meta = env->ToMap();
  bool instruction = false;
  for (const auto& [name, value] : meta) {
    std::string attr = std::string(kCseXattrPrefix) + name;
    if (::setxattr(tmp.path().c_str(), attr.c_str(), value.data(), value.size(), 0) == 0) continue;
    if (XattrsUnsupported(errno)) {
      instruction = true;
      break;
    }
    return Fail("cse: cannot set " + attr + " on " + tmp.path() + ": " + std::strerror(errno));
  }
  if (instruction) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, value] : meta) j[name] = value;
    const std::string path = args.out + std::string(kInstructionSuffix);
    Status s = WriteFileDurably(path, j.dump() + "\n", 0666 & ~mask);
    if (!s.ok()) return Fail("cse: cannot write " + path + ": " + s.message());
    std::cerr << "shoal: cse: the file system of " << args.out
              << " does not store user xattrs; wrote the encryption metadata to " << path
              << " (an S3 Encryption Client instruction file): keep it with " << args.out << "\n";
  }
  if (!tmp.CommitAs(args.out, error)) return Fail("cse: " + error);
  return 0;
}

int CseDecrypt(const CseArgs& args, const crypto::Key& kek) {
  UniqueFd in;
  std::string error;
  if (!OpenCseFiles(args, in, error)) return Fail(error);
  std::map<std::string, std::string> meta;
  if (!ReadCseMetadata(in.get(), args.in, meta, error)) return Fail(error);
  if (meta.empty()) {
    return Fail("cse: " + args.in +
                " carries no client-side encryption metadata (no user.s3.meta.x-amz-key-v2 "
                "xattr and no " +
                args.in + std::string(kInstructionSuffix) +
                "); copy it with cp --preserve=xattr or keep its .instruction file beside it");
  }
  auto env = crypto::CseEnvelope::FromMap(meta);
  if (!env.ok()) return Fail("cse: " + args.in + ": " + env.status().message());
  TempBeside tmp;
  if (!tmp.Create(args.out, 0600, error)) return Fail("cse: " + error);
  Status s = crypto::DecryptStream(kek, *env, in.get(), tmp.fd());
  if (s.code() == Code::kAccessDenied) {
    return Fail("cse: the key in " + args.key_file + " does not decrypt " + args.in +
                " (wrong key, or tampered x-amz-key-v2); nothing written");
  }
  if (s.code() == Code::kCorrupt) {
    return Fail("cse: " + args.in + " is tampered or damaged: " + s.message() +
                "; nothing written");
  }
  if (!s.ok()) return Fail("cse: cannot decrypt " + args.in + ": " + s.message());
  if (!tmp.Close(error)) return Fail("cse: " + error);
  if (!tmp.CommitAs(args.out, error)) return Fail("cse: " + error);
  return 0;
}

}  // namespace

int RunCse(const std::vector<std::string>& words) {
  CseArgs args;
  std::string error;
  if (!ParseCseArgs(words, args, error)) return Fail(error);
  auto kek = crypto::LoadKeyFile(args.key_file);
  if (!kek.ok()) return Fail("cse: " + kek.status().message());
  return args.verb == "encrypt" ? CseEncrypt(args, *kek) : CseDecrypt(args, *kek);
}

}  // namespace shoal::fs
