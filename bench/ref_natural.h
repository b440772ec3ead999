/* Straightforward reference for the bifurcation-diagram benchmark: natural-parameter
 * continuation with a finite-difference Jacobian and a full dense eigen-decomposition
 * (with eigenvectors) of every sector at every point. */
#ifndef AB_REF_NATURAL_H
#define AB_REF_NATURAL_H

#include "attnbif/disc.h"
#include "attnbif/spec.h"

typedef struct {
    int points;          /* converged points */
    int branch_points;   /* stability changes seen (each located to half a step) */
    double located[16];  /* their parameter values (bracket midpoints) */
    double last_kappa;   /* where the branch stopped */
} ref_natural_result;

/* Follow the state of `state` from kappa_start to kappa_end in steps of dkappa (natural
 * parameter), stopping early when Newton fails or, if stop_r > 0, when r + |S| drops below
 * it (the branch has fallen onto the uniform state). */
int ref_natural_branch(const ab_spec *spec, ab_state_type state, double kappa_start, double kappa_end, double dkappa,
                       double stop_r, ref_natural_result *out);

#endif
