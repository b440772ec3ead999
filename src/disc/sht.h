/* Spherical harmonic transforms on S^2 (docs/sphere.md, "Transforms"): real orthonormal
 * harmonics up to degree L on a Gauss-Legendre (in cos theta) x uniform-longitude grid,
 * analysis, synthesis, gradients and point evaluation. Internal to the sphere discretisation. */
#ifndef AB_SHT_H
#define AB_SHT_H

#include "attnbif/error.h"

#include <stddef.h>

/* Conventions (docs/sphere.md):
 * - x = (sin theta cos phi, sin theta sin phi, cos theta); the measure is the normalised
 *   surface measure sigma (total mass 1), so Y_00 = 1 and int Y_lm Y_l'm' dsigma = delta.
 * - Real harmonics: Y_l0 = sqrt(2l+1) P_l(cos theta); for m > 0
 *   Y_lm = sqrt(2) Nbar_lm P_l^m(cos theta) cos(m phi), Y_l,-m = ... sin(m phi), with Nbar
 *   the factor that makes them orthonormal for sigma and no Condon-Shortley phase.
 * - Coefficient (l, m), -l <= m <= l, is stored at index l*l + l + m: (L+1)^2 in all.
 * - Grid point (i, j) is theta_i (cos theta_i the i-th Gauss-Legendre node, ascending),
 *   phi_j = 2 pi j / nlon, stored at index i * nlon + j. */
typedef struct ab_sht ab_sht;

/* A transform of degree L >= 0 on a grid of nlat >= L + 1 latitudes and nlon >= 2 L + 1
 * longitudes (nlat = nlon = 0: the smallest, L + 1 and 2 L + 2). Analysis is exact for
 * functions of degree <= 2 nlat - 1 - L in cos theta and |m| < nlon - L; every transform
 * workspace is allocated here (none per call). A handle is not reentrant. */
ab_status ab_sht_create(int L, int nlat, int nlon, ab_sht **out, ab_error *err);
void ab_sht_destroy(ab_sht *sht);

int ab_sht_degree(const ab_sht *sht);
int ab_sht_nlat(const ab_sht *sht);
int ab_sht_nlon(const ab_sht *sht);
size_t ab_sht_npoints(const ab_sht *sht);  /* nlat * nlon */
size_t ab_sht_ncoeffs(const ab_sht *sht);  /* (L + 1)^2 */
static inline size_t ab_sht_index(int l, int m) { return (size_t)l * (size_t)l + (size_t)(l + m); }

/* Quadrature weights of the grid for sigma (npoints values, sum 1), and the points as
 * unit vectors (npoints x 3, row-major), cos theta (nlat values) and phi (nlon values). */
const double *ab_sht_weights(const ab_sht *sht);
const double *ab_sht_points(const ab_sht *sht);
const double *ab_sht_cos_theta(const ab_sht *sht);
const double *ab_sht_phi(const ab_sht *sht);

/* coeffs[lm] = sum_p w_p f_p Y_lm(x_p), the quadrature of int f Y_lm dsigma. */
ab_status ab_sht_analysis(ab_sht *sht, const double *f, double *coeffs, ab_error *err);
/* f_p = sum_lm coeffs[lm] Y_lm(x_p). */
ab_status ab_sht_synthesis(ab_sht *sht, const double *coeffs, double *f, ab_error *err);
/* The tangential gradient of f = sum coeffs Y_lm on the grid: d f / d theta and
 * (1 / sin theta) d f / d phi (the grid has no poles, so both are finite). */
ab_status ab_sht_synthesis_grad(ab_sht *sht, const double *coeffs, double *dtheta, double *dphi_sin,
                                ab_error *err);
/* f at n arbitrary unit vectors x (n x 3, row-major): O(L^2) per point, in the handle's
 * workspace. */
ab_status ab_sht_eval(ab_sht *sht, const double *coeffs, size_t n, const double *x, double *f,
                      ab_error *err);

#endif
