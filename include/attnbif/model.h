/* The physics of noisy attention on S^{d-1}: models, Funk-Hecke coefficients and the
 * analytic spectrum of the uniform state (docs/theory.md, The model). */
#ifndef ATTNBIF_MODEL_H
#define ATTNBIF_MODEL_H

#include "attnbif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    AB_MODEL_SA = 0, /* softmax attention, post-normalised: Phi = (1/beta) log K rho */
    AB_MODEL_USA = 1 /* unnormalised attention:             Phi = (1/beta) K rho */
} ab_model_kind;

/* What fixes the model: kind, sphere dimension (tokens on S^{d-1}, d >= 2) and the
 * inverse temperature beta >= 0. The noise kappa is a separate argument everywhere
 * because it is the usual continuation parameter. */
typedef struct {
    ab_model_kind kind;
    int d;
    double beta;
} ab_model;

/* "SA" / "USA". */
const char *ab_model_kind_name(ab_model_kind kind);

/* Check d >= 2 and beta finite and >= 0; fills err on failure. */
ab_status ab_model_validate(const ab_model *model, ab_error *err);

/* Funk-Hecke eigenvalue of the kernel e^{beta<x,y>} on degree-l harmonics,
 * lambda_l = Gamma(d/2) (2/beta)^nu I_{l+nu}(beta), nu = d/2 - 1 (lambda_0(0) = 1).
 * Large beta overflows double (lambda_0 ~ e^beta): prefer ab_kappa_l. */
double ab_lambda_l(int d, double beta, int l);

/* log lambda_l(beta), finite wherever lambda_l itself would overflow or underflow
 * (-inf for l >= 1 at beta = 0). */
double ab_log_lambda_l(int d, double beta, int l);

/* Modified Bessel function I_nu(x) in log form, nu >= 0, x >= 0: relative accuracy ~1e-13
 * (absolute in the log) for orders up to ~1e4 and arguments up to ~1e5, where I_nu itself
 * under- or overflows (docs/theory.md, "Special functions"). */
double ab_log_bessel_i(double nu, double x);
/* The ratio I_{nu+1}(x) / I_nu(x), nu >= 0, x >= 0. */
double ab_bessel_i_ratio(double nu, double x);
/* log G_mu(z), G_mu(z) = Gamma(mu+1) (2/z)^mu I_mu(z) = the mean of e^{z c} over the sphere
 * S^{2 mu + 1} (c the first coordinate); mu = -1/2 gives cosh z. This is the kernel of the
 * exact zonal convolution (docs/theory.md, "Log-domain kernel"). */
double ab_log_sphere_mean_exp(double mu, double z);
/* d/dz log G_mu(z) = I_{mu+1}(z) / I_mu(z) (tanh z for mu = -1/2). */
double ab_dlog_sphere_mean_exp(double mu, double z);
/* log of the Funk-Hecke coefficient of e^{z c} on degree-m harmonics of S^{2 mu + 1},
 * Gamma(mu+1) (2/z)^mu I_{mu+m}(z) (m = 0: G_mu; mu = -1/2, m = 1: sinh z): the kernel of
 * the zonal convolution in symmetry sector m. -inf at z = 0 for m >= 1. */
double ab_log_sphere_harmonic_exp(double mu, int m, double z);

/* Critical noise of degree l at the uniform state (docs/theory.md), equal to the coefficient
 * with which degree-l harmonics of rho enter the potential Phi:
 *   SA:  kappa_l = I_{l+nu}(beta) / (beta I_nu(beta))
 *   USA: kappa_l = lambda_l(beta) / beta
 * computed without overflow (scaled Bessel functions) and with the exact beta -> 0 limit
 * (1/d for l = 1, 0 for l >= 2). kappa_0 is defined as 0 (constants do not move tokens).
 * Returns NaN for l < 0 or invalid d/beta. */
double ab_kappa_l(ab_model_kind kind, int d, double beta, int l);

/* kappa_l for l = 0..lmax into out[0..lmax]; faster than lmax+1 calls. */
ab_status ab_kappa_l_table(ab_model_kind kind, int d, double beta, int lmax, double *out,
                           ab_error *err);

/* Derivative d kappa_l / d beta (for continuation in beta), same conventions. */
double ab_kappa_l_dbeta(ab_model_kind kind, int d, double beta, int l);

/* Eigenvalue of the linearised Fokker-Planck operator at the uniform state on degree-l
 * harmonics: mu_l = -l (l + d - 2) (kappa - kappa_l). */
double ab_uniform_eigenvalue(ab_model_kind kind, int d, double beta, double kappa, int l);

/* Dimension of the space of degree-l spherical harmonics on S^{dim-1}, N(dim, l)
 * (dim >= 1; N(1, 0) = N(1, 1) = 1, N(1, l >= 2) = 0). */
long ab_harmonic_dim(int dim, int l);

#ifdef __cplusplus
}
#endif
#endif
