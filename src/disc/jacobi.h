/* Symmetric Jacobi (Gegenbauer) weights (1 - t^2)^alpha on [-1, 1]: Gauss nodes (from GSL)
 * and orthonormal polynomials with their derivatives by the three-term recurrence. */
#ifndef AB_JACOBI_H
#define AB_JACOBI_H

#include "attnbif/error.h"

/* integral of (1 - t^2)^alpha over [-1, 1] = B(1/2, alpha + 1), alpha > -1, and its log. */
double ab_jacobi_mass(double alpha);
double ab_jacobi_log_mass(double alpha);

/* n Gauss-Jacobi nodes t (ascending) and weights for (1 - t^2)^alpha, with the weights
 * multiplied by scale (so scale = 1 / ab_jacobi_mass(alpha0) gives weights of the
 * normalised measure c (1 - t^2)^alpha0 times (1 - t^2)^(alpha - alpha0)). The weights
 * go to w and their logs to logw (either may be NULL); both are accurate in relative terms
 * (w underflows to 0 at large alpha, logw does not). */
ab_status ab_gauss_jacobi(double alpha, int n, double scale, double *t, double *w, double *logw, ab_error *err);

/* Values p[k] (and derivatives dp[k] if dp != NULL), k = 0..kmax, at t of the polynomials
 * orthonormal for the measure scale * (1 - t^2)^alpha dt. */
void ab_jacobi_eval(double alpha, double scale, int kmax, double t, double *p, double *dp);
/* The same times e^{log_factor}, computed without intermediate overflow: with
 * log_factor = log(w_i)/2 at a node t_i of the matching rule every value is <= 1. */
void ab_jacobi_eval_scaled(double alpha, double scale, int kmax, double t, double log_factor, double *p, double *dp);

#endif
