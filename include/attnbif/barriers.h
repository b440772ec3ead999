/* Free-energy barriers of gradient models along a bifurcation diagram, and the
 * Eyring-Kramers prediction of mean lifetimes at n tokens (docs/metastability.md). */
#ifndef ATTNBIF_BARRIERS_H
#define ATTNBIF_BARRIERS_H

#include "attnbif/diagram.h"
#include "attnbif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One saddle point of a branch against one stable state at the same parameter. */
typedef struct {
    double kappa, beta;
    int saddle_branch, saddle_point; /* branch id and row of the unstable state */
    long morse_index;                /* its unstable eigenvalues (1: a transition state) */
    int stable_branch;               /* branch id of the stable state (interpolated at kappa) */
    double e_saddle, e_stable;       /* free energies relative to the uniform state */
    double barrier;                  /* e_saddle - e_stable >= 0 */
    double mu_unstable;              /* the saddle's largest eigenvalue (> 0) */
    double mu_stable;                /* the stable state's largest eigenvalue (< 0): its slowest mode */
    /* Eyring-Kramers at n tokens: tau(n) ~ prefactor exp(n barrier / kappa), the prefactor
     * 2 pi / sqrt(mu_unstable |mu_stable|) of the reduction to the unstable direction
     * (docs/metastability.md says what is approximated); NaN unless morse_index is 1. */
    double prefactor;
} ab_barrier;

typedef struct {
    int n, cap;
    ab_barrier *rows;
} ab_barrier_set;

void ab_barrier_set_free(ab_barrier_set *set);

/* The barriers of a diagram in kappa of a gradient model (USA): every unstable row of a
 * branch against every stable state at the same kappa on a branch connected to it (the same
 * branch past a fold, the branch it was born from, the branches born on it), the stable
 * state's free energy interpolated between its rows by cubic Hermite pieces with the exact
 * slope dE/dkappa = -entropy. A diagram without free energies (SA) gives an empty set. */
ab_status ab_diagram_barriers(const ab_diagram *diagram, ab_barrier_set *set, ab_error *err);

/* The Eyring-Kramers mean lifetime tau(n) = prefactor exp(n barrier / kappa) of a row. */
double ab_barrier_lifetime(const ab_barrier *row, double n);

#ifdef __cplusplus
}
#endif
#endif
