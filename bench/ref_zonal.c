/* Reference implementation for bench_solve and test_reference (see ref_zonal.h): written
 * the plain way, for cross-checking and as the speed baseline. */
#include "ref_zonal.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ref_zonal {
    int sa, d, n;
    double beta, kappa, a, cd;
    double *t, *w, *u, *rho, *K; /* K: n x n Nystrom matrix W_j k(t_i, t_j), row-major */
};

/* Funk-Hecke coefficient of degree m of e^{z <xi, eta>} on S^{d-2}, times e^{-z}:
 * Gamma((d-1)/2) (2/z)^{(d-3)/2} I_{m+(d-3)/2}(z) e^{-z}; d = 2: cosh or sinh. */
static double angular_scaled(int d, int m, double z)
{
    if (d == 2) return m == 0 ? 0.5 * (1.0 + exp(-2.0 * z)) : 0.5 * (1.0 - exp(-2.0 * z));
    double nu = 0.5 * (d - 3);
    if (z < 1e-8) return m == 0 ? 1.0 : 0.0;
    gsl_sf_result r;
    if (gsl_sf_bessel_Inu_scaled_e(m + nu, z, &r)) return 0.0;
    return exp(gsl_sf_lngamma(nu + 1.0) + nu * log(2.0 / z)) * r.val;
}

/* Zonal kernel of sector m between t and s: e^{beta t s} times the angular factor at
 * z = beta sqrt(1-t^2) sqrt(1-s^2). */
static double kernel(int d, int m, double beta, double t, double s)
{
    double z = beta * sqrt(fmax(0.0, 1.0 - t * t)) * sqrt(fmax(0.0, 1.0 - s * s));
    return exp(beta * t * s + z) * angular_scaled(d, m, z);
}

static void gauss_jacobi(double alpha, int n, double *t, double *w)
{
    gsl_integration_fixed_workspace *ws = gsl_integration_fixed_alloc(gsl_integration_fixed_jacobi, n, -1, 1, alpha, alpha);
    memcpy(t, gsl_integration_fixed_nodes(ws), sizeof(double) * n);
    memcpy(w, gsl_integration_fixed_weights(ws), sizeof(double) * n);
    gsl_integration_fixed_free(ws);
}

/* Phi at the nodes from rho (constants dropped into log Z later). */
static void potential(const ref_zonal *R, const double *rho, double *Phi)
{
    for (int i = 0; i < R->n; i++) {
        double k = 0.0;
        for (int j = 0; j < R->n; j++) k += R->K[(size_t)i * R->n + j] * rho[j];
        Phi[i] = R->sa ? log(k) / R->beta : k / R->beta;
    }
}

static double residual(const ref_zonal *R, const double *u, double *F, double *rho, double *Phi)
{
    const int n = R->n;
    for (int i = 0; i < n; i++) rho[i] = exp(u[i]);
    potential(R, rho, Phi);
    double mx = -INFINITY, z = 0.0, res = 0.0;
    for (int i = 0; i < n; i++) mx = fmax(mx, Phi[i] / R->kappa);
    for (int i = 0; i < n; i++) z += R->w[i] * exp(Phi[i] / R->kappa - mx);
    double logZ = mx + log(z);
    for (int i = 0; i < n; i++) { F[i] = u[i] - Phi[i] / R->kappa + logZ; res = fmax(res, fabs(F[i])); }
    return res;
}

