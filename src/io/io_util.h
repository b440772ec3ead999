/* Helpers private to the output modules of src/io. */
#ifndef AB_IO_UTIL_H
#define AB_IO_UTIL_H

#include <stdint.h>

/* A value unlikely to repeat between calls and processes, for unique temporary names
 * (callers still create with O_EXCL / mkdir and retry on a clash). */
unsigned long ab_unique_tag(uintptr_t salt);

#endif
