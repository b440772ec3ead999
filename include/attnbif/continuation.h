/* Pseudo-arclength continuation of stationary states with stability, detection and
 * location of folds, branch points and Hopf points, and branch switching. */
#ifndef ATTNBIF_CONTINUATION_H
#define ATTNBIF_CONTINUATION_H

#include "attnbif/diagram.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Progress of a run: a line per step and per special point (without any program name)
 * to the stream progress; NULL for none. ab_run_diagram_with sends the lines to a callback
 * instead. */
typedef struct {
    FILE *progress;
} ab_run_opts;

/* Draw the bifurcation diagram the spec's `continuation` section asks for: solve the
 * spec's state, follow it in the continuation parameter, locate special points to
 * ~1e-12 in the parameter, switch branches at zonal branch points (recursively, up to
 * max_branches) and record everything in diagram (initialised here; free with
 * ab_diagram_free, also on error). Only a failure to find the first state is an error:
 * a branch that cannot go on ends with an `end` point that says why. */
ab_status ab_run_diagram(const ab_spec *spec, const ab_run_opts *opts, ab_diagram *diagram, ab_error *err);
/* The same with the progress lines (no newline) to messages (NULL: none). */
ab_status ab_run_diagram_with(const ab_spec *spec, const ab_messages *messages, ab_diagram *diagram, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
