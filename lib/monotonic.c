/*
 * monotonic - deadlines and elapsed times; see monotonic.h.
 */
#include "monotonic.h"

struct timespec monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

struct timespec monotonic_after(struct timespec t, unsigned ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

unsigned monotonic_ms_between(struct timespec a, struct timespec b)
{
	long long ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;

	return ms < 0 ? 0 : (unsigned)ms;
}

bool monotonic_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

long long monotonic_ms(void)
{
	struct timespec ts = monotonic_now();

	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

long long monotonic_us(void)
{
	struct timespec ts = monotonic_now();

	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
