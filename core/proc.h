/* Processes as /proc sees them. */
#ifndef FL_CORE_PROC_H
#define FL_CORE_PROC_H

#include <sys/types.h>

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot), or 0 when it is gone or unreadable. A pid with the same start
 * time is still the same process, not a reused pid. */
unsigned long long fl_proc_start_time(pid_t pid);

/* The same, but 0 also for a process that has ended and waits to be reaped
 * (a zombie, state Z or X): for telling whether an owner is still alive. */
unsigned long long fl_proc_live_start_time(pid_t pid);

#endif
