/* Zonal (axisymmetric) discretisation, any d >= 2 (MATH.md 4-5): unknowns u = log rho at
 * Gauss-Jacobi nodes in t = <x, pole>, the kernel applied exactly in the Gegenbauer basis,
 * and the linearised operator per sector m in a symmetrised, well-scaled Galerkin form. */
#include "disc/disc_impl.h"
#include "disc/jacobi.h"

#include <cblas.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-sector quadrature and basis tables (built on first use, then reused), and the
 * sector's matrices. All matrices are column-major. */
typedef struct {
    int built;
    int nb;             /* basis size N - m: harmonic degrees m .. N-1 */
    double *tau, *omega; /* Gauss-Jacobi rule for (1-t^2)^(a+m), weights include c_d */
    double *sig, *nu;    /* rule for (1-t^2)^(a+m-1) (m >= 1) or (1-t^2)^a (m = 0) */
    double *Ptau;        /* nq x nb: p_k(tau_i), family orthonormal for c_d (1-t^2)^(a+m) */
    double *Psig, *dPsig;   /* nq x nb: the same family and derivatives at sig */
    double *P0tau, *dP0tau; /* nq x N: state basis (family a) at tau */
    double *P0sig, *dP0sig; /* nq x N: state basis at sig */
    /* work */
    double *Amat, *Bmat, *Hmat, *Smat, *Mmat, *Cmat, *Wq, *out, *sym;
    double *rhalf_tau, *du_tau, *D_tau, *Y_tau, *du_sig, *vec;
} sector_data;

typedef struct {
    ab_disc base;
    int N;
    double a;  /* Jacobi exponent (d - 3)/2 */
    double cd; /* 1 / integral of (1-t^2)^a */
    double *t, *W;  /* nodes, normalised weights (sum 1) */
    double *P;      /* N x N: P[i + l N] = p_l(t_i) */
    double *g;      /* g[l] = kappa_l (g[0] = 0): weight of degree l in Phi */
    double *dg;     /* d g[l] / d beta */
    double *A;      /* N x N: P diag(g) P^T diag(W), the map rho -> kernel part at nodes */
    /* state evaluation work (valid after eval_state) */
    double *rho, *c, *gc, *s, *Y, *Phi, *pi, *row, *work;
    double c0, logZ;
    int n_sectors;
    sector_data *sec;
    char name[96];
} zonal;

static zonal *Z(ab_disc *d) { return (zonal *)d; }

static const char *zonal_name(const ab_disc *d) { return ((const zonal *)d)->name; }

static void free_sector(sector_data *s)
{
    double **arrs[] = {&s->tau, &s->omega, &s->sig, &s->nu, &s->Ptau, &s->Psig, &s->dPsig,
                       &s->P0tau, &s->dP0tau, &s->P0sig, &s->dP0sig, &s->Amat, &s->Bmat,
                       &s->Hmat, &s->Smat, &s->Mmat, &s->Cmat, &s->Wq, &s->out, &s->sym,
                       &s->rhalf_tau, &s->du_tau, &s->D_tau, &s->Y_tau, &s->du_sig, &s->vec};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) { free(*arrs[i]); *arrs[i] = NULL; }
    s->built = 0;
}

static void zonal_destroy(ab_disc *d)
{
    zonal *z = Z(d);
    if (z->sec)
        for (int m = 0; m < z->n_sectors; m++) free_sector(&z->sec[m]);
    free(z->sec);
    double *arrs[] = {z->t, z->W, z->P, z->g, z->dg, z->A, z->rho, z->c, z->gc, z->s,
                      z->Y, z->Phi, z->pi, z->row, z->work};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) free(arrs[i]);
    free(z);
}

/* Kernel tables for the current beta: g_l = kappa_l, dg_l, and A = P diag(g) P^T diag(W). */
static ab_status build_kernel(zonal *z, ab_error *err)
{
    const int N = z->N;
    const ab_model *m = &z->base.model;
    ab_status st = ab_kappa_l_table(m->kind, m->d, z->base.params.beta, N - 1, z->g, err);
    if (st) return st;
    for (int l = 0; l < N; l++) z->dg[l] = ab_kappa_l_dbeta(m->kind, m->d, z->base.params.beta, l);
    /* work = P diag(g) */
    for (int l = 0; l < N; l++)
        for (int i = 0; i < N; i++) z->work[i + (size_t)l * N] = z->P[i + (size_t)l * N] * z->g[l];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, N, N, N, 1.0, z->work, N, z->P, N, 0.0, z->A, N);
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) z->A[i + (size_t)j * N] *= z->W[j];
    return AB_OK;
}

