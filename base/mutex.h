#pragma once
// A mutex with Clang thread-safety annotations, so GUARDED_BY comments are
// checked by the compiler (-Wthread-safety under clang; no-ops under GCC).

#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define SHOAL_TSA(x) __attribute__((x))
#else
#define SHOAL_TSA(x)
#endif

#define CAPABILITY(x) SHOAL_TSA(capability(x))
#define SCOPED_CAPABILITY SHOAL_TSA(scoped_lockable)
#define GUARDED_BY(x) SHOAL_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) SHOAL_TSA(pt_guarded_by(x))
#define REQUIRES(...) SHOAL_TSA(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) SHOAL_TSA(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) SHOAL_TSA(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) SHOAL_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) SHOAL_TSA(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) SHOAL_TSA(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) SHOAL_TSA(assert_capability(x))
#define RELEASE_SHARED(...) SHOAL_TSA(release_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) SHOAL_TSA(locks_excluded(__VA_ARGS__))

namespace shoal {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock() ACQUIRE() { mu_.lock(); }
  // Locks if no one holds the mutex; never waits.
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the caller holds the mutex where it cannot see it
  // (a callback run under the lock); checks nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class CAPABILITY("shared_mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void LockShared() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.LockShared(); }
  ~ReaderLock() RELEASE() { mu_.UnlockShared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterLock() RELEASE() { mu_.Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace shoal
