/* Internal: one replica of the particle system and its step, sample and histogram. */
#ifndef AB_SIM_PARTICLES_H
#define AB_SIM_PARTICLES_H

#include "attnbif/sim.h"

#include <gsl/gsl_rng.h>
#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_in_parallel(void) { return 0; }
#endif

typedef struct {
    ab_model_kind kind;
    int n, d;
    double beta, kappa, dt;
    const ab_sim_spec *sim;
    double *X, *V, *Y;          /* positions, drift, next positions (n x d, row-major) */
    double *XT;                 /* X transposed (d x n): the drift's unit-stride copy */
    double *skew, *dW, *dW2;    /* this step's noise */
    double *small;              /* d x d + 5 d scratch */
    double *delta, *X2, *Y2;    /* tangent vector and perturbed copy (Lyapunov) */
    gsl_rng *rng;
} ab_particles;

/* One sample; mean (d) and second (d x d) point to the caller's storage, allocated once
 * per replica, so that any d works without allocation in the step loop. */
typedef struct {
    double r, S, q;
    double *mean, *second;
} ab_sample;

ab_status ab_particles_init(ab_particles *p, const ab_model *model, double kappa, int n, const ab_sim_spec *sim,
                            double dt, unsigned long seed, ab_error *err);
void ab_particles_free(ab_particles *p);
/* One step; returns log of the tangent vector's growth (0 without Lyapunov). */
double ab_particles_step(ab_particles *p);
void ab_particles_sample(const ab_particles *p, ab_sample *s);
void ab_particles_pair_histogram(const ab_particles *p, int bins, double *counts, double *abs_q_sum, long *pairs);
/* V = P_X(v(X)) for positions X (n x d); XT is n x d scratch (X transposed). */
void ab_attention_drift(ab_model_kind kind, int n, int d, double beta, const double *X, double *XT, double *V);

#endif