static ab_status zonal_set_params(ab_disc *d, ab_params p, ab_error *err)
{
    zonal *z = Z(d);
    int beta_changed = p.beta != z->base.params.beta;
    z->base.params = p;
    z->base.model.beta = p.beta;
    return beta_changed ? build_kernel(z, err) : AB_OK;
}

/* The potential from the kernel sum s = sum_l g_l c_l p_l at one point:
 * SA Phi = log(1 + beta Y)/beta with Y = s / c0 (Phi = Y at beta = 0), USA Phi = s.
 * Also returns dPhi from ds, and the SA factor D = 1 / (c0 (1 + beta Y)). */
static int potential(const zonal *z, double s, double ds, double *Phi, double *dPhi, double *Y, double *D)
{
    const double beta = z->base.params.beta;
    if (z->base.model.kind == AB_MODEL_USA) {
        *Phi = s;
        if (dPhi) *dPhi = ds;
        if (Y) *Y = s;
        if (D) *D = 1.0;
        return 1;
    }
    double y = s / z->c0, arg = 1.0 + beta * y;
    if (!(arg > 0.0)) return 0;
    *Phi = beta > 0.0 ? log1p(beta * y) / beta : y;
    if (dPhi) *dPhi = ds / z->c0 / arg;
    if (Y) *Y = y;
    if (D) *D = 1.0 / (z->c0 * arg);
    return 1;
}

/* Evaluate everything the residual needs at u: rho, modal coefficients c, Phi at the nodes,
 * log Z and the Gibbs weights pi. */
static ab_status eval_state(zonal *z, const double *u, ab_error *err)
{
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    for (int i = 0; i < N; i++) {
        if (!isfinite(u[i])) return ab_error_set(err, AB_ENAN, "log-density is not finite at node %d (t = %.6f)", i, z->t[i]);
        z->rho[i] = exp(u[i]);
        z->row[i] = z->W[i] * z->rho[i];
    }
    cblas_dgemv(CblasColMajor, CblasTrans, N, N, 1.0, z->P, N, z->row, 1, 0.0, z->c, 1);
    z->c0 = z->c[0] * z->P[0]; /* p_0 = 1 for the normalised measure */
    if (!(z->c0 > 0.0) || !isfinite(z->c0))
        return ab_error_set(err, AB_ENAN, "density has no finite positive mass (mass = %g)", z->c0);
    for (int l = 0; l < N; l++) z->gc[l] = z->g[l] * z->c[l];
    cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->P, N, z->gc, 1, 0.0, z->s, 1);
    double maxe = -INFINITY;
    for (int i = 0; i < N; i++) {
        if (!potential(z, z->s[i], 0.0, &z->Phi[i], NULL, &z->Y[i], NULL))
            return ab_error_set(err, AB_ENAN, "kernel convolution K rho is not positive at t = %.6f: the state is not resolved", z->t[i]);
        double e = z->Phi[i] / kappa;
        if (e > maxe) maxe = e;
    }
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += z->W[i] * exp(z->Phi[i] / kappa - maxe);
    z->logZ = maxe + log(sum);
    for (int i = 0; i < N; i++) z->pi[i] = z->W[i] * exp(z->Phi[i] / kappa - z->logZ);
    if (!isfinite(z->logZ)) return ab_error_set(err, AB_ENAN, "partition function is not finite");
    return AB_OK;
}

static ab_status zonal_residual(ab_disc *d, const double *u, double *F, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa;
    for (int i = 0; i < z->N; i++) F[i] = u[i] - z->Phi[i] / kappa + z->logZ;
    return AB_OK;
}

/* J = I - (1/kappa) (I - 1 pi^T) D with D = dPhi/du:
 *   USA: D_ij = A_ij rho_j;  SA: D_ij = (A_ij - Y_i W_j) rho_j / (c0 (1 + beta Y_i)). */
static ab_status zonal_jacobian(ab_disc *d, const double *u, double *J, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    for (int j = 0; j < N; j++) {
        double *col = J + (size_t)j * N;
        const double *Acol = z->A + (size_t)j * N;
        double colsum = 0.0;
        for (int i = 0; i < N; i++) {
            double Dij = sa ? (Acol[i] - z->Y[i] * z->W[j]) * z->rho[j] / (z->c0 * (1.0 + beta * z->Y[i]))
                            : Acol[i] * z->rho[j];
            col[i] = Dij;
            colsum += z->pi[i] * Dij;
        }
        for (int i = 0; i < N; i++) col[i] = (i == j) - (col[i] - colsum) / kappa;
    }
    return AB_OK;
}

/* (x/(1+x) - log1p(x)) / x^2, -> -1/2 at x = 0 (series below 1e-3). */
static double h_fun(double x)
{
    if (fabs(x) < 1e-3) return -0.5 + x * (2.0 / 3.0 + x * (-0.75 + x * 0.8));
    return (x / (1.0 + x) - log1p(x)) / (x * x);
}

