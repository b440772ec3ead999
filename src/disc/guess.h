/* What the zonal and sphere discretisations share for initial guesses and parameter
 * derivatives: von Mises-Fisher concentrations of cluster guesses, profiles interpolated
 * onto nodes, and the SA beta-derivative factor (docs/theory.md, "Stationary states"). */
#ifndef AB_DISC_GUESS_H
#define AB_DISC_GUESS_H

#include "attnbif/error.h"

#include <stddef.h>

/* Concentration b of the von Mises-Fisher law that solves the beta = 0 self-consistency
 * b kappa = A_d(b) (A_d = I_{d/2}/I_{d/2-1}): a good cluster guess at every beta (1/kappa
 * where there is no cluster at beta = 0). */
double ab_vmf_concentration(int d, double kappa);
/* Concentration b of the von Mises-Fisher law with mean resultant length r: A_d(b) = r. */
double ab_vmf_for_r(int d, double r);

/* log rho at m nodes t_i (read at tq[i * stride]) from the density samples (t_k, rho_k),
 * k < n, by piecewise-linear interpolation of log rho in t (Newton then restores full
 * accuracy; exact at the samples themselves); the samples need not be sorted. AB_EINVAL
 * naming the sample for fewer than 2 samples, t outside [-1, 1] or rho <= 0. */
ab_status ab_log_profile_at(int n, const double *t, const double *rho, size_t m, const double *tq, size_t stride,
                            double *u, ab_error *err);

/* (x/(1+x) - log1p(x)) / x^2, -> -1/2 at x = 0 (series below 1e-3): d Phi / d beta of SA at
 * fixed Y is Y_beta / (1 + beta Y) + Y^2 h(beta Y) (docs/theory.md). */
double ab_sa_dbeta_factor(double x);

#endif
