/* Internal: the profile reader on an open stream (the fuzz target reads from memory). */
#ifndef AB_IO_PROFILE_IN_H
#define AB_IO_PROFILE_IN_H

#include "attnbif/io.h"

#include <stdio.h>

/* ab_read_profile on f (not closed); path is only used in messages. */
ab_status ab_read_profile_stream(FILE *f, const char *path, int *n_out, double **t_out, double **rho_out, ab_error *err);

#endif
