/* libfaketime 0.9.10 turns clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) into EINVAL when the monotonic clock
   is not faked, which breaks Python's time.sleep. Loaded before libfaketime, this passes it to the kernel as is. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    return syscall(SYS_clock_nanosleep, clock, flags, req, rem) == 0 ? 0 : errno;
}