static ab_status zonal_dparam(ab_disc *d, const double *u, ab_param_id which, double *dF, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    /* dPhi into z->row */
    if (which == AB_PARAM_KAPPA) {
        for (int i = 0; i < N; i++) z->row[i] = -z->Phi[i] / kappa; /* d(Phi/kappa)/dkappa * kappa */
    } else {
        for (int l = 0; l < N; l++) z->gc[l] = z->dg[l] * z->c[l];
        cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->P, N, z->gc, 1, 0.0, z->work, 1);
        for (int i = 0; i < N; i++) {
            if (z->base.model.kind == AB_MODEL_USA) {
                z->row[i] = z->work[i];
            } else {
                double y = z->Y[i], yb = z->work[i] / z->c0, x = beta * y;
                z->row[i] = yb / (1.0 + x) + y * y * h_fun(x);
            }
        }
    }
    /* F = u - Phi/kappa + log Z: dF = -dPhi/kappa + sum pi dPhi / kappa, with the kappa case
     * d(Phi/kappa)/dkappa = -Phi/kappa^2 encoded as dPhi = -Phi/kappa above. */
    double mean = 0.0;
    for (int i = 0; i < N; i++) mean += z->pi[i] * z->row[i];
    for (int i = 0; i < N; i++) dF[i] = -(z->row[i] - mean) / kappa;
    return AB_OK;
}

static double zonal_residual_scale(const ab_disc *d)
{
    const zonal *z = (const zonal *)d;
    double gmax = 0.0;
    for (int l = 0; l < z->N; l++) gmax = fmax(gmax, fabs(z->g[l]));
    return 1.0 + gmax / z->base.params.kappa;
}

static void normalise(const zonal *z, double *u);

static double zonal_dot(const ab_disc *d, const double *x, const double *y)
{
    const zonal *z = (const zonal *)d;
    double s = 0.0;
    for (int i = 0; i < z->N; i++) s += z->W[i] * x[i] * y[i];
    return s;
}

/* The Gauss-Jacobi nodes are symmetric (t_{N-1-i} = -t_i), so reflection reverses them. */
static void zonal_reflect(const ab_disc *d, const double *in, double *out)
{
    const zonal *z = (const zonal *)d;
    for (int i = 0; i < z->N; i++) out[i] = in[z->N - 1 - i];
}

static ab_status zonal_resolution(ab_disc *d, const double *u, double *tail, int *nodes_needed, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N, k0 = N - (N / 8 > 2 ? N / 8 : 2);
    double top = 0.0, mid = 0.0;
    for (int l = k0; l < N; l++) top = fmax(top, fabs(z->c[l]));
    for (int l = N / 2 - 2; l < N / 2 + 2; l++) mid = fmax(mid, fabs(z->c[l]));
    *tail = top / z->c0;
    /* geometric decay rate between the middle and the top of the spectrum */
    double rate = (top > 0.0 && mid > top) ? log(mid / top) / (k0 - N / 2) : 0.0;
    if (*tail <= 1e-12) *nodes_needed = N;
    else if (rate > 1e-3) *nodes_needed = N + (int)ceil(log(*tail / 1e-12) / rate);
    else *nodes_needed = 2 * N;
    return AB_OK;
}

static ab_status zonal_guess_from_samples(ab_disc *d, int n, const double *t, const double *rho, double *u,
                                          ab_error *err)
{
    zonal *z = Z(d);
    if (n < 2) return ab_error_set(err, AB_EINVAL, "a density profile needs at least 2 samples (got %d)", n);
    for (int k = 0; k < n; k++)
        if (!(rho[k] > 0.0) || !(t[k] >= -1.0 && t[k] <= 1.0))
            return ab_error_set(err, AB_EINVAL, "profile sample %d is invalid (t = %g, rho = %g): need -1 <= t <= 1, rho > 0", k, t[k], rho[k]);
    /* Piecewise-linear interpolation of log rho in t (Newton then restores full accuracy);
     * exact when the samples are this discretisation's own nodes. */
    for (int i = 0; i < z->N; i++) {
        double ti = z->t[i];
        int lo = -1, hi = -1;
        for (int k = 0; k < n; k++) {
            if (t[k] <= ti && (lo < 0 || t[k] > t[lo])) lo = k;
            if (t[k] >= ti && (hi < 0 || t[k] < t[hi])) hi = k;
        }
        if (lo < 0) lo = hi;
        if (hi < 0) hi = lo;
        double a = log(rho[lo]), b = log(rho[hi]);
        u[i] = t[hi] > t[lo] ? a + (b - a) * (ti - t[lo]) / (t[hi] - t[lo]) : a;
    }
    normalise(z, u);
    return AB_OK;
}

