#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/raii.h"

extern char** environ;

namespace shoal {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return PosixError("pipe2", errno);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Blocks SIGPIPE on this thread while in scope; a SIGPIPE raised meanwhile
// (a write to a program that stopped reading) is consumed, not delivered.
class BlockSigpipe {
 public:
  BlockSigpipe() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
  }
  ~BlockSigpipe() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    const timespec none{};
    while (sigtimedwait(&pipe_only, nullptr, &none) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  BlockSigpipe(const BlockSigpipe&) = delete;
  BlockSigpipe& operator=(const BlockSigpipe&) = delete;

 private:
  sigset_t old_{};
};

}  // namespace

Result<SubprocessOutcome> RunSubprocess(const std::vector<std::string>& argv,
                                        std::string_view input, std::chrono::milliseconds timeout,
                                        std::size_t max_output, std::size_t max_error) {
  if (argv.empty()) return InvalidArgument("no program to run");
  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  if (!in.ok()) return in.status();
  if (!out.ok()) return out.status();
  if (!err.ok()) return err.status();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in->read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err->write.get(), STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // The daemon's ignored SIGPIPE and blocked signals are not the program's.
  sigset_t none;
  sigemptyset(&none);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe_only);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return PosixError("starting " + argv[0], rc);
  in->read.Reset();
  out->write.Reset();
  err->write.Reset();

  BlockSigpipe block;
  SubprocessOutcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t written = 0;
  if (input.empty()) in->write.Reset();
  (void)::fcntl(in->write.get(), F_SETFL, O_NONBLOCK);
  char buf[65536];
  while (out->read.valid() || err->read.valid()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      outcome.end = SubprocessOutcome::End::kTimedOut;
      break;
    }
    pollfd fds[3] = {
        {out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}, {in->write.get(), POLLOUT, 0}};
    const int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    if ((fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t w = ::write(in->write.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // it stopped reading
      if (written == input.size()) in->write.Reset();
    }
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      UniqueFd& fd = i == 0 ? out->read : err->read;
      const ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        fd.Reset();
        continue;
      }
      if (r < 0) continue;
      const auto got = static_cast<std::size_t>(r);
      if (i == 0) {
        outcome.out.append(buf, got);
      } else if (outcome.err.size() < max_error) {
        outcome.err.append(buf, std::min(got, max_error - outcome.err.size()));
      }
    }
    if (outcome.out.size() > max_output) {
      outcome.end = SubprocessOutcome::End::kOutputTooLarge;
      break;
    }
  }
  // Its output has ended; it may still run (and must end by the deadline).
  int status = 0;
  while (outcome.end == SubprocessOutcome::End::kExited) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      outcome.end = SubprocessOutcome::End::kTimedOut;
      break;
    }
    constexpr timespec kPause{.tv_sec = 0, .tv_nsec = 1'000'000};
    ::nanosleep(&kPause, nullptr);
  }
  if (outcome.end != SubprocessOutcome::End::kExited) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (outcome.end == SubprocessOutcome::End::kExited) {
    if (WIFSIGNALED(status)) {
      outcome.end = SubprocessOutcome::End::kSignaled;
      outcome.code = WTERMSIG(status);
    } else {
      outcome.code = WEXITSTATUS(status);
    }
  }
  return outcome;
}

}  // namespace shoal
