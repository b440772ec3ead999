/* Finite-n particle simulator (docs/simulation.md; the model: docs/theory.md): n tokens on
 * S^{d-1} moved by the exact SA/USA attention drift, independent Brownian motions of
 * strength kappa and, optionally, a common random-quadratic-form noise; stationary
 * statistics with error bars, finite-n estimates of kappa_c, and the top Lyapunov exponent. */
#ifndef ATTNBIF_SIM_H
#define ATTNBIF_SIM_H

#include "attnbif/error.h"
#include "attnbif/model.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AB_SIM_MAX_SWEEP 64

/* The `simulation:` section of a spec (docs/spec-simulation.md). */
typedef struct {
    int n;                 /* tokens */
    int replicas;          /* independent replicas */
    unsigned long seed;
    double dt;             /* time step; 0 = chosen by the program */
    double t_burn;         /* burn-in time (not measured) */
    double t_measure;      /* measured time */
    double sample_every;   /* time between samples */
    int bins;              /* histogram bins */
    int attention;         /* attention drift on/off */
    int independent_noise; /* independent Brownian motions (strength kappa) on/off */
    double common_noise;   /* strength s of the common RQF noise (0: none) */
    int lyapunov;          /* estimate the top Lyapunov exponent */
    int timeseries;        /* write the sample time series of replica 0 */
    int initial_cluster;   /* start all tokens near one pole instead of uniformly */
    /* switching between basins (docs/metastability.md): the order r is "low" once below
     * switch_lo and "high" once above switch_hi (hysteresis), checked at every step of the
     * measured time; residence times are the intervals between entries */
    int switching;
    double switch_lo, switch_hi;
    /* sweep (n_kappa = 0: no sweep) */
    int n_kappa;
    double kappa[AB_SIM_MAX_SWEEP];
    int n_sizes;
    int sizes[AB_SIM_MAX_SWEEP];
} ab_sim_spec;

/* A statistic's mean and standard error. */
typedef struct {
    double mean, err;
} ab_estimate;

/* Everything measured in one simulation (one kappa, one n). */
typedef struct {
    int n, d, replicas, samples_per_replica;
    double kappa, beta, dt;
    ab_estimate r, r2, r4, S, q, abs_q, binder, chi, lyapunov;
    int batches;                 /* batch means behind the errors of r, S, q, binder, chi */
    double batch_time;           /* their length in time units */
    double tau_r;                /* integrated autocorrelation time of r from the batch variance:
                                  * the errors are honest when batch_time >> tau_r */
    ab_estimate mean_x_norm;     /* |replica mean of x| averaged: one-point law check */
    ab_estimate second_moment;   /* largest |eigenvalue| of E[x x^T] - I/d */
    int bins;
    double *hist_q, *hist_r;     /* normalised densities on [-1,1] and [0,1] (bins each) */
    double *hist_S, S_lo, S_hi;  /* density of the nematic order S on [S_lo, S_hi] = [-1/(d-1), 1] */
    int n_series;
    double *series;              /* replica 0: rows (t, r, S, q) */
    /* switching (sim->switching): transitions seen and the mean residence time in the low
     * (0) and high (1) basin over the completed intervals of all replicas, with the standard
     * error of the mean (NaN with fewer than 2 intervals); count = intervals behind it */
    long transitions;
    ab_estimate residence[2];
    long residence_count[2];
    int incomplete;              /* 1: a statistic that was asked for could not be computed */
    char note[300];              /* why some statistics are null (NaN), "" if none */
} ab_sim_result;

/* Fewest batch means (replicas x batches per replica) behind an error bar, a Binder
 * cumulant or a susceptibility; with fewer they are null (NaN) with a note (with 2 batches
 * the jackknife Binder cumulant is exactly 1 +- 0). */
#define AB_SIM_MIN_BATCHES 8
/* Fewest completed residence intervals in a basin behind a mean residence time (the
 * intervals are nearly exponential: with 10 the relative error is about 30%). */
#define AB_SIM_MIN_INTERVALS 10
/* With switching on, the automatic time step is this fraction of the usual one. */
#define AB_SIM_SWITCH_DT_FACTOR 0.1