static ab_status zonal_observables(ab_disc *d, const double *u, ab_observables *obs, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N, dim = z->base.model.d;
    double r = 0.0, S = 0.0, ent = 0.0;
    for (int i = 0; i < N; i++) {
        double wr = z->W[i] * z->rho[i], t = z->t[i];
        r += wr * t;
        S += wr * (dim * t * t - 1.0) / (dim - 1.0);
        ent -= wr * u[i];
    }
    obs->r = fabs(r);
    /* On the circle Q has eigenvalues +s and -s: the sign is a matter of orientation, and
     * the rotation by pi/2 that flips it is a symmetry, so report |s|. */
    obs->S = dim == 2 ? fabs(S) : S;
    obs->entropy = ent;
    obs->mass = z->c0;
    if (z->base.model.kind == AB_MODEL_USA) {
        /* E - E(uniform) = kappa int rho log rho - 1/2 sum_{l>=1} (lambda_l/beta) c_l^2 */
        double inter = 0.0;
        for (int l = 1; l < N; l++) inter += z->g[l] * z->c[l] * z->c[l];
        obs->free_energy = -z->base.params.kappa * ent - 0.5 * inter;
    } else {
        obs->free_energy = NAN;
    }
    return AB_OK;
}

/* Normalise u so that int e^u = 1. */
static void normalise(const zonal *z, double *u)
{
    double maxu = -INFINITY, sum = 0.0;
    for (int i = 0; i < z->N; i++) if (u[i] > maxu) maxu = u[i];
    for (int i = 0; i < z->N; i++) sum += z->W[i] * exp(u[i] - maxu);
    double shift = maxu + log(sum);
    for (int i = 0; i < z->N; i++) u[i] -= shift;
}

/* Concentration b of the von Mises-Fisher law that solves the beta = 0 self-consistency
 * b kappa = A_d(b) (A_d = I_{d/2}/I_{d/2-1}): a good cluster guess at every beta. */
static double vmf_concentration(int d, double kappa)
{
    double b = 1.0 / kappa, nu = 0.5 * d - 1.0;
    for (int it = 0; it < 200; it++) {
        gsl_sf_result num, den;
        if (gsl_sf_bessel_Inu_scaled_e(nu + 1.0, b, &num) || gsl_sf_bessel_Inu_scaled_e(nu, b, &den)) break;
        double next = num.val / den.val / kappa;
        if (!(next > 1e-3)) return 1.0 / kappa; /* no cluster at beta = 0: keep the strong guess */
        if (fabs(next - b) < 1e-12 * b) return next;
        b = next;
    }
    return b;
}

static ab_status zonal_initial_guess(ab_disc *d, const ab_state_spec *state, double *u, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    double b = vmf_concentration(z->base.model.d, kappa);
    switch (state->type) {
    case AB_STATE_UNIFORM:
        for (int i = 0; i < N; i++) u[i] = 0.0;
        return AB_OK;
    case AB_STATE_FILE:
        return ab_error_set(err, AB_EINVAL, "a file state is read with ab_read_profile + ab_disc_guess_from_samples");
    case AB_STATE_CLUSTER:
        for (int i = 0; i < N; i++) u[i] = b * z->t[i];
        break;
    case AB_STATE_ANTIPODAL:
        for (int i = 0; i < N; i++) u[i] = 0.5 * b * z->t[i] * z->t[i];
        break;
    case AB_STATE_PERTURB: {
        /* 1 + amplitude * P_l(t) / P_l(1): the degree-l zonal harmonic with value 1 at the pole. */
        double *p = z->work;
        ab_jacobi_eval(z->a, z->cd, state->l, 1.0, p, NULL);
        double p1 = p[state->l];
        for (int i = 0; i < N; i++) {
            double rho = 1.0 + state->amplitude * z->P[i + (size_t)state->l * N] / p1;
            if (!(rho > 0.0))
                return ab_error_set(err, AB_EINVAL, "state.amplitude %g makes the density negative; use |amplitude| < 1",
                                    state->amplitude);
            u[i] = log(rho);
        }
        break;
    }
    }
    normalise(z, u);
    if (state->type == AB_STATE_PERTURB) return AB_OK;
    /* A few damped fixed-point sweeps u <- Phi[e^u]/kappa - log Z pull the vMF shape onto the
     * model's own cluster profile before Newton; they stop early once close. */
    double *F = z->work;
    for (int it = 0; it < 30; it++) {
        ab_status st = zonal_residual(d, u, F, err);
        if (st) return st;
        double nrm = 0.0;
        for (int i = 0; i < N; i++) nrm = fmax(nrm, fabs(F[i]));
        if (nrm < 1e-3) break;
        for (int i = 0; i < N; i++) u[i] -= 0.5 * F[i];
        normalise(z, u);
    }
    return AB_OK;
}

