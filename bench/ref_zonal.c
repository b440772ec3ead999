/* Reference implementation for bench_solve and test_reference (see ref_zonal.h): written
 * the plain way, for cross-checking and as the speed baseline. */
#include "ref_zonal.h"

#include <cblas.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The Galerkin integrals of a sector (q_j q_k / rho, rho q_j' q_k', the kernel double sum)
 * are polynomials of degree up to 2(N-1) times a non-polynomial factor; an N-point rule is
 * exact only to degree 2N-1, so the highest basis functions would be integrated with O(1)
 * errors, which pollute the top of the spectrum (spurious eigenvalues). Twice the nodes
 * makes every integral accurate to rounding. */
#define REF_QUAD_FACTOR 2

struct ref_zonal {
    int sa, d, n;
    double beta, kappa, a, cd, logZ;
    double *t, *w, *u, *rho, *K; /* K: n x n Nystrom matrix W_j k(t_i, t_j), row-major */
};

/* Funk-Hecke coefficient of degree m of e^{z <xi, eta>} on S^{d-2}, times e^{-z}:
 * Gamma((d-1)/2) (2/z)^{(d-3)/2} I_{m+(d-3)/2}(z) e^{-z}; d = 2 (S^0): cosh or sinh. */
static double angular_scaled(int d, int m, double z)
{
    if (d == 2) return m == 0 ? 0.5 * (1.0 + exp(-2.0 * z)) : 0.5 * (1.0 - exp(-2.0 * z));
    if (z <= 0.0) return m == 0 ? 1.0 : 0.0;
    double nu = 0.5 * (d - 3);
    gsl_sf_result r;
    if (gsl_sf_bessel_Inu_scaled_e(m + nu, z, &r)) return NAN;
    return exp(gsl_sf_lngamma(nu + 1.0) + nu * log(2.0 / z)) * r.val;
}

/* Zonal kernel of sector m between t and s: e^{beta t s} times the angular factor at
 * z = beta sqrt(1-t^2) sqrt(1-s^2). The exponent beta (t s + z/beta) <= beta, so the
 * product cannot overflow for the beta <= 20 this reference is meant for. */
static double kernel(int d, int m, double beta, double t, double s)
{
    double z = beta * sqrt(fmax(0.0, 1.0 - t * t)) * sqrt(fmax(0.0, 1.0 - s * s));
    return exp(beta * t * s + z) * angular_scaled(d, m, z);
}

/* Gauss rule for (1-t^2)^alpha on [-1, 1], straight from GSL. */
static void gauss_jacobi(double alpha, int n, double *t, double *w)
{
    gsl_integration_fixed_workspace *ws = gsl_integration_fixed_alloc(gsl_integration_fixed_jacobi, n, -1, 1, alpha, alpha);
    memcpy(t, gsl_integration_fixed_nodes(ws), sizeof(double) * n);
    memcpy(w, gsl_integration_fixed_weights(ws), sizeof(double) * n);
    gsl_integration_fixed_free(ws);
}

/* Phi at the nodes from rho (the constant of Phi goes into log Z). */
static void potential(const ref_zonal *R, const double *rho, double *Phi)
{
    for (int i = 0; i < R->n; i++) {
        double k = 0.0;
        for (int j = 0; j < R->n; j++) k += R->K[(size_t)i * R->n + j] * rho[j];
        Phi[i] = R->sa ? log(k) / R->beta : k / R->beta;
    }
}

/* log sum_i W_i exp(Phi_i / kappa), shifted by the maximum so clustered states do not overflow. */
static double log_partition(const ref_zonal *R, const double *Phi)
{
    double mx = -INFINITY, z = 0.0;
    for (int i = 0; i < R->n; i++) mx = fmax(mx, Phi[i] / R->kappa);
    for (int i = 0; i < R->n; i++) z += R->w[i] * exp(Phi[i] / R->kappa - mx);
    return mx + log(z);
}

/* F(u) = u - Phi[e^u]/kappa + log Z; returns max |F|. */
static double residual(const ref_zonal *R, const double *u, double *F, double *rho, double *Phi)
{
    const int n = R->n;
    for (int i = 0; i < n; i++) rho[i] = exp(u[i]);
    potential(R, rho, Phi);
    double logZ = log_partition(R, Phi), res = 0.0;
    for (int i = 0; i < n; i++) {
        F[i] = u[i] - Phi[i] / R->kappa + logZ;
        res = fmax(res, fabs(F[i]));
    }
    return res;
}

