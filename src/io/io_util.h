/* Helpers private to the output modules of src/io. */
#ifndef AB_IO_UTIL_H
#define AB_IO_UTIL_H

#include "attnbif/io.h"

#include <stdint.h>

/* A value unlikely to repeat between calls and processes, for unique temporary names
 * (callers still create with O_EXCL / mkdir and retry on a clash). */
unsigned long ab_unique_tag(uintptr_t salt);

/* ab_outdir_commit as on a file system without renameat2(RENAME_EXCHANGE): the previous
 * result is renamed aside first (for tests of that path). */
ab_status ab_outdir_commit_without_exchange(ab_outdir *od, ab_error *err);

#endif
