/* Internal: the label reader on an open stream (the fuzz target reads from memory). */
#ifndef AB_SPEC_LABEL_IN_H
#define AB_SPEC_LABEL_IN_H

#include "attnbif/label.h"

#include <stdio.h>

/* ab_label_read_file on f (not closed); path is only used in messages. */
ab_status ab_label_read_stream(FILE *f, const char *path, const char *name, ab_label *label, ab_error *err);

#endif