ref_zonal *ref_zonal_solve(int sa, int d, double beta, double kappa, int nodes, ref_zonal_state *out)
{
    ref_zonal *R = calloc(1, sizeof *R);
    const int n = nodes;
    R->sa = sa; R->d = d; R->n = n; R->beta = beta; R->kappa = kappa; R->a = 0.5 * (d - 3);
    R->t = malloc(sizeof(double) * n); R->w = malloc(sizeof(double) * n); R->u = malloc(sizeof(double) * n);
    R->rho = malloc(sizeof(double) * n); R->K = malloc(sizeof(double) * (size_t)n * n);
    gauss_jacobi(R->a, n, R->t, R->w);
    double sw = 0.0;
    for (int i = 0; i < n; i++) sw += R->w[i];
    R->cd = 1.0 / sw;
    for (int i = 0; i < n; i++) R->w[i] /= sw;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) R->K[(size_t)i * n + j] = R->w[j] * kernel(d, 0, beta, R->t[i], R->t[j]);
    double *F = malloc(sizeof(double) * n), *F2 = malloc(sizeof(double) * n), *J = malloc(sizeof(double) * (size_t)n * n);
    double *rho = malloc(sizeof(double) * n), *Phi = malloc(sizeof(double) * n), *trial = malloc(sizeof(double) * n);
    lapack_int *piv = malloc(sizeof(lapack_int) * n);
    /* guess e^{t/kappa}, then fixed-point sweeps u <- Phi[e^u]/kappa - log Z, which move a
     * peaked guess onto a stable cluster before Newton (plain Newton from the guess can
     * slide to the uniform state) */
    for (int i = 0; i < n; i++) R->u[i] = R->t[i] / kappa;
    double res = residual(R, R->u, F, rho, Phi);
    for (int k = 0; k < 200 && res > 1e-6; k++) {
        for (int i = 0; i < n; i++) R->u[i] -= F[i];
        res = residual(R, R->u, F, rho, Phi);
    }
    int it = 0;
    for (; it < 100 && res > 1e-10; it++) {
        for (int j = 0; j < n; j++) { /* forward-difference Jacobian, column by column */
            double h = 1e-7 * fmax(1.0, fabs(R->u[j])), keep = R->u[j];
            R->u[j] = keep + h;
            residual(R, R->u, F2, rho, Phi);
            R->u[j] = keep;
            for (int i = 0; i < n; i++) J[i + (size_t)j * n] = (F2[i] - F[i]) / h;
        }
        for (int i = 0; i < n; i++) F2[i] = -F[i];
        if (LAPACKE_dgesv(LAPACK_COL_MAJOR, n, 1, J, n, piv, F2, n)) break;
        double lam = 1.0, r1 = INFINITY;
        for (int k = 0; k < 40; k++, lam *= 0.5) {
            for (int i = 0; i < n; i++) trial[i] = R->u[i] + lam * F2[i];
            r1 = residual(R, trial, F, rho, Phi);
            if (r1 < res) break;
        }
        memcpy(R->u, trial, sizeof(double) * n);
        res = residual(R, R->u, F, rho, Phi);
    }
    double r = 0.0, S = 0.0;
    for (int i = 0; i < n; i++) {
        R->rho[i] = exp(R->u[i]);
        r += R->w[i] * R->rho[i] * R->t[i];
        S += R->w[i] * R->rho[i] * (d * R->t[i] * R->t[i] - 1.0) / (d - 1.0);
    }
    out->r = fabs(r); out->S = S; out->newton_iterations = it; out->residual = res;
    free(F); free(F2); free(J); free(rho); free(Phi); free(trial); free(piv);
    if (res > 1e-8) { ref_zonal_free(R); return NULL; }
    return R;
}

/* Density and K rho at an arbitrary t by the Nystrom interpolant. */
static void state_at(const ref_zonal *R, double t, double *rho, double *krho)
{
    double k = 0.0, mx = -INFINITY, z = 0.0, Phi;
    for (int j = 0; j < R->n; j++) k += R->w[j] * kernel(R->d, 0, R->beta, t, R->t[j]) * R->rho[j];
    Phi = R->sa ? log(k) / R->beta : k / R->beta;
    /* log Z from the node values (u is normalised by the fixed point) */
    double Phin[4096];
    potential(R, R->rho, Phin);
    for (int i = 0; i < R->n; i++) mx = fmax(mx, Phin[i] / R->kappa);
    for (int i = 0; i < R->n; i++) z += R->w[i] * exp(Phin[i] / R->kappa - mx);
    *rho = exp(Phi / R->kappa - mx - log(z));
    *krho = k;
}

/* Orthonormal polynomials for c_d (1-t^2)^alpha by the recurrence, values and derivatives. */
static void jacobi(double alpha, double cd, int kmax, double t, double *p, double *dp)
{
    double mass = exp(gsl_sf_lnbeta(0.5, alpha + 1.0));
    p[0] = 1.0 / sqrt(cd * mass);
    dp[0] = 0.0;
    double bprev = 0.0;
    for (int k = 0; k < kmax; k++) {
        double b = k == 0 ? 1.0 / (2 * alpha + 3) : (k + 1.0) * (k + 1.0 + 2 * alpha) / ((2.0 * k + 2 * alpha + 3) * (2.0 * k + 2 * alpha + 1));
        double sb = sqrt(b), sbp = sqrt(bprev);
        p[k + 1] = (t * p[k] - (k ? sbp * p[k - 1] : 0.0)) / sb;
        dp[k + 1] = (p[k] + t * dp[k] - (k ? sbp * dp[k - 1] : 0.0)) / sb;
        bprev = b;
    }
}

static int cmp_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? 1 : (a > b ? -1 : 0);
}