static int zonal_max_sector(const ab_disc *d)
{
    const zonal *z = (const zonal *)d;
    return z->base.model.d == 2 ? 1 : z->N - 2;
}

static double *alloc_d(size_t n, int *ok)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) *ok = 0;
    return p;
}

/* Nodes of the sector quadrature rules: N would be exact at the uniform state, but at a
 * clustered state the integrands carry rho^(1/2) and u', and products of the highest basis
 * functions are then under-integrated (an independent h-space Galerkin showed spurious
 * eigenvalues from exactly this); 3N/2 oversamples them. */
static int sector_nodes(int N) { return N + N / 2; }

/* Quadrature rules and basis tables of sector m. */
static ab_status build_sector(zonal *z, int m, ab_error *err)
{
    sector_data *s = &z->sec[m];
    const int N = z->N, nq = sector_nodes(N), nb = N - m;
    const double a = z->a, am = a + m, as = m >= 1 ? a + m - 1 : a;
    int ok = 1;
    size_t qN = (size_t)nq * N, qb = (size_t)nq * nb, bb = (size_t)nb * nb;
    s->nb = nb;
    s->tau = alloc_d(nq, &ok); s->omega = alloc_d(nq, &ok);
    s->sig = alloc_d(nq, &ok); s->nu = alloc_d(nq, &ok);
    s->Ptau = alloc_d(qb, &ok); s->Psig = alloc_d(qb, &ok); s->dPsig = alloc_d(qb, &ok);
    s->P0tau = alloc_d(qN, &ok); s->dP0tau = alloc_d(qN, &ok);
    s->P0sig = alloc_d(qN, &ok); s->dP0sig = alloc_d(qN, &ok);
    s->Amat = alloc_d(bb, &ok); s->Bmat = alloc_d(bb, &ok); s->Hmat = alloc_d(bb, &ok);
    s->Smat = alloc_d(bb, &ok); s->Mmat = alloc_d(bb, &ok); s->out = alloc_d(bb, &ok);
    s->Cmat = alloc_d(qb, &ok); s->Wq = alloc_d(qb, &ok); s->sym = alloc_d(nb, &ok);
    s->rhalf_tau = alloc_d(nq, &ok); s->du_tau = alloc_d(nq, &ok); s->D_tau = alloc_d(nq, &ok);
    s->Y_tau = alloc_d(nq, &ok); s->du_sig = alloc_d(nq, &ok); s->vec = alloc_d(N + nb, &ok);
    if (!ok) { free_sector(s); return ab_error_set(err, AB_ENOMEM, "out of memory building sector %d", m); }
    ab_status st = ab_gauss_jacobi(am, nq, z->cd, s->tau, s->omega, err);
    if (!st) st = ab_gauss_jacobi(as, nq, z->cd, s->sig, s->nu, err);
    if (st) { free_sector(s); return st; }
    double *p = s->vec, *dp = s->vec + N; /* scratch: N >= nb */
    double *p2 = malloc(sizeof *p2 * 2 * (size_t)N);
    if (!p2) { free_sector(s); return ab_error_set(err, AB_ENOMEM, "out of memory building sector %d", m); }
    for (int i = 0; i < nq; i++) {
        ab_jacobi_eval(am, z->cd, nb - 1, s->tau[i], p, NULL);
        for (int k = 0; k < nb; k++) s->Ptau[i + (size_t)k * nq] = p[k];
        ab_jacobi_eval(am, z->cd, nb - 1, s->sig[i], p, p2);
        for (int k = 0; k < nb; k++) { s->Psig[i + (size_t)k * nq] = p[k]; s->dPsig[i + (size_t)k * nq] = p2[k]; }
        ab_jacobi_eval(a, z->cd, N - 1, s->tau[i], p2, p2 + N);
        for (int l = 0; l < N; l++) { s->P0tau[i + (size_t)l * nq] = p2[l]; s->dP0tau[i + (size_t)l * nq] = p2[N + l]; }
        ab_jacobi_eval(a, z->cd, N - 1, s->sig[i], p2, p2 + N);
        for (int l = 0; l < N; l++) { s->P0sig[i + (size_t)l * nq] = p2[l]; s->dP0sig[i + (size_t)l * nq] = p2[N + l]; }
    }
    (void)dp;
    free(p2);
    s->built = 1;
    return AB_OK;
}