ref_zonal *ref_zonal_solve(int sa, int d, double beta, double kappa, int nodes, ref_zonal_state *out)
{
    const int n = nodes;
    memset(out, 0, sizeof *out);
    out->residual = INFINITY;
    if (d < 2 || n < 4 || !(beta > 0.0) || !(kappa > 0.0)) return NULL;
    ref_zonal *R = calloc(1, sizeof *R);
    R->sa = sa; R->d = d; R->n = n; R->beta = beta; R->kappa = kappa; R->a = 0.5 * (d - 3);
    R->t = malloc(sizeof(double) * n); R->w = malloc(sizeof(double) * n); R->u = malloc(sizeof(double) * n);
    R->rho = malloc(sizeof(double) * n); R->K = malloc(sizeof(double) * (size_t)n * n);
    gauss_jacobi(R->a, n, R->t, R->w);
    double sw = 0.0;
    for (int i = 0; i < n; i++) sw += R->w[i];
    R->cd = 1.0 / sw; /* c_d of w_d: the rule integrates (1-t^2)^a exactly */
    for (int i = 0; i < n; i++) R->w[i] /= sw;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) R->K[(size_t)i * n + j] = R->w[j] * kernel(d, 0, beta, R->t[i], R->t[j]);

    double *F = malloc(sizeof(double) * n), *F2 = malloc(sizeof(double) * n), *J = malloc(sizeof(double) * (size_t)n * n);
    double *rho = malloc(sizeof(double) * n), *Phi = malloc(sizeof(double) * n), *trial = malloc(sizeof(double) * n);
    lapack_int *piv = malloc(sizeof(lapack_int) * n);
    /* guess u = t/kappa, normalised (a von Mises-Fisher-like cap about the pole) */
    double mx = -INFINITY, z = 0.0;
    for (int i = 0; i < n; i++) mx = fmax(mx, R->t[i] / kappa);
    for (int i = 0; i < n; i++) z += R->w[i] * exp(R->t[i] / kappa - mx);
    for (int i = 0; i < n; i++) R->u[i] = R->t[i] / kappa - mx - log(z);
    double res = residual(R, R->u, F, rho, Phi);
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
        /* damping: halve the step until max|F| decreases */
        double lam = 1.0, r1 = INFINITY;
        for (int k = 0; k < 40; k++, lam *= 0.5) {
            for (int i = 0; i < n; i++) trial[i] = R->u[i] + lam * F2[i];
            r1 = residual(R, trial, F, rho, Phi);
            if (r1 < res) break;
        }
        if (!(r1 < res)) break;
        memcpy(R->u, trial, sizeof(double) * n);
        res = r1; /* F already holds F(trial) */
    }
    double r = 0.0, S = 0.0;
    for (int i = 0; i < n; i++) {
        R->rho[i] = exp(R->u[i]);
        r += R->w[i] * R->rho[i] * R->t[i];
        S += R->w[i] * R->rho[i] * (d * R->t[i] * R->t[i] - 1.0) / (d - 1.0);
    }
    potential(R, R->rho, Phi);
    R->logZ = log_partition(R, Phi);
    out->r = fabs(r); out->S = S; out->newton_iterations = it; out->residual = res;
    free(F); free(F2); free(J); free(rho); free(Phi); free(trial); free(piv);
    if (!(res <= 1e-10)) { ref_zonal_free(R); return NULL; }
    return R;
}

/* Density and K rho at any t from the Nystrom interpolant rho(t) = exp(Phi[rho](t)/kappa)/Z,
 * the natural (spectrally accurate) extension of the node values. */
static void state_at(const ref_zonal *R, double t, double *rho, double *krho)
{
    double k = 0.0;
    for (int j = 0; j < R->n; j++) k += R->w[j] * kernel(R->d, 0, R->beta, t, R->t[j]) * R->rho[j];
    double Phi = R->sa ? log(k) / R->beta : k / R->beta;
    *rho = exp(Phi / R->kappa - R->logZ);
    *krho = k;
}

/* Orthonormal polynomials for c_d (1-t^2)^alpha on [-1, 1] by the three-term recurrence
 * t p_k = sqrt(b_{k+1}) p_{k+1} + sqrt(b_k) p_{k-1}: values and derivatives, degrees 0..kmax. */