int ref_zonal_sector(ref_zonal *R, int m, double *re, double *im, int *count)
{
    const int n = R->n, nb = n - m, d = R->d;
    const double am = R->a + m, as = m ? R->a + m - 1 : R->a;
    double *tau = malloc(sizeof(double) * n), *om = malloc(sizeof(double) * n), *sig = malloc(sizeof(double) * n),
           *nu = malloc(sizeof(double) * n);
    gauss_jacobi(am, n, tau, om);
    gauss_jacobi(as, n, sig, nu);
    for (int i = 0; i < n; i++) { om[i] *= R->cd; nu[i] *= R->cd; }
    double *P = malloc(sizeof(double) * (size_t)n * nb), *p = malloc(sizeof(double) * (nb + 1)), *dp = malloc(sizeof(double) * (nb + 1));
    double *S = calloc((size_t)nb * nb, sizeof(double)), *H = calloc((size_t)nb * nb, sizeof(double));
    double *rt = malloc(sizeof(double) * n), *kt = malloc(sizeof(double) * n);
    /* S at the sigma nodes: rho [A_j A_k + m(m+d-3) p_j p_k] with A = (1-t^2) p' - m t p (m >= 1),
     * or rho (1-t^2) p_j' p_k' (m = 0). */
    for (int i = 0; i < n; i++) {
        double r, k, t = sig[i], omt = 1.0 - t * t;
        state_at(R, t, &r, &k);
        jacobi(am, R->cd, nb - 1, t, p, dp);
        for (int j = 0; j < nb; j++)
            for (int l = 0; l < nb; l++) {
                double v = m == 0 ? omt * dp[j] * dp[l]
                                  : (omt * dp[j] - m * t * p[j]) * (omt * dp[l] - m * t * p[l]) + m * (m + d - 3.0) * p[j] * p[l];
                S[j + (size_t)l * nb] += nu[i] * r * v;
            }
    }
    /* H = kappa <q_j, q_k / rho> - <q_j, Phi' q_k> at the tau nodes. */
    for (int i = 0; i < n; i++) {
        state_at(R, tau[i], &rt[i], &kt[i]);
        jacobi(am, R->cd, nb - 1, tau[i], p, dp);
        for (int k = 0; k < nb; k++) P[i + (size_t)k * n] = p[k];
    }
    for (int j = 0; j < nb; j++)
        for (int k = 0; k < nb; k++) {
            double v = 0.0;
            for (int i = 0; i < n; i++) v += om[i] * P[i + (size_t)j * n] * P[i + (size_t)k * n] / rt[i];
            H[j + (size_t)k * nb] = R->kappa * v;
        }
    /* Phi' h (t) = int k_m(t, s) h(s) w(s) ds / (beta [K rho](t) for SA): the sector-m kernel
     * acts on q_k = (1-t^2)^{m/2} p_k; with the alpha = a+m rule the (1-s^2)^{m/2} of q_k
     * and of q_j are in the weight. */
    double *Km = malloc(sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++)
        for (int l = 0; l < n; l++) {
            double si = sqrt(1.0 - tau[i] * tau[i]), sl = sqrt(1.0 - tau[l] * tau[l]);
            double k = kernel(d, m, R->beta, tau[i], tau[l]);
            /* q_j(t) q_k(s) w(t) w(s) = p_j p_k (1-t^2)^{m/2} (1-s^2)^{m/2} w w: the alpha=a+m
             * rule carries (1-t^2)^m; divide the extra half powers back out */
            Km[i + (size_t)l * n] = k / pow(si * sl, m) / (R->beta * (R->sa ? kt[i] : 1.0));
        }
    for (int j = 0; j < nb; j++)
        for (int k = 0; k < nb; k++) {
            double v = 0.0;
            for (int i = 0; i < n; i++) {
                double inner = 0.0;
                for (int l = 0; l < n; l++) inner += Km[i + (size_t)l * n] * om[l] * P[l + (size_t)k * n];
                v += om[i] * P[i + (size_t)j * n] * inner;
            }
            H[j + (size_t)k * nb] -= v;
        }
    double *M = calloc((size_t)nb * nb, sizeof(double));
    for (int j = 0; j < nb; j++)
        for (int k = 0; k < nb; k++) {
            double v = 0.0;
            for (int l = 0; l < nb; l++) v += S[j + (size_t)l * nb] * H[l + (size_t)k * nb];
            M[j + (size_t)k * nb] = -v;
        }
    lapack_int info = LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', nb, M, nb, re, im, NULL, 1, NULL, 1);
    *count = nb;
    /* sort by real part (imaginary parts are reported as a separate list, unsorted) */
    qsort(re, (size_t)nb, sizeof(double), cmp_desc);
    free(tau); free(om); free(sig); free(nu); free(P); free(p); free(dp); free(S); free(H); free(rt); free(kt); free(Km); free(M);
    return info == 0;
}

void ref_zonal_free(ref_zonal *R)
{
    if (!R) return;
    free(R->t); free(R->w); free(R->u); free(R->rho); free(R->K);
    free(R);
}