/* Kernel sums s = P0 gc and ds = dP0 gc at nq points -> u' (and rho^(1/2), D, Y). */
static ab_status fields_at(zonal *z, int nq, const double *P0, const double *dP0, double *rhalf,
                           double *du, double *D, double *Y, double *sbuf, ab_error *err)
{
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    double *sv = sbuf, *dsv = sbuf + nq;
    cblas_dgemv(CblasColMajor, CblasNoTrans, nq, N, 1.0, P0, nq, z->gc, 1, 0.0, sv, 1);
    cblas_dgemv(CblasColMajor, CblasNoTrans, nq, N, 1.0, dP0, nq, z->gc, 1, 0.0, dsv, 1);
    for (int i = 0; i < nq; i++) {
        double Phi, dPhi, y, dd;
        if (!potential(z, sv[i], dsv[i], &Phi, &dPhi, &y, &dd))
            return ab_error_set(err, AB_ENAN, "kernel convolution is not positive inside a sector rule");
        du[i] = dPhi / kappa;
        if (rhalf) rhalf[i] = exp(0.5 * (Phi / kappa - z->logZ));
        if (D) D[i] = dd;
        if (Y) Y[i] = y;
    }
    return AB_OK;
}

/* Sector operator in the symmetrised variables g = h / rho^(1/2) (see docs/theory.md):
 * L ~ -S' H' with S'_jk = int [(1-t^2)(q_j' - q_j u'/2)(q_k' - q_k u'/2)
 *                              + m(m+d-3) q_j q_k/(1-t^2)] w_d dt,
 *           H'_jk = kappa delta_jk - <q_j, rho^(1/2) Phi'[rho] (rho^(1/2) q_k)>,
 * in the orthonormal sector basis q_k = (1-t^2)^(m/2) p_k(t). No 1/rho appears, so sharply
 * clustered states stay well conditioned. */