static void jacobi(double alpha, double cd, int kmax, double t, double *p, double *dp)
{
    double mass = exp(gsl_sf_lnbeta(0.5, alpha + 1.0)); /* int (1-t^2)^alpha dt */
    p[0] = 1.0 / sqrt(cd * mass);
    dp[0] = 0.0;
    double bprev = 0.0;
    for (int k = 0; k < kmax; k++) {
        double b = k == 0 ? 1.0 / (2 * alpha + 3)
                          : (k + 1.0) * (k + 1.0 + 2 * alpha) / ((2.0 * k + 2 * alpha + 3) * (2.0 * k + 2 * alpha + 1));
        double sb = sqrt(b), sbp = sqrt(bprev);
        p[k + 1] = (t * p[k] - (k ? sbp * p[k - 1] : 0.0)) / sb;
        dp[k + 1] = (p[k] + t * dp[k] - (k ? sbp * dp[k - 1] : 0.0)) / sb;
        bprev = b;
    }
}

typedef struct {
    double re, im;
} eig_pair;

static int cmp_desc(const void *x, const void *y)
{
    const eig_pair *a = x, *b = y;
    if (a->re != b->re) return a->re < b->re ? 1 : -1;
    return a->im < b->im ? 1 : (a->im > b->im ? -1 : 0);
}

