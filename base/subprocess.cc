#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
  for (const UniqueFd* fd : {&in->write, &out->read, &err->read}) {
    if (fd->valid()) (void)::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
  }
  char buf[65536];
  // Reads what `fd` holds now; closes it at its end.
  const auto drain = [&](UniqueFd& fd, bool is_out) {
    while (fd.valid() && outcome.out.size() <= max_output) {
      const ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) return;
      if (r <= 0) {
        fd.Reset();
        return;
      }
      const auto got = static_cast<std::size_t>(r);
      if (is_out) {
        outcome.out.append(buf, got);
      } else if (outcome.err.size() < max_error) {
        outcome.err.append(buf, std::min(got, max_error - outcome.err.size()));
      }
    }
  };
  constexpr auto kExitCheck = std::chrono::milliseconds(50);
  for (;;) {
    if (outcome.out.size() > max_output) {
      outcome.end = SubprocessOutcome::End::kOutputTooLarge;
      break;
    }
    // Once the program has exited, what its outputs hold is its answer: a
    // child it left behind may keep them open. (Not reaped yet: its
    // process group stays its own until then.)
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      drain(out->read, true);
      drain(err->read, false);
      if (outcome.out.size() > max_output) outcome.end = SubprocessOutcome::End::kOutputTooLarge;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      outcome.end = SubprocessOutcome::End::kTimedOut;
      break;
    }
    pollfd fds[3] = {
        {out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}, {in->write.get(), POLLOUT, 0}};
    const int n = ::poll(fds, 3, static_cast<int>(std::min(left, kExitCheck).count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if ((fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t w = ::write(in->write.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // it stopped reading
      if (written == input.size()) in->write.Reset();
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) drain(out->read, true);
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) drain(err->read, false);
  }
  in->write.Reset();
  // The group goes: the program if it still runs, and whatever it left.
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
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
