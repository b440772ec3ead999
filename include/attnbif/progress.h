/* Progress reporting for long runs: a bar with ETA on a terminal, a line every few
 * seconds otherwise. */
#ifndef ATTNBIF_PROGRESS_H
#define ATTNBIF_PROGRESS_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ab_progress ab_progress;

/* out NULL makes a silent reporter (e.g. --quiet). Returns NULL only when out of memory. */
ab_progress *ab_progress_create(const char *label, FILE *out);
/* fraction in [0, 1]; cheap to call often (prints at most a few times per second). */
void ab_progress_update(ab_progress *progress, double fraction);
/* Final line with the elapsed time, then free. NULL allowed. */
void ab_progress_finish(ab_progress *progress);

#ifdef __cplusplus
}
#endif
#endif