void ab_sim_result_free(ab_sim_result *res);

/* The integrator's rate scale: max of the attention drift's Lipschitz bound, kappa (d-1)
 * and the common noise's s^2 d; dt * rate must stay small (docs/simulation.md). */
double ab_sim_rate(ab_model_kind kind, int d, double beta, double kappa, const ab_sim_spec *sim);
/* dt the program uses for a spec (sim->dt if set, else 0.01 / rate capped at 0.01); fails
 * with a message when a user dt is too large (dt * rate > 0.1). */
ab_status ab_sim_choose_dt(ab_model_kind kind, int d, double beta, double kappa, const ab_sim_spec *sim, double *dt,
                           ab_error *err);

/* Largest number of steps per replica: step counts are exact in a double and fit a long. */
#define AB_SIM_MAX_STEPS 9007199254740992.0 /* 2^53 */

/* Step counts of one simulation at time step dt: burn-in steps, steps between samples and
 * samples per replica (at least 1). Fails (AB_EINVAL, saying what to change) when a count is
 * not finite, the total exceeds AB_SIM_MAX_STEPS or the samples exceed INT_MAX, so that no
 * conversion can overflow. */
ab_status ab_sim_steps(const ab_sim_spec *sim, double dt, long *burn, long *every, long *samples, ab_error *err);

/* Progress callback: fraction done in [0, 1]. */
typedef void (*ab_sim_progress)(void *ctx, double fraction);

/* Run all replicas of one (model, kappa, n) in parallel (OpenMP). Replica k draws from its
 * own generator seeded from (seed, k, n, kappa index) so results do not depend on the
 * number of threads. */
ab_status ab_sim_run(const ab_model *model, double kappa, int n, const ab_sim_spec *sim, unsigned long stream,
                     ab_sim_progress progress, void *progress_ctx, ab_sim_result *res, ab_error *err);

/* Finite-n critical noise from a kappa sweep: the maximum of the susceptibility
 * chi = n (<r^2> - <r>^2), located by a parabola through the largest value and its two
 * neighbours; the error combines the propagated errors of chi with the grid spacing.
 * kappa must be increasing. */
ab_status ab_kappa_c_estimate(int count, const double *kappa, const double *chi, const double *chi_err,
                              double *kappa_c, double *error, ab_error *err);

/* Finite-n critical noise from the Binder cumulants U = (d+2)/2 - (d/2)<r^4>/<r^2>^2 of two
 * sizes n_small < n_large on the same increasing kappa grid: where U_large - U_small changes
 * sign (the larger system is more ordered below kappa_c, less ordered above), by linear
 * interpolation between the two bracketing grid points. The error propagates the two
 * cumulants' errors (u_*_err, may be NAN) through the interpolation. With no sign change,
 * or several significant ones, returns AB_ENOCONV with a message (kappa_c is then the
 * grid point of smallest |U_large - U_small| and error the whole sweep's half-width). */
ab_status ab_kappa_c_binder_crossing(int count, const double *kappa, const double *u_small, const double *u_small_err,
                                     const double *u_large, const double *u_large_err, double *kappa_c, double *error,
                                     ab_error *err);

/* The exact mean residence times of n = 2 tokens in the basins r < r_lo ("low", entered
 * at r = r_lo, left at r = r_hi) and r > r_hi ("high"), r = sqrt((1 + q)/2): the overlap q is
 * a one-dimensional diffusion with generator 2 kappa (1 - q^2) f'' + b f' and invariant law
 * p (below), whose mean first-passage times are integrals of p (docs/metastability.md). */
ab_status ab_pair_residence_times(ab_model_kind kind, int d, double beta, double kappa, double r_lo, double r_hi,
                                  double *t_low, double *t_high, ab_error *err);

/* The exact n = 2 overlap law (docs/theory.md, Two tokens): density p(q) prop. to
 * (1-q^2)^{(d-3)/2} exp(W(q)/kappa). Its mean, and the probabilities of bins equal-width
 * bins of [-1, 1]. */
ab_status ab_pair_overlap_law(ab_model_kind kind, int d, double beta, double kappa, int bins, double *mean,
                              double *bin_prob, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
