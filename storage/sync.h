// storage/sync.h — mutexes the compiler checks: the one locking vocabulary of every module.
//
// Purpose: a member guarded by a mutex says so in code (FORESIGHT_GUARDED_BY(mu_)), and a
// function that expects a lock held says so too (FORESIGHT_REQUIRES(mu_)). Clang's
// -Wthread-safety checks both at compile time (CI builds with clang and makes its warnings
// errors); GCC compiles the annotations away. libstdc++'s std::mutex carries no annotations,
// hence these thin wrappers, after Abseil's Mutex and LevelDB's port::Mutex.
//
// Threading: Mutex and SharedMutex are thread-safe; a lock object belongs to the thread that
// made it. CondVar waits atomically release and reacquire the mutex, as std::condition_variable
// does.
//
// Cost: the same as the std types underneath; every method is inline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define FORESIGHT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define FORESIGHT_THREAD_ANNOTATION(x)
#endif

#define FORESIGHT_CAPABILITY(x) FORESIGHT_THREAD_ANNOTATION(capability(x))
#define FORESIGHT_SCOPED_CAPABILITY FORESIGHT_THREAD_ANNOTATION(scoped_lockable)
#define FORESIGHT_GUARDED_BY(x) FORESIGHT_THREAD_ANNOTATION(guarded_by(x))
#define FORESIGHT_PT_GUARDED_BY(x) FORESIGHT_THREAD_ANNOTATION(pt_guarded_by(x))
#define FORESIGHT_ACQUIRE(...) FORESIGHT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define FORESIGHT_ACQUIRE_SHARED(...) \
  FORESIGHT_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define FORESIGHT_RELEASE(...) FORESIGHT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define FORESIGHT_RELEASE_SHARED(...) \
  FORESIGHT_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define FORESIGHT_REQUIRES(...) FORESIGHT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define FORESIGHT_REQUIRES_SHARED(...) \
  FORESIGHT_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define FORESIGHT_EXCLUDES(...) FORESIGHT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define FORESIGHT_RETURN_CAPABILITY(x) FORESIGHT_THREAD_ANNOTATION(lock_returned(x))
// For the rare function the analysis cannot follow; say why next to it.
#define FORESIGHT_NO_THREAD_SAFETY_ANALYSIS FORESIGHT_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace foresight {

class CondVar;

class FORESIGHT_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() FORESIGHT_ACQUIRE() { mu_.lock(); }
  void Unlock() FORESIGHT_RELEASE() { mu_.unlock(); }
  // Tells the analysis the calling thread holds this mutex (a lock it cannot see, such as one
  // taken by the caller of a callback). A no-op at run time.
  void AssertHeld() const FORESIGHT_THREAD_ANNOTATION(assert_capability(this)) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Many readers or one writer.
class FORESIGHT_CAPABILITY("mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() FORESIGHT_ACQUIRE() { mu_.lock(); }
  void Unlock() FORESIGHT_RELEASE() { mu_.unlock(); }
  void LockShared() FORESIGHT_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() FORESIGHT_RELEASE_SHARED() { mu_.unlock_shared(); }
  // As Mutex::AssertHeld, for a lock held shared (or exclusively).
  void AssertHeldShared() const FORESIGHT_THREAD_ANNOTATION(assert_shared_capability(this)) {}

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex for its scope; Unlock and Lock release and retake it inside the scope.
class FORESIGHT_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) FORESIGHT_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() FORESIGHT_RELEASE() {
    if (held_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() FORESIGHT_RELEASE() {
    mu_->Unlock();
    held_ = false;
  }
  void Lock() FORESIGHT_ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// Holds a SharedMutex exclusively for its scope.
class FORESIGHT_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex* mu) FORESIGHT_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterLock() FORESIGHT_RELEASE() { mu_->Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// Holds a SharedMutex shared for its scope.
class FORESIGHT_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex* mu) FORESIGHT_ACQUIRE_SHARED(mu) : mu_(mu) { mu_->LockShared(); }
  ~ReaderLock() FORESIGHT_RELEASE() { mu_->UnlockShared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// A condition variable over a Mutex. Waits are written as loops over the condition, so the
// analysis sees the guarded reads under the lock:  while (!ready_) cv_.Wait(&mu_);
class CondVar {
 public:
  // REQUIRES: the caller holds `mu`; it holds it again on return (wakeups may be spurious).
  void Wait(Mutex* mu) FORESIGHT_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, until `deadline` at the latest; false when the deadline passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline)
      FORESIGHT_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout)
      FORESIGHT_REQUIRES(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace foresight