int ref_zonal_sector(ref_zonal *R, int m, double *re, double *im, int *count)
{
    const int n = R->n, nb = n - m, d = R->d, nq = REF_QUAD_FACTOR * n;
    *count = 0;
    if (m < 0 || nb < 1 || (d == 2 && m > 1)) return 0;
    const double am = R->a + m, as = m ? R->a + m - 1 : R->a;
    double *tau = malloc(sizeof(double) * nq), *om = malloc(sizeof(double) * nq);
    double *sig = malloc(sizeof(double) * nq), *nu = malloc(sizeof(double) * nq);
    double *p = malloc(sizeof(double) * nb), *dp = malloc(sizeof(double) * nb);
    double *A = malloc(sizeof(double) * (size_t)nq * nb), *B = malloc(sizeof(double) * (size_t)nq * nb);
    double *P = malloc(sizeof(double) * (size_t)nq * nb), *X = malloc(sizeof(double) * (size_t)nq * nb);
    double *Km = malloc(sizeof(double) * (size_t)nq * nq);
    double *S = malloc(sizeof(double) * (size_t)nb * nb), *H = malloc(sizeof(double) * (size_t)nb * nb);
    double *M = malloc(sizeof(double) * (size_t)nb * nb), *rt = malloc(sizeof(double) * nq), *kt = malloc(sizeof(double) * nq);
    eig_pair *ev = malloc(sizeof(eig_pair) * nb);
    gauss_jacobi(am, nq, tau, om);
    gauss_jacobi(as, nq, sig, nu);
    for (int i = 0; i < nq; i++) { om[i] *= R->cd; nu[i] *= R->cd; }

    /* S_jk = int rho [(1-t^2) q_j' q_k' + m(m+d-3) q_j q_k/(1-t^2)] w_d. With q = (1-t^2)^{m/2} p
     * this is int rho [A_j A_k + m(m+d-3) p_j p_k] c_d (1-t^2)^{a+m-1}, A = (1-t^2) p' - m t p,
     * so the alpha = a+m-1 rule (alpha = a with A = sqrt(1-t^2) p' for m = 0). Rows of A, B
     * carry sqrt(weight rho) so S = A^T A + m(m+d-3) B^T B. */
    for (int i = 0; i < nq; i++) {
        double r, k, t = sig[i], omt = 1.0 - t * t;
        state_at(R, t, &r, &k);
        jacobi(am, R->cd, nb - 1, t, p, dp);
        double sq = sqrt(nu[i] * r);
        for (int j = 0; j < nb; j++) {
            A[i + (size_t)j * nq] = sq * (m == 0 ? sqrt(omt) * dp[j] : omt * dp[j] - m * t * p[j]);
            B[i + (size_t)j * nq] = sq * p[j];
        }
    }
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, A, nq, A, nq, 0.0, S, nb);
    if (m > 0) cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, m * (m + d - 3.0), B, nq, B, nq, 1.0, S, nb);

    /* H_jk = kappa <q_j, q_k / rho> - <q_j, Phi'[rho] q_k> with the alpha = a+m rule, whose
     * weight carries the (1-t^2)^{m/2} of both q_j and q_k. */
    for (int i = 0; i < nq; i++) {
        state_at(R, tau[i], &rt[i], &kt[i]);
        jacobi(am, R->cd, nb - 1, tau[i], p, dp);
        for (int k = 0; k < nb; k++) {
            P[i + (size_t)k * nq] = om[i] * p[k];              /* weighted values */
            A[i + (size_t)k * nq] = om[i] * p[k] / rt[i];      /* weighted values / rho */
        }
    }
    for (int i = 0; i < nq * nb; i++) B[i] = P[i];
    for (int i = 0; i < nq; i++)
        for (int k = 0; k < nb; k++) B[i + (size_t)k * nq] /= om[i]; /* plain values */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, R->kappa, B, nq, A, nq, 0.0, H, nb);
    /* Phi'[rho] h (t) = int k_m(t, s) g(s) w_d(s) ds / (beta [K rho](t) for SA, 1 for USA),
     * h = g Y_m. The rule's (1-t^2)^m at t and s holds (1-t^2)^{m/2} too many: divide it
     * back out of the kernel (k_m ~ z^m, so the ratio stays bounded). */
    for (int l = 0; l < nq; l++) {
        double sl = sqrt(1.0 - tau[l] * tau[l]);
        for (int i = 0; i < nq; i++) {
            double si = sqrt(1.0 - tau[i] * tau[i]);
            Km[i + (size_t)l * nq] =
                kernel(d, m, R->beta, tau[i], tau[l]) / pow(si * sl, m) / (R->beta * (R->sa ? kt[i] : 1.0));
        }
    }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nq, nb, nq, 1.0, Km, nq, P, nq, 0.0, X, nq);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, -1.0, P, nq, X, nq, 1.0, H, nb);

    /* The sector operator is -S H. Handing that product to dgeev as it stands loses about 9
     * digits for a clustered state: H carries 1/rho (range e^19 at SA d=5 beta=3 kappa=0.08),
     * so ||S H|| ~ 1e9 while the eigenvalues are O(1) and ill-conditioned (measured errors
     * 1e-7..5e-6, matching dgeevx's condition estimates). The same eigenvalues belong to
     * -S^{1/2} H S^{1/2} (AB and BA share their nonzero eigenvalues; S is symmetric PSD,
     * singular only by the constant of sector 0, whose 0 stays 0), which is symmetric for USA
     * and close to it for SA: errors drop to ~1e-9. S^{1/2} by dsyev. */
    lapack_int info = LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', nb, S, nb, p);
    if (info == 0) {
        for (int j = 0; j < nb; j++) {
            double s = sqrt(fmax(p[j], 0.0)); /* rounding can make the null eigenvalue negative */
            for (int i = 0; i < nb; i++) M[i + (size_t)j * nb] = S[i + (size_t)j * nb] * s;
        }
        double *Sh = A, *T = B; /* nq >= nb, so the quadrature scratch holds nb x nb */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, nb, nb, nb, 1.0, M, nb, S, nb, 0.0, Sh, nb);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nb, nb, nb, 1.0, H, nb, Sh, nb, 0.0, T, nb);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nb, nb, nb, -1.0, Sh, nb, T, nb, 0.0, M, nb);
        info = LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', nb, M, nb, re, im, NULL, 1, NULL, 1);
    }
    if (info == 0) {
        for (int i = 0; i < nb; i++) ev[i] = (eig_pair){re[i], im[i]};
        qsort(ev, (size_t)nb, sizeof *ev, cmp_desc);
        for (int i = 0; i < nb; i++) { re[i] = ev[i].re; im[i] = ev[i].im; }
        *count = nb;
    }
    free(tau); free(om); free(sig); free(nu); free(p); free(dp); free(A); free(B); free(P); free(X);
    free(Km); free(S); free(H); free(M); free(rt); free(kt); free(ev);
    return info == 0;
}

void ref_zonal_free(ref_zonal *R)
{
    if (!R) return;
    free(R->t); free(R->w); free(R->u); free(R->rho); free(R->K);
    free(R);
}