static ab_status zonal_sector_operator(ab_disc *d, const double *u, int m, ab_sector_op *op, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    sector_data *s = &z->sec[m];
    if (!s->built && (st = build_sector(z, m, err))) return st;
    const int N = z->N, nq = sector_nodes(N), nb = s->nb, dim = z->base.model.d;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    const double kappa = z->base.params.kappa;
    double *sbuf = s->Wq; /* 2 nq scratch before Wq is used */
    if ((st = fields_at(z, nq, s->P0tau, s->dP0tau, s->rhalf_tau, s->du_tau, s->D_tau, s->Y_tau, sbuf, err))) return st;
    if ((st = fields_at(z, nq, s->P0sig, s->dP0sig, NULL, s->du_sig, NULL, NULL, sbuf, err))) return st;

    /* Amat_jl = <rho^(1/2) q_j, q_l>, and for SA Bmat_jl = <rho^(1/2) D q_j, q_l>. */
    for (int k = 0; k < nb; k++)
        for (int i = 0; i < nq; i++) s->Wq[i + (size_t)k * nq] = s->omega[i] * s->rhalf_tau[i] * s->Ptau[i + (size_t)k * nq];
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Ptau, nq, s->Wq, nq, 0.0, s->Amat, nb);
    /* kernel weight of each basis function: degree m + k */
    double *gm = s->vec;
    for (int k = 0; k < nb; k++) gm[k] = z->g[m + k];
    /* Cmat (nb x nb) = Amat diag(gm) temporarily held in Mmat */
    for (int k = 0; k < nb; k++)
        for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] = s->Amat[j + (size_t)k * nb] * gm[k];
    if (sa) {
        for (int k = 0; k < nb; k++)
            for (int i = 0; i < nq; i++) s->Wq[i + (size_t)k * nq] *= s->D_tau[i];
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Ptau, nq, s->Wq, nq, 0.0, s->Bmat, nb);
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] = s->Bmat[j + (size_t)k * nb] * gm[k];
    }
    /* H' = kappa I - (Amat or Bmat) diag(gm) Amat^T */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, nb, nb, nb, -1.0, s->Mmat, nb, s->Amat, nb, 0.0, s->Hmat, nb);
    for (int j = 0; j < nb; j++) s->Hmat[j + (size_t)j * nb] += kappa;
    if (sa && m == 0) {
        /* Mass component of the SA normalisation, mod constants: -h_0 Y D (MATH.md 5). */
        for (int j = 0; j < nb; j++) {
            double e = 0.0;
            for (int i = 0; i < nq; i++)
                e -= s->omega[i] * s->rhalf_tau[i] * s->Y_tau[i] * s->D_tau[i] * s->Ptau[i + (size_t)j * nq];
            for (int k = 0; k < nb; k++) s->Hmat[j + (size_t)k * nb] -= e * s->Amat[k];
        }
    }
    /* S' = C^T C (+ angular part), C_ik = sqrt(nu_i) * (derivative term of basis k at sig_i). */
    const double ang = (double)m * (m + dim - 3);
    for (int k = 0; k < nb; k++) {
        for (int i = 0; i < nq; i++) {
            double t = s->sig[i], omt = 1.0 - t * t;
            double pk = s->Psig[i + (size_t)k * nq], dpk = s->dPsig[i + (size_t)k * nq];
            double val = m == 0 ? sqrt(s->nu[i] * omt) * (dpk - 0.5 * pk * s->du_sig[i])
                                : sqrt(s->nu[i]) * (omt * dpk - m * t * pk - 0.5 * omt * pk * s->du_sig[i]);
            s->Cmat[i + (size_t)k * nq] = val;
        }
    }
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Cmat, nq, s->Cmat, nq, 0.0, s->Smat, nb);
    if (ang != 0.0) {
        for (int k = 0; k < nb; k++)
            for (int i = 0; i < nq; i++) s->Wq[i + (size_t)k * nq] = ang * s->nu[i] * s->Psig[i + (size_t)k * nq];
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Psig, nq, s->Wq, nq, 1.0, s->Smat, nb);
    }
    /* M = -S' H' */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nb, nb, nb, -1.0, s->Smat, nb, s->Hmat, nb, 0.0, s->Mmat, nb);

    op->sector = m;
    op->multiplicity = ab_harmonic_dim(dim - 1, m);
    op->mass_removed = 0;
    op->n_symmetry = 0;
    op->symmetry = NULL;
    if (m == 0) {
        /* The conserved mass: the functional <rho^(1/2), g> (coefficients Amat[:,0]) is a left
         * null vector. Reflect it onto e_0 (Householder) and keep the invariant complement. */
        double *v = s->sym, nrm = 0.0;
        for (int j = 0; j < nb; j++) { v[j] = s->Amat[j]; nrm += v[j] * v[j]; }
        nrm = sqrt(nrm);
        v[0] += v[0] >= 0 ? nrm : -nrm;
        double vv = 0.0;
        for (int j = 0; j < nb; j++) vv += v[j] * v[j];
        /* M <- Q M Q with Q = I - 2 v v^T / vv: left then right application. */
        double *w = s->vec;
        for (int k = 0; k < nb; k++) { /* w^T = v^T M */
            double acc = 0.0;
            for (int j = 0; j < nb; j++) acc += v[j] * s->Mmat[j + (size_t)k * nb];
            w[k] = acc;
        }
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] -= 2.0 * v[j] * w[k] / vv;
        for (int j = 0; j < nb; j++) { /* w = M v */
            double acc = 0.0;
            for (int k = 0; k < nb; k++) acc += s->Mmat[j + (size_t)k * nb] * v[k];
            w[j] = acc;
        }
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] -= 2.0 * w[j] * v[k] / vv;
        for (int k = 1; k < nb; k++)
            for (int j = 1; j < nb; j++) s->out[(j - 1) + (size_t)(k - 1) * (nb - 1)] = s->Mmat[j + (size_t)k * nb];
        op->dim = nb - 1;
        op->mass_removed = 1;
    } else {
        memcpy(s->out, s->Mmat, sizeof *s->out * (size_t)nb * nb);
        op->dim = nb;
        if (m == 1) {
            /* Rotation (Goldstone) mode h = sqrt(1-t^2) rho' Y_1, i.e. g = sqrt(1-t^2) rho^(1/2) u':
             * coefficients <q_k, g> = int p_k rho^(1/2) u' (1-t^2) w_d, the alpha = a+1 rule. */
            double nrm = 0.0;
            for (int k = 0; k < nb; k++) {
                double acc = 0.0;
                for (int i = 0; i < nq; i++) acc += s->omega[i] * s->rhalf_tau[i] * s->du_tau[i] * s->Ptau[i + (size_t)k * nq];
                s->sym[k] = acc;
                nrm += acc * acc;
            }
            if (sqrt(nrm) > 1e-10) {
                op->n_symmetry = 1;
                op->symmetry = s->sym;
            }
        }
    }
    op->matrix = s->out;
    for (size_t i = 0; i < (size_t)op->dim * op->dim; i++)
        if (!isfinite(op->matrix[i])) return ab_error_set(err, AB_ENAN, "sector %d operator has non-finite entries", m);
    return AB_OK;
}

static ab_status zonal_density_at(ab_disc *d, const double *u, int n, const double *t, double *rho,
                                  ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N;
    double *p = z->work; /* N x N scratch, only N used here */
    for (int j = 0; j < n; j++) {
        if (!(t[j] >= -1.0 && t[j] <= 1.0)) return ab_error_set(err, AB_EINVAL, "t = %g is outside [-1, 1]", t[j]);
        ab_jacobi_eval(z->a, z->cd, N - 1, t[j], p, NULL);
        double sv = 0.0, Phi;
        for (int l = 0; l < N; l++) sv += z->gc[l] * p[l];
        if (!potential(z, sv, 0.0, &Phi, NULL, NULL, NULL))
            return ab_error_set(err, AB_ENAN, "kernel convolution is not positive at t = %g", t[j]);
        rho[j] = exp(Phi / z->base.params.kappa - z->logZ);
    }
    return AB_OK;
}

