#define FUSE_USE_VERSION 312
#include "fs/fuse_adapter.h"

#include <fuse3/fuse_lowlevel.h>
#include <sys/xattr.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <new>
#include <vector>

#include "base/raii.h"
#include "fs/errno_table.h"

namespace shoal::fs {

namespace {

// All changes pass through this daemon, so the kernel may cache names and
// attributes; background work that changes them notifies the kernel.
constexpr double kEntryTimeout = 10.0;
constexpr double kAttrTimeout = 10.0;

// Every request handler starts here, which is where the caller's uid is
// noted for the audit trail.
// The session being served, for reads that wait: they end when it exits.
std::atomic<fuse_session*> serving{nullptr};

bool Exiting() {
  fuse_session* se = serving.load(std::memory_order_acquire);
  return se != nullptr && fuse_session_exited(se) != 0;
}

ShoalFs& Fs(fuse_req_t req) {
  if (const fuse_ctx* ctx = fuse_req_ctx(req)) SetRequestUid(ctx->uid);
  return *static_cast<ShoalFs*>(fuse_req_userdata(req));
}
// fuse_file_info::fh carries our Handle pointer, set at open.
Handle* H(const fuse_file_info* fi) {
  return reinterpret_cast<Handle*>(fi->fh);  // NOLINT(performance-no-int-to-ptr)
}

// Runs `fn`, which sends exactly one reply and returns the errno it replied
// with (0 on success). An exception escaping before the reply becomes one
// error reply: ENOMEM for bad_alloc, EIO for anything else.
template <class Fn>
void Serve(fuse_req_t req, Op op, Fn&& fn) noexcept {
  ShoalFs& fs = Fs(req);  // the reply frees req
  auto start = std::chrono::steady_clock::now();
  int err = 0;
  try {
    err = fn();
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
    fuse_reply_err(req, err);
  } catch (...) {
    std::fprintf(stderr, "shoal: unexpected exception in %s\n", OpName(op));
    err = EIO;
    fuse_reply_err(req, err);
  }
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  fs.stats().RecordOp(op, static_cast<std::uint64_t>(ns.count()), err != 0);
}

// Replies with the errno for `s`, after recording it in .shoal/errors.
int Fail(fuse_req_t req, Ino ino, std::string_view name, const Status& s, bool record = true) {
  if (record) Fs(req).RecordError(ino, name, s);
  int err = ErrnoFor(s.code());
  fuse_reply_err(req, err);
  return err;
}

// Control nodes come and go with buckets and streams without a kernel
// request (the bucket's rmdir removes .s3/<bucket>): the kernel must not
// remember their names. They are few, so looking them up again is cheap.
double EntryTimeoutOf(fuse_ino_t ino) {
  return IsControlId(ino) ? 0.0 : kEntryTimeout;
}

// Control files change size without a kernel request (a shard grows): the
// kernel must ask for their attributes each time.
double AttrTimeoutOf(fuse_ino_t ino) {
  return IsControlId(ino) ? 0.0 : kAttrTimeout;
}

int ReplyEntry(fuse_req_t req, const struct stat& st) {
  fuse_entry_param e{};
  e.ino = st.st_ino;
  e.attr = st;
  e.attr_timeout = AttrTimeoutOf(e.ino);
  e.entry_timeout = EntryTimeoutOf(e.ino);
  fuse_reply_entry(req, &e);
  return 0;
}

Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  return {.uid = ctx->uid, .gid = ctx->gid};
}

void OnInit(void*, fuse_conn_info* conn) {
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  if ((conn->capable & FUSE_CAP_PARALLEL_DIROPS) != 0) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  // No write-back cache: it makes the kernel the owner of every cached file's
  // size (changes made by the daemon would go unseen), and it does not spare
  // the GETATTR after a close (the kernel drops st_blocks then).
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_WRITEBACK_CACHE);
  conn->max_write = 1 << 20;
  conn->max_readahead = 1 << 20;
}

void OnLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Serve(req, Op::kLookup, [&] {
    auto st = Fs(req).Lookup(parent, name);
    if (!st.ok()) {
      Code c = st.status().code();
      return Fail(req, parent, name, st.status(),
                  c != Code::kNoSuchKey && c != Code::kNoSuchBucket);
    }
    return ReplyEntry(req, *st);
  });
}

void OnForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Serve(req, Op::kForget, [&] {
    Fs(req).Forget(ino, nlookup);
    fuse_reply_none(req);
    return 0;
  });
}

void OnForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Serve(req, Op::kForget, [&] {
    for (size_t i = 0; i < count; ++i) Fs(req).Forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
    return 0;
  });
}

void OnGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Serve(req, Op::kGetattr, [&] {
    auto st = Fs(req).GetAttr(ino);
    if (!st.ok()) return Fail(req, ino, "", st.status());
    fuse_reply_attr(req, &*st, AttrTimeoutOf(ino));
    return 0;
  });
}

void OnSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  Serve(req, Op::kSetattr, [&] {
    ShoalFs::SetAttrRequest r;
    r.mode = (to_set & FUSE_SET_ATTR_MODE) != 0;
    r.uid = (to_set & FUSE_SET_ATTR_UID) != 0;
    r.gid = (to_set & FUSE_SET_ATTR_GID) != 0;
    r.size = (to_set & FUSE_SET_ATTR_SIZE) != 0;
    r.atime = (to_set & FUSE_SET_ATTR_ATIME) != 0;
    r.mtime = (to_set & FUSE_SET_ATTR_MTIME) != 0;
    r.atime_now = (to_set & FUSE_SET_ATTR_ATIME_NOW) != 0;
    r.mtime_now = (to_set & FUSE_SET_ATTR_MTIME_NOW) != 0;
    r.values = *attr;
    auto st = Fs(req).SetAttr(ino, r);
    if (!st.ok()) return Fail(req, ino, "", st.status());
    fuse_reply_attr(req, &*st, AttrTimeoutOf(ino));
    return 0;
  });
}

void OnReadlink(fuse_req_t req, fuse_ino_t ino) {
  Serve(req, Op::kReadlink, [&] {
    auto target = Fs(req).ReadLink(ino);
    if (!target.ok()) return Fail(req, ino, "", target.status());
    fuse_reply_readlink(req, target->c_str());
    return 0;
  });
}

void OnMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Serve(req, Op::kMkdir, [&] {
    auto st = Fs(req).Mkdir(CallerOf(req), parent, name, mode);
    if (!st.ok()) return Fail(req, parent, name, st.status());
    return ReplyEntry(req, *st);
  });
}

void OnSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  Serve(req, Op::kSymlink, [&] {
    auto st = Fs(req).Symlink(CallerOf(req), link, parent, name);
    if (!st.ok()) return Fail(req, parent, name, st.status());
    return ReplyEntry(req, *st);
  });
}

void OnUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Serve(req, Op::kUnlink, [&] {
    Status s = Fs(req).Unlink(parent, name);
    if (!s.ok()) return Fail(req, parent, name, s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Serve(req, Op::kRmdir, [&] {
    Status s = Fs(req).Rmdir(parent, name);
    if (!s.ok()) return Fail(req, parent, name, s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags) {
  Serve(req, Op::kRename, [&] {
    Status s = Fs(req).Rename(parent, name, newparent, newname, flags);
    if (!s.ok()) return Fail(req, parent, name, s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Serve(req, Op::kLink, [&] {
    Status s = Fs(req).Link(ino, newparent, newname);
    return Fail(req, newparent, newname, s);
  });
}

void OnOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Serve(req, Op::kOpen, [&] {
    auto opened = Fs(req).Open(ino, fi->flags);
    if (!opened.ok()) return Fail(req, ino, "", opened.status());
    fi->fh = reinterpret_cast<uint64_t>(opened->handle);
    fi->direct_io = opened->direct_io ? 1 : 0;
    ShoalFs& fs = Fs(req);  // the reply frees req
    if (fuse_reply_open(req, fi) == -ENOENT) (void)fs.Release(opened->handle);
    return 0;
  });
}

void OnCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  Serve(req, Op::kCreate, [&] {
    auto created = Fs(req).Create(CallerOf(req), parent, name, mode, fi->flags);
    if (!created.ok()) return Fail(req, parent, name, created.status());
    fi->fh = reinterpret_cast<uint64_t>(created->handle);
    fuse_entry_param e{};
    e.ino = created->attr.st_ino;
    e.attr = created->attr;
    e.attr_timeout = kAttrTimeout;
    e.entry_timeout = kEntryTimeout;
    ShoalFs& fs = Fs(req);  // the reply frees req
    if (fuse_reply_create(req, &e, fi) == -ENOENT) {
      (void)fs.Release(created->handle);
      fs.Forget(e.ino, 1);
    }
    return 0;
  });
}

void OnRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Serve(req, Op::kRead, [&] {
    thread_local std::vector<char> buf;
    if (buf.size() < size) buf.resize(size);
    auto n = Fs(req).Read(H(fi), buf.data(), size, static_cast<std::uint64_t>(off),
                          [req] { return fuse_req_interrupted(req) != 0 || Exiting(); });
    if (!n.ok()) return Fail(req, ino, "", n.status());
    fuse_reply_buf(req, buf.data(), *n);
    return 0;
  });
}

void OnWrite(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t off,
             fuse_file_info* fi) {
  Serve(req, Op::kWrite, [&] {
    auto n = Fs(req).Write(H(fi), std::string_view(data, size), static_cast<std::uint64_t>(off));
    if (!n.ok()) return Fail(req, ino, "", n.status());
    fuse_reply_write(req, *n);
    return 0;
  });
}

void OnFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Serve(req, Op::kFlush, [&] {
    Status s = Fs(req).Flush(H(fi));
    if (!s.ok()) return Fail(req, ino, "", s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnFsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) {
  Serve(req, Op::kFsync, [&] {
    Status s = Fs(req).Fsync(H(fi));
    if (!s.ok()) return Fail(req, ino, "", s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Serve(req, Op::kRelease, [&] {
    Status s = Fs(req).Release(H(fi));
    // close() has returned already; the error can only be recorded.
    if (!s.ok()) Fs(req).RecordError(ino, "", s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Serve(req, Op::kOpendir, [&] {
    auto h = Fs(req).OpenDir(ino);
    if (!h.ok()) return Fail(req, ino, "", h.status());
    fi->fh = reinterpret_cast<uint64_t>(*h);
    ShoalFs& fs = Fs(req);  // the reply frees req
    if (fuse_reply_open(req, fi) == -ENOENT) fs.ReleaseDir(*h);
    return 0;
  });
}

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
                   bool plus) {
  Serve(req, Op::kReaddir, [&] {
    std::vector<char> buf(size);
    std::size_t used = 0;
    Status s = Fs(req).ReadDir(H(fi), static_cast<std::uint64_t>(off), plus,
                               [&](const ReadDirEntry& entry, std::uint64_t next) {
                                 std::size_t rest = size - used;
                                 std::size_t need;
                                 auto next_off = static_cast<off_t>(next);
                                 if (plus) {
                                   fuse_entry_param e{};
                                   e.attr = entry.attr;
                                   if (entry.counts_lookup) {
                                     e.ino = entry.attr.st_ino;
                                     e.attr_timeout = AttrTimeoutOf(e.ino);
                                     e.entry_timeout = EntryTimeoutOf(e.ino);
                                   }
                                   need = fuse_add_direntry_plus(req, buf.data() + used, rest,
                                                                 entry.name.c_str(), &e, next_off);
                                 } else {
                                   need =
                                       fuse_add_direntry(req, buf.data() + used, rest,
                                                         entry.name.c_str(), &entry.attr, next_off);
                                 }
                                 if (need > rest) return false;
                                 used += need;
                                 return true;
                               });
    if (!s.ok() && used == 0) return Fail(req, ino, "", s);
    fuse_reply_buf(req, buf.data(), used);
    return 0;
  });
}

void OnReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, false);
}

void OnReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, true);
}

void OnReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Serve(req, Op::kRelease, [&] {
    Fs(req).ReleaseDir(H(fi));
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnFsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  Serve(req, Op::kFsync, [&] {
    Status s = Fs(req).SyncMetadata();
    if (!s.ok()) return Fail(req, ino, "", s);
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnStatfs(fuse_req_t req, fuse_ino_t ino) {
  Serve(req, Op::kStatfs, [&] {
    auto st = Fs(req).StatFs();
    if (!st.ok()) return Fail(req, ino, "", st.status());
    fuse_reply_statfs(req, &*st);
    return 0;
  });
}

int ReplyXattr(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
    return 0;
  }
  if (size < value.size()) {
    fuse_reply_err(req, ERANGE);
    return ERANGE;
  }
  fuse_reply_buf(req, value.data(), value.size());
  return 0;
}

// cp -a, rsync and ls probe other namespaces (ACLs, SELinux) on every file and
// expect ENOTSUP: an everyday answer, not worth a log line.
bool IsNamespaceProbe(const Status& s, const char* name) {
  return s.code() == Code::kNotSupported && std::string_view(name).substr(0, 5) != "user.";
}

void OnSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags) {
  Serve(req, Op::kXattr, [&] {
    Status s = Fs(req).SetXattr(ino, name, std::string_view(value, size), flags);
    if (!s.ok()) {
      return Fail(req, ino, "", Status(s.code(), std::string(name) + ": " + s.message()),
                  !IsNamespaceProbe(s, name));
    }
    fuse_reply_err(req, 0);
    return 0;
  });
}

void OnGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Serve(req, Op::kXattr, [&] {
    auto value = Fs(req).GetXattr(ino, name);
    if (!value.ok()) {
      // Absent attributes are an everyday answer, not a rejection.
      bool absent = value.status().code() == Code::kNoSuchAttribute;
      return Fail(req, ino, "", value.status(), !absent && !IsNamespaceProbe(value.status(), name));
    }
    return ReplyXattr(req, *value, size);
  });
}

void OnListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Serve(req, Op::kXattr, [&] {
    auto names = Fs(req).ListXattr(ino);
    if (!names.ok()) return Fail(req, ino, "", names.status());
    return ReplyXattr(req, *names, size);
  });
}

void OnRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Serve(req, Op::kXattr, [&] {
    Status s = Fs(req).RemoveXattr(ino, name);
    if (!s.ok()) {
      return Fail(req, ino, "", Status(s.code(), std::string(name) + ": " + s.message()),
                  s.code() != Code::kNoSuchAttribute);
    }
    fuse_reply_err(req, 0);
    return 0;
  });
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops{};
  ops.init = OnInit;
  ops.lookup = OnLookup;
  ops.forget = OnForget;
  ops.forget_multi = OnForgetMulti;
  ops.getattr = OnGetattr;
  ops.setattr = OnSetattr;
  ops.readlink = OnReadlink;
  ops.mkdir = OnMkdir;
  ops.symlink = OnSymlink;
  ops.unlink = OnUnlink;
  ops.rmdir = OnRmdir;
  ops.rename = OnRename;
  ops.link = OnLink;
  ops.open = OnOpen;
  ops.create = OnCreate;
  ops.read = OnRead;
  ops.write = OnWrite;
  ops.flush = OnFlush;
  ops.fsync = OnFsync;
  ops.release = OnRelease;
  ops.opendir = OnOpendir;
  ops.readdir = OnReaddir;
  ops.readdirplus = OnReaddirplus;
  ops.releasedir = OnReleasedir;
  ops.fsyncdir = OnFsyncdir;
  ops.statfs = OnStatfs;
  ops.setxattr = OnSetxattr;
  ops.getxattr = OnGetxattr;
  ops.listxattr = OnListxattr;
  ops.removexattr = OnRemovexattr;
  return ops;
}

using Session = std::unique_ptr<fuse_session, Deleter<fuse_session_destroy>>;

}  // namespace

Status ServeMount(ShoalFs& fs, const ServeOptions& options,
                  const std::function<void()>& on_mounted) {
  std::vector<std::string> arg_strings = {
      "shoal", "-o",           "default_permissions", "-o", "fsname=" + options.fsname,
      "-o",    "subtype=shoal"};
  if (options.allow_other) {
    arg_strings.insert(arg_strings.end(), {"-o", "allow_other"});
  }
  std::vector<char*> argv;
  argv.reserve(arg_strings.size());
  for (auto& a : arg_strings) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  static const fuse_lowlevel_ops ops = MakeOps();
  Session se(fuse_session_new(&args, &ops, sizeof ops, &fs));
  if (!se) return InvalidArgument("cannot start a FUSE session (see the message above)");
  if (fuse_set_signal_handlers(se.get()) != 0) return Internal("cannot install signal handlers");
  if (fuse_session_mount(se.get(), options.mountpoint.c_str()) != 0) {
    fuse_remove_signal_handlers(se.get());
    return Status(Code::kInvalidRequest,
                  "cannot mount on " + options.mountpoint +
                      " (is /dev/fuse available, and for --allow-other is user_allow_other "
                      "set in /etc/fuse.conf?)");
  }
  fuse_session* raw = se.get();
  fs.SetEntryInvalidator([raw](Ino parent, std::string_view name) {
    // ENOENT: the kernel does not know the parent; nothing to forget.
    (void)fuse_lowlevel_notify_inval_entry(raw, parent, name.data(), name.size());
  });
  serving.store(raw, std::memory_order_release);
  on_mounted();
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(config, 1);
  fuse_loop_cfg_set_max_threads(config, options.max_threads);
  int rc = fuse_session_loop_mt(se.get(), config);
  fuse_loop_cfg_destroy(config);
  serving.store(nullptr, std::memory_order_release);
  fs.SetEntryInvalidator({});
  fuse_session_unmount(se.get());
  fuse_remove_signal_handlers(se.get());
  if (rc < 0) return Status(Code::kIOError, "FUSE session ended with an error");
  return Status::Ok();
}

}  // namespace shoal::fs
