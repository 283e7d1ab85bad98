/*
 * monotonic - time for deadlines and elapsed times, on CLOCK_MONOTONIC, written once.
 *
 * Wall-clock time jumps (NTP, an admin's date command); a deadline or a "ms" in a log line must
 * not.  Condition variables that wait for these deadlines are made with
 * pthread_condattr_setclock(CLOCK_MONOTONIC).
 */
#ifndef DNSGUARD_MONOTONIC_H
#define DNSGUARD_MONOTONIC_H

#include <stdbool.h>
#include <time.h>

struct timespec monotonic_now(void);
/* t plus ms milliseconds. */
struct timespec monotonic_after(struct timespec t, unsigned ms);
/* Milliseconds from a to b, 0 if b is not after a. */
unsigned monotonic_ms_between(struct timespec a, struct timespec b);
bool monotonic_before(struct timespec a, struct timespec b);
/* Milliseconds (microseconds) since an arbitrary fixed point: for comparing ages. */
long long monotonic_ms(void);
long long monotonic_us(void);

#endif
