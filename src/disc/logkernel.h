/* The exact zonal convolution with e^{beta<x,y>} in log form (docs/theory.md, "Log-domain
 * kernel"): for zonal rho,
 *   log (K rho)(t) = log int e^{beta t s} G_mu(beta sqrt(1-t^2) sqrt(1-s^2)) rho(s) w_d(s) ds,
 * mu = (d-3)/2, evaluated by quadrature on nodes s_j as a log-sum-exp. */
#ifndef AB_LOGKERNEL_H
#define AB_LOGKERNEL_H

#include <stddef.h>

/* Tables (column-major, nt x ns) of the log kernel between points t_i and nodes s_j:
 * KL = beta t s + log G_mu(z) + logw_s[j] (logw_s may be NULL), and optionally its
 * derivatives in beta (KB) and in t (KT); either may be NULL. */
void ab_logkernel_table(double mu, double beta, int nt, const double *t, int ns, const double *s,
                        const double *logw_s, double *KL, double *KB, double *KT);

/* LK_i = log sum_j exp(KL_ij + u_j), and if A != NULL the row-stochastic softmax matrix
 * A_ij = exp(KL_ij + u_j - LK_i) (nt x ns, column-major): d LK_i / d u_j. */
void ab_logkernel_apply(int nt, int ns, const double *KL, const double *u, double *LK, double *A);

/* The largest |exponent| met in ab_logkernel_apply: LK is accurate to about machine epsilon
 * times this (absolute), which is the log-domain form's error estimate. */
double ab_logkernel_max_exponent(int nt, int ns, const double *KL, const double *u, const double *LK);

#endif
