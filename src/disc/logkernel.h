/* The exact zonal convolution with e^{beta<x,y>} in log form (docs/theory.md, "Log-domain
 * kernel"): for zonal rho,
 *   log (K rho)(t) = log int e^{beta t s} G_mu(beta sqrt(1-t^2) sqrt(1-s^2)) rho(s) w_d(s) ds,
 * mu = (d-3)/2, evaluated by quadrature on nodes s_j as a log-sum-exp. */
#ifndef AB_LOGKERNEL_H
#define AB_LOGKERNEL_H

#include <stddef.h>

/* The kernel-form choice, shared by the zonal and the whole-sphere discretisations. */
/* Largest error of Phi/kappa (in units of u = log rho), relative to the size of Phi/kappa
 * (the residual's own rounding floor), the kernel evaluation may have before the other form
 * is tried (docs/theory.md, "Choosing the kernel form"). */
#define AB_KERNEL_TOL 1e-12
/* ... and never more than this in absolute terms (units of u = log rho) without trying the
 * log form: at small noise the terms grow like 1/kappa and a relative 1e-12 of them passes
 * the 1e-9 a resolved state may have (AB_RESOLUTION_KERNEL), while the log form stays near
 * 1e-11 there (SA d = 3, beta = 4, kappa = 1e-3 kappa_1: Funk-Hecke 1.5e-9 at any N, so the
 * state was refused as unresolved; log form 5.6e-12, resolved at 768 nodes). */
#define AB_KERNEL_ABS_TOL 1e-10
/* Switch forms only when the other one is better by this factor (no flip-flopping between
 * two forms of equal accuracy). */
#define AB_KERNEL_SWITCH_GAIN 4.0

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