static ab_status zonal_profile(ab_disc *d, const double *u, int n_fine, ab_profile *nodes, ab_profile *fine,
                               ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N;
    memset(nodes, 0, sizeof *nodes);
    memset(fine, 0, sizeof *fine);
    nodes->t = malloc(sizeof(double) * N); nodes->theta = malloc(sizeof(double) * N); nodes->rho = malloc(sizeof(double) * N);
    fine->t = malloc(sizeof(double) * n_fine); fine->theta = malloc(sizeof(double) * n_fine); fine->rho = malloc(sizeof(double) * n_fine);
    if (!nodes->t || !nodes->theta || !nodes->rho || !fine->t || !fine->theta || !fine->rho) {
        ab_profile_free(nodes); ab_profile_free(fine);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the density profile");
    }
    nodes->n = N;
    for (int i = 0; i < N; i++) {
        nodes->t[i] = z->t[i];
        nodes->theta[i] = acos(z->t[i]);
        nodes->rho[i] = z->rho[i];
    }
    fine->n = n_fine;
    for (int j = 0; j < n_fine; j++) {
        fine->theta[j] = 3.14159265358979323846 * j / (n_fine - 1);
        fine->t[j] = cos(fine->theta[j]);
    }
    st = zonal_density_at(d, u, n_fine, fine->t, fine->rho, err);
    if (st) { ab_profile_free(nodes); ab_profile_free(fine); }
    return st;
}

static const ab_disc_ops zonal_ops = {
    zonal_name, zonal_destroy, zonal_set_params, zonal_residual, zonal_jacobian, zonal_dparam,
    zonal_residual_scale, zonal_dot, zonal_reflect, zonal_resolution, zonal_guess_from_samples,
    zonal_observables, zonal_initial_guess, zonal_max_sector, zonal_sector_operator, zonal_profile,
    zonal_density_at,
};

ab_status ab_zonal_create(const ab_model *model, ab_params params, int nodes, ab_disc **out, ab_error *err)
{
    *out = NULL;
    if (nodes < 4) return ab_error_set(err, AB_EINVAL, "zonal discretisation needs at least 4 nodes (got %d)", nodes);
    zonal *z = calloc(1, sizeof *z);
    if (!z) return ab_error_set(err, AB_ENOMEM, "out of memory");
    z->base.ops = &zonal_ops;
    z->base.model = *model;
    z->base.model.beta = params.beta;
    z->base.params = params;
    z->base.dim = (size_t)nodes;
    const int N = nodes;
    z->N = N;
    z->a = 0.5 * (model->d - 3);
    z->cd = 1.0 / ab_jacobi_mass(z->a);
    snprintf(z->name, sizeof z->name, "zonal, %d Gauss-Jacobi nodes", N);
    int ok = 1;
    size_t NN = (size_t)N * N;
    z->t = alloc_d(N, &ok); z->W = alloc_d(N, &ok); z->P = alloc_d(NN, &ok);
    z->g = alloc_d(N + 1, &ok); z->dg = alloc_d(N + 1, &ok); z->A = alloc_d(NN, &ok);
    z->rho = alloc_d(N, &ok); z->c = alloc_d(N, &ok); z->gc = alloc_d(N, &ok); z->s = alloc_d(N, &ok);
    z->Y = alloc_d(N, &ok); z->Phi = alloc_d(N, &ok); z->pi = alloc_d(N, &ok); z->row = alloc_d(N, &ok);
    z->work = alloc_d(NN > 2 * (size_t)N ? NN : 2 * (size_t)N, &ok);
    z->n_sectors = model->d == 2 ? 2 : N - 1;
    z->sec = calloc((size_t)z->n_sectors, sizeof *z->sec);
    if (!ok || !z->sec) { zonal_destroy(&z->base); return ab_error_set(err, AB_ENOMEM, "out of memory for %d nodes", N); }
    ab_status st = ab_gauss_jacobi(z->a, N, z->cd, z->t, z->W, err);
    if (st) { zonal_destroy(&z->base); return st; }
    double *p = z->work;
    for (int i = 0; i < N; i++) {
        ab_jacobi_eval(z->a, z->cd, N - 1, z->t[i], p, NULL);
        for (int l = 0; l < N; l++) z->P[i + (size_t)l * N] = p[l];
    }
    if ((st = build_kernel(z, err))) { zonal_destroy(&z->base); return st; }
    *out = &z->base;
    return AB_OK;
}
