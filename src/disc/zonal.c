/* Zonal (axisymmetric) discretisation, any d >= 2 (docs/theory.md): unknowns u = log rho at
 * Gauss-Jacobi nodes in t = <x, pole>, the kernel applied either in the Gegenbauer basis
 * (Funk-Hecke) or exactly in log form, chosen per state by an error estimate, and the
 * linearised operator per sector m in a symmetrised, well-scaled Galerkin form. */
#include "disc/zonal.h"

#include "attnbif/io.h"
#include "disc/disc_impl.h"
#include "disc/jacobi.h"
#include "disc/logkernel.h"
#include "disc/guess.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-sector quadrature and basis tables (built on first use, then reused), and the
 * sector's matrices. All matrices are column-major. Basis values are stored multiplied by
 * the square root of their quadrature weight, which keeps every entry <= 1 at any d. */
typedef struct {
    int built;
    int nb;               /* basis size N - m: harmonic degrees m .. N-1 */
    double *tau, *lomega; /* Gauss-Jacobi rule for (1-t^2)^(a+m), log weights (include c_d) */
    double *sig, *lnu;    /* rule for (1-t^2)^(a+m-1) (m >= 1) or (1-t^2)^a (m = 0) */
    double *Qtau;         /* nq x nb: sqrt(omega_i) p_k(tau_i), family orthonormal for c_d (1-t^2)^(a+m) */
    double *Qsig, *dQsig; /* nq x nb: sqrt(nu_i) times the same family and its derivative at sig */
    double *P0tau, *dP0tau; /* nq x N: state basis (family a) at tau (Funk-Hecke fields) */
    double *P0sig, *dP0sig; /* nq x N: state basis at sig */
    /* log-domain kernel between the rule points and the state nodes, for beta_tables */
    int have_tables;
    double beta_tables;
    double *KLtau, *KTtau, *KLsig, *KTsig; /* nq x N */
    double *KMtau; /* nq x nq: log of the sector-m kernel between the tau points (SA) */
    double *Ework; /* nq x nq scratch for it */
    /* work */
    double *Amat, *Bmat, *Hmat, *Smat, *Mmat, *Cmat, *Wq, *out, *sym;
    double *lrh_tau, *du_tau, *lD_tau, *Y_tau, *du_sig, *vec;
} sector_data;

typedef struct {
    ab_disc base;
    int N;
    double a;  /* Jacobi exponent (d - 3)/2 */
    double mu; /* order of the log kernel's sphere mean, (d - 3)/2 */
    double cd; /* 1 / integral of (1-t^2)^a */
    double *t, *W, *logW, *sqW; /* nodes, normalised weights (sum 1; W may underflow, logW not), sqrt(W) */
    double *Q;   /* N x N: Q[i + l N] = sqrt(W_i) p_l(t_i), an orthogonal matrix */
    double *g;   /* g[l] = kappa_l (g[0] = 0): weight of degree l in Phi */
    double *dg;  /* d g[l] / d beta */
    double *Afh; /* N x N: Q diag(g) Q^T (Funk-Hecke Jacobian) */
    double *KL, *KB; /* N x N log kernel at the nodes (with log W_j) and its beta derivative */
    int have_tables;
    double beta_tables;
    int log_kernel;      /* 0: Funk-Hecke, 1: log-domain */
    ab_kernel_form forced; /* AB_KERNEL_AUTO: chosen per state */
    double kernel_error; /* estimated error of Phi/kappa of the form in use, at the last choice */
    double log_lambda0;
    double quad_error;   /* log-domain kernel: max_i |log K 1 (t_i) - log lambda_0|, its quadrature error */
    double term_scale;   /* 1 + max |Phi/kappa| at the last evaluated state */
    /* state evaluation work (valid after eval_state) */
    double *wrho, *v, *c, *gc, *s, *Y, *Phi, *pi, *row, *work, *LK, *L, *Asoft;
    /* the linearisation (zonal_linearize): copies of the state quantities J needs (the
     * log form's softmax matrix stays in Asoft, which only linearising writes) */
    int lin_valid, lin_log;
    double lin_kappa, lin_beta, lin_c0, lin_C;
    double *lin_pi, *lin_wrho, *lin_v, *lin_Y, *lin_eL, *lin_t1, *lin_t2;
    double c0, logc0, logZ;
    int n_sectors;
    sector_data *sec;
    char name[96];
} zonal;

static zonal *Z(ab_disc *d) { return (zonal *)d; }

static const char *zonal_name(const ab_disc *d) { return ((const zonal *)d)->name; }

static double *alloc_d(size_t n, int *ok)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) *ok = 0;
    return p;
}

static void free_sector(sector_data *s)
{
    double **arrs[] = {&s->tau, &s->lomega, &s->sig, &s->lnu, &s->Qtau, &s->Qsig, &s->dQsig,
                       &s->P0tau, &s->dP0tau, &s->P0sig, &s->dP0sig, &s->KLtau, &s->KTtau, &s->KLsig,
                       &s->KTsig, &s->KMtau, &s->Ework, &s->Amat, &s->Bmat, &s->Hmat, &s->Smat, &s->Mmat, &s->Cmat, &s->Wq,
                       &s->out, &s->sym, &s->lrh_tau, &s->du_tau, &s->lD_tau, &s->Y_tau, &s->du_sig, &s->vec};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) { free(*arrs[i]); *arrs[i] = NULL; }
    s->built = 0;
    s->have_tables = 0;
}

static void zonal_destroy(ab_disc *d)
{
    zonal *z = Z(d);
    if (z->sec)
        for (int m = 0; m < z->n_sectors; m++) free_sector(&z->sec[m]);
    free(z->sec);
    double *arrs[] = {z->t, z->W, z->logW, z->sqW, z->Q, z->g, z->dg, z->Afh, z->KL, z->KB, z->wrho, z->v,
                      z->c, z->gc, z->s, z->Y, z->Phi, z->pi, z->row, z->work, z->LK, z->L, z->Asoft,
                      z->lin_pi, z->lin_wrho, z->lin_v, z->lin_Y, z->lin_eL, z->lin_t1, z->lin_t2};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) free(arrs[i]);
    free(z);
}

static void set_name(zonal *z)
{
    snprintf(z->name, sizeof z->name, "zonal, %d Gauss-Jacobi nodes, %s kernel", z->N,
             z->log_kernel ? "log-domain" : "Funk-Hecke");
}

/* Kernel tables for the current beta: g_l = kappa_l, dg_l, and Afh = Q diag(g) Q^T. */
static ab_status build_kernel(zonal *z, ab_error *err)
{
    const int N = z->N;
    const ab_model *m = &z->base.model;
    const double beta = z->base.params.beta;
    ab_status st = ab_kappa_l_table(m->kind, m->d, beta, N - 1, z->g, err);
    if (st) return st;
    for (int l = 0; l < N; l++) z->dg[l] = ab_kappa_l_dbeta(m->kind, m->d, beta, l);
    z->log_lambda0 = ab_log_lambda_l(m->d, beta, 0);
    if (m->kind == AB_MODEL_USA && beta > 0.0 && !isfinite(z->log_lambda0 - log(beta) + 1.0))
        return ab_error_set(err, AB_EINVAL, "USA kernel scale lambda_0/beta is not finite at beta = %g", beta);
    for (int l = 0; l < N; l++)
        for (int i = 0; i < N; i++) z->work[i + (size_t)l * N] = z->Q[i + (size_t)l * N] * z->g[l];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, N, N, N, 1.0, z->work, N, z->Q, N, 0.0, z->Afh, N);
    z->have_tables = 0;
    for (int s = 0; s < z->n_sectors; s++) z->sec[s].have_tables = 0;
    return AB_OK;
}

/* The log-domain kernel tables at the nodes, built on first use for the current beta. */
static ab_status ensure_tables(zonal *z, ab_error *err)
{
    const int N = z->N;
    const double beta = z->base.params.beta;
    if (z->have_tables && z->beta_tables == beta) return AB_OK;
    if (!z->KL) {
        int ok = 1;
        z->KL = alloc_d((size_t)N * N, &ok);
        z->KB = alloc_d((size_t)N * N, &ok);
        z->Asoft = alloc_d((size_t)N * N, &ok);
        if (!ok) return ab_error_set(err, AB_ENOMEM, "out of memory for the log-domain kernel (%d nodes)", N);
    }
    ab_logkernel_table(z->mu, beta, N, z->t, N, z->t, z->logW, z->KL, z->KB, NULL);
    for (size_t k = 0; k < (size_t)N * N; k++)
        if (!isfinite(z->KL[k]) || !isfinite(z->KB[k]))
            return ab_error_set(err, AB_ENAN, "log-domain kernel is not finite (d = %d, beta = %g)", z->base.model.d, beta);
    /* K 1 = lambda_0 exactly: how far the quadrature misses it measures how well the
     * N nodes resolve the kernel (width ~ beta^{-1/2}), which rounding alone does not */
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j < N; j++) mx = fmax(mx, z->KL[i + (size_t)j * N]);
        for (int j = 0; j < N; j++) sum += exp(z->KL[i + (size_t)j * N] - mx);
        worst = fmax(worst, fabs(mx + log(sum) - z->log_lambda0));
    }
    z->quad_error = worst;
    z->have_tables = 1;
    z->beta_tables = beta;
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

/* The potential from the kernel sum s = sum_l g_l c_l p_l at one point (Funk-Hecke form):
 * SA Phi = log(1 + beta Y)/beta with Y = s / c0 (Phi = Y at beta = 0), USA Phi = s.
 * Also returns dPhi from ds, and log of the SA factor D = 1 / (c0 (1 + beta Y)). */
static int potential(const zonal *z, double s, double ds, double *Phi, double *dPhi, double *Y, double *lD)
{
    const double beta = z->base.params.beta;
    if (z->base.model.kind == AB_MODEL_USA) {
        *Phi = s;
        if (dPhi) *dPhi = ds;
        if (Y) *Y = s;
        if (lD) *lD = 0.0;
        return 1;
    }
    double y = s / z->c0, arg = 1.0 + beta * y;
    if (!(arg > 0.0)) return 0;
    *Phi = beta > 0.0 ? log1p(beta * y) / beta : y;
    if (dPhi) *dPhi = ds / z->c0 / arg;
    if (Y) *Y = y;
    if (lD) *lD = -z->logc0 - log1p(beta * y);
    return 1;
}

/* The potential from the log of the normalised convolution L = log(K rho / (lambda_0 c0))
 * (log-domain form; beta > 0): SA Phi = L/beta, USA Phi = (lambda_0 c0/beta)(e^L - 1). */
static void potential_log(const zonal *z, double L, double dL, double *Phi, double *dPhi, double *Y, double *lD)
{
    const double beta = z->base.params.beta;
    if (z->base.model.kind == AB_MODEL_SA) {
        *Phi = L / beta;
        if (dPhi) *dPhi = dL / beta;
        if (Y) *Y = expm1(L) / beta;
        if (lD) *lD = -z->logc0 - L;
    } else {
        const double C = exp(z->log_lambda0 + z->logc0 - log(beta));
        *Phi = C * expm1(L);
        if (dPhi) *dPhi = C * exp(L) * dL;
        if (Y) *Y = *Phi;
        if (lD) *lD = 0.0;
    }
}

static double lse_weighted(const zonal *z, const double *x)
{
    double mx = -INFINITY, sum = 0.0;
    for (int i = 0; i < z->N; i++) mx = fmax(mx, z->logW[i] + x[i]);
    for (int i = 0; i < z->N; i++) sum += exp(z->logW[i] + x[i] - mx);
    return mx + log(sum);
}

/* Phi at the nodes by the Funk-Hecke sum; 0 if K rho is not positive somewhere. */
static int phi_funk_hecke(zonal *z)
{
    const int N = z->N;
    cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->Q, N, z->gc, 1, 0.0, z->s, 1);
    for (int i = 0; i < N; i++) {
        z->s[i] /= z->sqW[i];
        if (!isfinite(z->s[i])) return 0;
        if (!potential(z, z->s[i], 0.0, &z->Phi[i], NULL, &z->Y[i], NULL)) return 0;
    }
    return 1;
}

static void phi_log(zonal *z, const double *u)
{
    ab_logkernel_apply(z->N, z->N, z->KL, u, z->LK, NULL);
    for (int i = 0; i < z->N; i++) {
        z->L[i] = z->LK[i] - z->log_lambda0 - z->logc0;
        potential_log(z, z->L[i], 0.0, &z->Phi[i], NULL, &z->Y[i], NULL);
    }
}

/* coef[l] = |g_l| (|c_l| + sum_i |Q_il| v_i): the size of degree l's term in the
 * Funk-Hecke sum, with the rounding bound of c_l; times eps |p_l(t)| it bounds the error
 * of that term at t. */
static void fh_term_bound(const zonal *z, double *coef)
{
    const int N = z->N;
    for (int l = 0; l < N; l++) {
        double acc = 0.0;
        for (int i = 0; i < N; i++) acc += fabs(z->Q[i + (size_t)l * N]) * z->v[i];
        coef[l] = fabs(z->g[l]) * (fabs(z->c[l]) + acc);
    }
}

/* Error estimates of Phi/kappa at the state whose v, c, gc are current, for both forms
 * (docs/theory.md, "Choosing the kernel form"). */
static double error_funk_hecke(zonal *z)
{
    const int N = z->N;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    double *coef = z->work;
    fh_term_bound(z, coef);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        if (!(z->sqW[i] > 0.0)) return INFINITY;
        double acc = 0.0;
        for (int l = 0; l < N; l++) acc += fabs(z->Q[i + (size_t)l * N]) * coef[l];
        acc /= z->sqW[i];
        double e = DBL_EPSILON * acc / kappa;
        if (z->base.model.kind == AB_MODEL_SA) {
            double arg = 1.0 + beta * z->s[i] / z->c0;
            e = arg > 0.0 ? e / (z->c0 * arg) : INFINITY;
        }
        worst = fmax(worst, e);
    }
    return isfinite(worst) ? worst : INFINITY;
}

static double error_log(zonal *z, const double *u)
{
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    if (!(beta > 0.0) || !z->have_tables) return INFINITY;
    const double e = fmax(DBL_EPSILON * (ab_logkernel_max_exponent(z->N, z->N, z->KL, u, z->LK) + fabs(z->logc0) + 1.0),
                          z->quad_error);
    if (z->base.model.kind == AB_MODEL_SA) return e / (beta * kappa);
    double worst = 0.0;
    for (int i = 0; i < z->N; i++) worst = fmax(worst, fabs(z->Phi[i]) + exp(z->log_lambda0 + z->logc0 - log(beta)));
    return e * worst / kappa;
}

/* Everything the residual needs at u: W rho, modal coefficients c, Phi at the nodes, log Z
 * and the Gibbs weights pi. */
static ab_status eval_state(zonal *z, const double *u, ab_error *err)
{
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    for (int i = 0; i < N; i++) {
        if (!isfinite(u[i])) return ab_error_set(err, AB_ENAN, "log-density is not finite at node %d (t = %.6f)", i, z->t[i]);
        z->wrho[i] = exp(z->logW[i] + u[i]);
        z->v[i] = exp(0.5 * z->logW[i] + u[i]);
        if (!isfinite(z->v[i]))
            return ab_error_set(err, AB_ENAN, "density overflows at node %d (t = %.6f): the state is not resolved", i, z->t[i]);
    }
    z->logc0 = lse_weighted(z, u);
    z->c0 = exp(z->logc0);
    if (!(z->c0 > 0.0) || !isfinite(z->c0))
        return ab_error_set(err, AB_ENAN, "density has no finite positive mass (mass = %g)", z->c0);
    cblas_dgemv(CblasColMajor, CblasTrans, N, N, 1.0, z->Q, N, z->v, 1, 0.0, z->c, 1);
    for (int l = 0; l < N; l++) z->gc[l] = z->g[l] * z->c[l];
    if (z->log_kernel) {
        ab_status st = ensure_tables(z, err);
        if (st) return st;
        phi_log(z, u);
    } else if (!phi_funk_hecke(z)) {
        /* K rho is far below its peak somewhere: only the log form can represent it */
        if (!(z->base.params.beta > 0.0) || z->forced == AB_KERNEL_FUNK_HECKE)
            return ab_error_set(err, AB_ENAN, "kernel convolution K rho is not positive: the state is not resolved");
        ab_status st = ensure_tables(z, err);
        if (st) return st;
        z->log_kernel = 1;
        set_name(z);
        phi_log(z, u);
    }
    double maxe = -INFINITY, scale = 0.0;
    for (int i = 0; i < N; i++) {
        maxe = fmax(maxe, z->logW[i] + z->Phi[i] / kappa);
        scale = fmax(scale, fabs(z->Phi[i]) / kappa);
    }
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += exp(z->logW[i] + z->Phi[i] / kappa - maxe);
    z->logZ = maxe + log(sum);
    for (int i = 0; i < N; i++) z->pi[i] = exp(z->logW[i] + z->Phi[i] / kappa - z->logZ);
    if (!isfinite(z->logZ)) return ab_error_set(err, AB_ENAN, "partition function is not finite");
    z->term_scale = 1.0 + scale;
    return AB_OK;
}

/* Choose the kernel form for the state u (docs/theory.md, "Choosing the kernel form"):
 * Funk-Hecke whenever its bound is within AB_KERNEL_TOL (cheaper, exact at beta = 0),
 * else the form with the smaller estimate, switching only for a gain. */
static ab_status select_kernel(zonal *z, const double *u, ab_error *err)
{
    ab_status st;
    if (z->forced != AB_KERNEL_AUTO) {
        if ((st = eval_state(z, u, err))) return st;
        z->kernel_error = z->log_kernel ? error_log(z, u) : error_funk_hecke(z);
        return AB_OK;
    }
    const int was_log = z->log_kernel;
    z->log_kernel = 0;
    if ((st = eval_state(z, u, err))) return st; /* switches to the log form if K rho is not positive */
    double e_fh = z->log_kernel ? INFINITY : error_funk_hecke(z), e_log = INFINITY;
    if (!z->log_kernel &&
        (e_fh <= fmin(AB_KERNEL_TOL * z->term_scale, AB_KERNEL_ABS_TOL) || !(z->base.params.beta > 0.0))) {
        z->kernel_error = e_fh;
        if (was_log) set_name(z);
        return AB_OK;
    }
    z->log_kernel = 1;
    if ((st = ensure_tables(z, err)) || (st = eval_state(z, u, err))) return st;
    e_log = error_log(z, u);
    z->log_kernel = was_log ? !(e_fh * AB_KERNEL_SWITCH_GAIN < e_log) : e_log * AB_KERNEL_SWITCH_GAIN < e_fh;
    z->kernel_error = z->log_kernel ? e_log : e_fh;
    if (z->log_kernel != was_log) set_name(z);
    return z->log_kernel ? AB_OK : eval_state(z, u, err);
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
 *   Funk-Hecke: USA D_ij = Afh_ij v_j / sqrt(W_i); SA D_ij = (Afh_ij v_j / sqrt(W_i) - Y_i W_j rho_j) / (c0 (1 + beta Y_i));
 *   log form:   SA D_ij = (S_ij - W_j rho_j / c0) / beta; USA D_ij = (lambda_0 c0 / beta)(e^{L_i} S_ij - W_j rho_j / c0),
 * S the softmax matrix d log K rho_i / d u_j. Linearising chooses the kernel form (once per
 * Newton step) and keeps what J needs apart from the state-evaluation work, so that J
 * stays J(u) while residuals are evaluated elsewhere (line search, corrector). Mat-vecs
 * cost one N x N gemv (Afh or S); assembly N^2 (docs/theory.md, "Linear solvers"). */
static ab_status zonal_linearize(ab_disc *d, const double *u, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    z->lin_valid = 0;
    ab_status st = select_kernel(z, u, err);
    if (st) return st;
    z->lin_log = z->log_kernel;
    z->lin_kappa = z->base.params.kappa;
    z->lin_beta = z->base.params.beta;
    z->lin_c0 = z->c0;
    if (z->lin_log) ab_logkernel_apply(N, N, z->KL, u, z->LK, z->Asoft);
    z->lin_C = (z->base.model.kind != AB_MODEL_SA && z->lin_log) ? exp(z->log_lambda0 + z->logc0 - log(z->lin_beta)) : 0.0;
    for (int i = 0; i < N; i++) {
        z->lin_pi[i] = z->pi[i];
        z->lin_wrho[i] = z->wrho[i];
        z->lin_v[i] = z->v[i];
        z->lin_Y[i] = z->Y[i];
        z->lin_eL[i] = z->lin_log ? exp(z->L[i]) : 0.0;
    }
    z->lin_valid = 1;
    return AB_OK;
}

static ab_status zonal_jac_matrix(ab_disc *d, double *J, size_t ld, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    if (!z->lin_valid) return ab_error_set(err, AB_EINVAL, "Jacobian used before linearising");
    const double kappa = z->lin_kappa, beta = z->lin_beta, C = z->lin_C;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    for (int j = 0; j < N; j++) {
        double *col = J + (size_t)j * ld;
        double colsum = 0.0;
        const double mass_j = z->lin_wrho[j] / z->lin_c0;
        for (int i = 0; i < N; i++) {
            double Dij;
            if (z->lin_log) {
                const double S = z->Asoft[i + (size_t)j * N];
                Dij = sa ? (S - mass_j) / beta : C * (z->lin_eL[i] * S - mass_j);
            } else {
                const double Av = z->Afh[i + (size_t)j * N] * z->lin_v[j] / z->sqW[i];
                Dij = sa ? (Av - z->lin_Y[i] * z->lin_wrho[j]) / (z->lin_c0 * (1.0 + beta * z->lin_Y[i])) : Av;
            }
            col[i] = Dij;
            colsum += z->lin_pi[i] * Dij;
        }
        for (int i = 0; i < N; i++) col[i] = (i == j) - (col[i] - colsum) / kappa;
    }
    return AB_OK;
}

/* y = J x (transpose = 0) or J^T x (1). J^T = I - (1/kappa) D^T (I - pi 1^T). */
static ab_status jac_apply_dir(zonal *z, int transpose, const double *x, double *y, ab_error *err)
{
    const int N = z->N;
    if (!z->lin_valid) return ab_error_set(err, AB_EINVAL, "Jacobian used before linearising");
    const double kappa = z->lin_kappa, beta = z->lin_beta, C = z->lin_C;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    double *t1 = z->lin_t1, *t2 = z->lin_t2;
    if (!transpose) {
        double m = 0.0;
        for (int j = 0; j < N; j++) m += z->lin_wrho[j] * x[j];
        if (z->lin_log) {
            cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->Asoft, N, x, 1, 0.0, t2, 1);
            m /= z->lin_c0;
            for (int i = 0; i < N; i++) t2[i] = sa ? (t2[i] - m) / beta : C * (z->lin_eL[i] * t2[i] - m);
        } else {
            for (int j = 0; j < N; j++) t1[j] = z->lin_v[j] * x[j];
            cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->Afh, N, t1, 1, 0.0, t2, 1);
            for (int i = 0; i < N; i++) {
                const double Av = t2[i] / z->sqW[i];
                t2[i] = sa ? (Av - z->lin_Y[i] * m) / (z->lin_c0 * (1.0 + beta * z->lin_Y[i])) : Av;
            }
        }
        double mean = 0.0;
        for (int i = 0; i < N; i++) mean += z->lin_pi[i] * t2[i];
        for (int i = 0; i < N; i++) y[i] = x[i] - (t2[i] - mean) / kappa;
        return AB_OK;
    }
    /* w = (I - pi 1^T) x, then y = x - D^T w / kappa */
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += x[i];
    for (int i = 0; i < N; i++) t1[i] = x[i] - z->lin_pi[i] * sum;
    double wsum = 0.0;
    for (int i = 0; i < N; i++) wsum += t1[i];
    if (z->lin_log) {
        if (!sa)
            for (int i = 0; i < N; i++) t1[i] *= z->lin_eL[i];
        cblas_dgemv(CblasColMajor, CblasTrans, N, N, 1.0, z->Asoft, N, t1, 1, 0.0, t2, 1);
        for (int j = 0; j < N; j++) {
            const double mass_j = z->lin_wrho[j] / z->lin_c0;
            t2[j] = sa ? (t2[j] - mass_j * wsum) / beta : C * (t2[j] - mass_j * wsum);
        }
    } else {
        double ys = 0.0;
        for (int i = 0; i < N; i++) {
            double s = sa ? t1[i] / (z->lin_c0 * (1.0 + beta * z->lin_Y[i])) : t1[i];
            ys += z->lin_Y[i] * s;
            t1[i] = s / z->sqW[i];
        }
        cblas_dgemv(CblasColMajor, CblasTrans, N, N, 1.0, z->Afh, N, t1, 1, 0.0, t2, 1);
        for (int j = 0; j < N; j++) t2[j] = z->lin_v[j] * t2[j] - (sa ? z->lin_wrho[j] * ys : 0.0);
    }
    for (int j = 0; j < N; j++) y[j] = x[j] - t2[j] / kappa;
    return AB_OK;
}

static ab_status zonal_jac_apply(ab_disc *d, const double *x, double *y, ab_error *err)
{
    return jac_apply_dir(Z(d), 0, x, y, err);
}

static ab_status zonal_jac_apply_t(ab_disc *d, const double *x, double *y, ab_error *err)
{
    return jac_apply_dir(Z(d), 1, x, y, err);
}

static const double *zonal_weights(const ab_disc *d) { return ((const zonal *)d)->W; }
static int zonal_max_degree(const ab_disc *d) { return ((const zonal *)d)->N - 1; }
/* Branches born in sector m >= 1 are not axisymmetric: only sector 0 stays zonal. */
static int zonal_sector_followable(const ab_disc *d, int sector)
{
    (void)d;
    return sector == 0;
}

/* A saved profile (t, rho samples, e.g. profiles/BP1.csv) as a guess on these nodes. */
static ab_status zonal_guess_from_samples(ab_disc *d, int n, const double *t, const double *rho, double *u,
                                          ab_error *err);
static ab_status zonal_load_state(ab_disc *d, const char *path, double *u, ab_error *err)
{
    int n;
    double *t, *rho;
    ab_status st = ab_read_profile(path, &n, &t, &rho, err);
    if (st) return st;
    st = zonal_guess_from_samples(d, n, t, rho, u, err);
    free(t);
    free(rho);
    return st;
}

static ab_status zonal_dparam(ab_disc *d, const double *u, ab_param_id which, double *dF, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    /* dPhi into z->row */
    if (which == AB_PARAM_KAPPA) {
        for (int i = 0; i < N; i++) z->row[i] = -z->Phi[i] / kappa; /* d(Phi/kappa)/dkappa * kappa */
    } else if (z->log_kernel) {
        /* the softmax weights row by row (not into Asoft, which holds the linearisation) */
        ab_logkernel_apply(N, N, z->KL, u, z->LK, NULL);
        const double dloglambda0 = ab_bessel_i_ratio(0.5 * z->base.model.d - 1.0, beta);
        for (int i = 0; i < N; i++) {
            double dLK = 0.0;
            for (int j = 0; j < N; j++)
                dLK += exp(z->KL[i + (size_t)j * N] + u[j] - z->LK[i]) * z->KB[i + (size_t)j * N];
            const double dL = dLK - dloglambda0;
            if (sa) z->row[i] = dL / beta - z->L[i] / (beta * beta);
            else z->row[i] = z->Phi[i] * (dloglambda0 - 1.0 / beta) + exp(z->log_lambda0 + z->logc0 - log(beta) + z->L[i]) * dL;
        }
    } else {
        for (int l = 0; l < N; l++) z->gc[l] = z->dg[l] * z->c[l];
        cblas_dgemv(CblasColMajor, CblasNoTrans, N, N, 1.0, z->Q, N, z->gc, 1, 0.0, z->work, 1);
        for (int l = 0; l < N; l++) z->gc[l] = z->g[l] * z->c[l];
        for (int i = 0; i < N; i++) {
            const double sb = z->work[i] / z->sqW[i];
            if (!sa) {
                z->row[i] = sb;
            } else {
                double y = z->Y[i], yb = sb / z->c0, x = beta * y;
                z->row[i] = yb / (1.0 + x) + y * y * ab_sa_dbeta_factor(x);
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

/* The size of the terms that make up F: the largest kernel weight and the largest potential
 * at the last evaluated state, over kappa. */
static double zonal_residual_scale(const ab_disc *d)
{
    const zonal *z = (const zonal *)d;
    double gmax = 0.0;
    for (int l = 0; l < z->N; l++) gmax = fmax(gmax, fabs(z->g[l]));
    return fmax(z->term_scale, 1.0 + gmax / z->base.params.kappa);
}

static double zonal_residual_floor(const ab_disc *d)
{
    return ((const zonal *)d)->kernel_error;
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

/* The tail is measured on the modal coefficients of rho relative to the largest one (a
 * clustered state at large d has coefficients far above c_0). */
static ab_status zonal_resolution(ab_disc *d, const double *u, double *tail, int *nodes_needed, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N, k0 = N - (N / 8 > 2 ? N / 8 : 2);
    double top = 0.0, mid = 0.0, peak = 0.0;
    for (int l = 0; l < N; l++) peak = fmax(peak, fabs(z->c[l]));
    for (int l = k0; l < N; l++) top = fmax(top, fabs(z->c[l]));
    for (int l = N / 2 - 2; l < N / 2 + 2; l++) mid = fmax(mid, fabs(z->c[l]));
    *tail = top / peak;
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
    ab_status st = ab_log_profile_at(n, t, rho, (size_t)z->N, z->t, 1, u, err);
    if (!st) normalise(z, u);
    return st;
}

static ab_status zonal_observables(ab_disc *d, const double *u, ab_observables *obs, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N, dim = z->base.model.d;
    double r = 0.0, S = 0.0, ent = 0.0, inter = 0.0;
    for (int i = 0; i < N; i++) {
        double wr = z->wrho[i], t = z->t[i];
        r += wr * t;
        S += wr * (dim * t * t - 1.0) / (dim - 1.0);
        ent -= wr * u[i];
        inter += wr * z->Phi[i];
    }
    obs->r = fabs(r);
    /* On the circle Q has eigenvalues +s and -s: the sign is a matter of orientation, and
     * the rotation by pi/2 that flips it is a symmetry, so report |s|. */
    obs->S = dim == 2 ? fabs(S) : S;
    obs->entropy = ent;
    obs->mass = z->c0;
    /* USA: E - E(uniform) = kappa int rho log rho - 1/2 int rho Phi (Phi without its
     * constant, = sum_{l>=1} kappa_l c_l^2 / ... in the Gegenbauer form) */
    obs->free_energy = z->base.model.kind == AB_MODEL_USA ? -z->base.params.kappa * ent - 0.5 * inter : NAN;
    return AB_OK;
}

/* Normalise u so that int e^u = 1. */
static void normalise(const zonal *z, double *u)
{
    const double shift = lse_weighted(z, u);
    for (int i = 0; i < z->N; i++) u[i] -= shift;
}

static ab_status zonal_initial_guess(ab_disc *d, const ab_state_spec *state, double *u, ab_error *err)
{
    zonal *z = Z(d);
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    double b = state->r > 0.0 ? ab_vmf_for_r(z->base.model.d, state->r) : ab_vmf_concentration(z->base.model.d, kappa);
    switch (state->type) {
    case AB_STATE_UNIFORM:
        for (int i = 0; i < N; i++) u[i] = 0.0;
        return AB_OK;
    case AB_STATE_FILE:
        return ab_error_set(err, AB_EINVAL, "a file state is read with ab_disc_load_state");
    case AB_STATE_LABEL:
        return ab_error_set(err, AB_EINVAL, "a label state is read with ab_label_read (ab_initial_state does)");
    case AB_STATE_CLUSTERS:
        return ab_error_set(err, AB_EINVAL, "clusters are not axisymmetric: they need discretization: {type: sphere}");
    case AB_STATE_CLUSTER:
        for (int i = 0; i < N; i++) u[i] = b * z->t[i];
        break;
    case AB_STATE_ANTIPODAL:
        for (int i = 0; i < N; i++) u[i] = 0.5 * b * z->t[i] * z->t[i];
        break;
    case AB_STATE_PERTURB: {
        /* 1 + amplitude * P_l(t) / P_l(1): the degree-l zonal harmonic with value 1 at the pole. */
        double *p = z->work, *q = z->work + N;
        ab_jacobi_eval(z->a, z->cd, state->l, 1.0, p, NULL);
        double p1 = p[state->l];
        for (int i = 0; i < N; i++) {
            ab_jacobi_eval(z->a, z->cd, state->l, z->t[i], q, NULL);
            double rho = 1.0 + state->amplitude * q[state->l] / p1;
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
    ab_status st = select_kernel(z, u, err);
    if (st) return st;
    /* With r given, the guess is the user's; otherwise a few damped fixed-point sweeps
     * u <- Phi[e^u]/kappa - log Z pull the vMF shape onto the model's own cluster profile
     * before Newton; they stop early once close. */
    if (state->r > 0.0) return AB_OK;
    double *F = z->work;
    for (int it = 0; it < 30; it++) {
        if ((st = zonal_residual(d, u, F, err))) return st;
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
    s->tau = alloc_d(nq, &ok); s->lomega = alloc_d(nq, &ok);
    s->sig = alloc_d(nq, &ok); s->lnu = alloc_d(nq, &ok);
    s->Qtau = alloc_d(qb, &ok); s->Qsig = alloc_d(qb, &ok); s->dQsig = alloc_d(qb, &ok);
    s->P0tau = alloc_d(qN, &ok); s->dP0tau = alloc_d(qN, &ok);
    s->P0sig = alloc_d(qN, &ok); s->dP0sig = alloc_d(qN, &ok);
    s->Amat = alloc_d(bb, &ok); s->Bmat = alloc_d(bb, &ok); s->Hmat = alloc_d(bb, &ok);
    s->Smat = alloc_d(bb, &ok); s->Mmat = alloc_d(bb, &ok); s->out = alloc_d(bb, &ok);
    s->Cmat = alloc_d(qb, &ok); s->Wq = alloc_d(qb > 2 * (size_t)nq ? qb : 2 * (size_t)nq, &ok); s->sym = alloc_d(nb, &ok);
    s->lrh_tau = alloc_d(nq, &ok); s->du_tau = alloc_d(nq, &ok); s->lD_tau = alloc_d(nq, &ok);
    s->Y_tau = alloc_d(nq, &ok); s->du_sig = alloc_d(nq, &ok); s->vec = alloc_d(N + nb, &ok);
    if (!ok) { free_sector(s); return ab_error_set(err, AB_ENOMEM, "out of memory building sector %d", m); }
    ab_status st = ab_gauss_jacobi(am, nq, z->cd, s->tau, NULL, s->lomega, err);
    if (!st) st = ab_gauss_jacobi(as, nq, z->cd, s->sig, NULL, s->lnu, err);
    if (st) { free_sector(s); return st; }
    double *p = s->vec, *dp = s->vec + nb;
    double *p2 = malloc(sizeof *p2 * 2 * (size_t)N);
    if (!p2) { free_sector(s); return ab_error_set(err, AB_ENOMEM, "out of memory building sector %d", m); }
    for (int i = 0; i < nq; i++) {
        ab_jacobi_eval_scaled(am, z->cd, nb - 1, s->tau[i], 0.5 * s->lomega[i], p, NULL);
        for (int k = 0; k < nb; k++) s->Qtau[i + (size_t)k * nq] = p[k];
        ab_jacobi_eval_scaled(am, z->cd, nb - 1, s->sig[i], 0.5 * s->lnu[i], p, dp);
        for (int k = 0; k < nb; k++) { s->Qsig[i + (size_t)k * nq] = p[k]; s->dQsig[i + (size_t)k * nq] = dp[k]; }
        ab_jacobi_eval(a, z->cd, N - 1, s->tau[i], p2, p2 + N);
        for (int l = 0; l < N; l++) { s->P0tau[i + (size_t)l * nq] = p2[l]; s->dP0tau[i + (size_t)l * nq] = p2[N + l]; }
        ab_jacobi_eval(a, z->cd, N - 1, s->sig[i], p2, p2 + N);
        for (int l = 0; l < N; l++) { s->P0sig[i + (size_t)l * nq] = p2[l]; s->dP0sig[i + (size_t)l * nq] = p2[N + l]; }
    }
    free(p2);
    s->built = 1;
    return AB_OK;
}

static ab_status sector_tables(zonal *z, sector_data *s, ab_error *err)
{
    const int N = z->N, nq = sector_nodes(N);
    const double beta = z->base.params.beta;
    if (s->have_tables && s->beta_tables == beta) return AB_OK;
    if (!s->KLtau) {
        int ok = 1;
        s->KLtau = alloc_d((size_t)nq * N, &ok); s->KTtau = alloc_d((size_t)nq * N, &ok);
        s->KLsig = alloc_d((size_t)nq * N, &ok); s->KTsig = alloc_d((size_t)nq * N, &ok);
        if (!ok) return ab_error_set(err, AB_ENOMEM, "out of memory for the sector kernel tables");
    }
    ab_logkernel_table(z->mu, beta, nq, s->tau, N, z->t, z->logW, s->KLtau, NULL, s->KTtau);
    ab_logkernel_table(z->mu, beta, nq, s->sig, N, z->t, z->logW, s->KLsig, NULL, s->KTsig);
    if (z->base.model.kind == AB_MODEL_SA) {
        if (!s->KMtau) {
            s->KMtau = malloc(sizeof(double) * (size_t)nq * nq);
            s->Ework = malloc(sizeof(double) * (size_t)nq * nq);
            if (!s->KMtau || !s->Ework) return ab_error_set(err, AB_ENOMEM, "out of memory for the sector kernel tables");
        }
        const int m = (int)(s - z->sec);
        /* the sector basis is (1-t^2)^(m/2) p_k and the rule's weight carries (1-t^2)^(a+m):
         * the kernel between the p_k is k_m(t, s) / ((1-t^2)(1-s^2))^(m/2), smooth at the poles */
        for (int l = 0; l < nq; l++) {
            const double sl = sqrt(fmax((1.0 - s->tau[l]) * (1.0 + s->tau[l]), 0.0));
            for (int i = l; i < nq; i++) {
                const double si = sqrt(fmax((1.0 - s->tau[i]) * (1.0 + s->tau[i]), 0.0));
                const double v = beta * s->tau[i] * s->tau[l] + ab_log_sphere_harmonic_exp(z->mu, m, beta * si * sl) -
                                 m * (log(si) + log(sl));
                s->KMtau[i + (size_t)l * nq] = s->KMtau[l + (size_t)i * nq] = v;
            }
        }
    }
    s->have_tables = 1;
    s->beta_tables = beta;
    return AB_OK;
}

/* Fields of the state at nq rule points: u' (and log rho^(1/2), log D, Y), from the
 * Funk-Hecke sums s = P0 gc, ds = dP0 gc or from the log kernel tables KL, KT. */
static ab_status fields_at(zonal *z, const double *u, int nq, const double *P0, const double *dP0, const double *KL,
                           const double *KT, double *lrh, double *du, double *lD, double *Y, double *sbuf, ab_error *err)
{
    const int N = z->N;
    const double kappa = z->base.params.kappa;
    double *sv = sbuf, *dsv = sbuf + nq;
    if (z->log_kernel) {
        ab_logkernel_apply(nq, N, KL, u, sv, NULL);
        for (int i = 0; i < nq; i++) {
            double acc = 0.0;
            for (int j = 0; j < N; j++) {
                const size_t ij = (size_t)i + (size_t)j * nq;
                acc += exp(KL[ij] + u[j] - sv[i]) * KT[ij];
            }
            dsv[i] = acc;
        }
    } else {
        cblas_dgemv(CblasColMajor, CblasNoTrans, nq, N, 1.0, P0, nq, z->gc, 1, 0.0, sv, 1);
        cblas_dgemv(CblasColMajor, CblasNoTrans, nq, N, 1.0, dP0, nq, z->gc, 1, 0.0, dsv, 1);
    }
    for (int i = 0; i < nq; i++) {
        double Phi, dPhi, y, ld;
        if (z->log_kernel) {
            potential_log(z, sv[i] - z->log_lambda0 - z->logc0, dsv[i], &Phi, &dPhi, &y, &ld);
        } else if (!potential(z, sv[i], dsv[i], &Phi, &dPhi, &y, &ld)) {
            return ab_error_set(err, AB_ENAN, "kernel convolution is not positive inside a sector rule");
        }
        du[i] = dPhi / kappa;
        if (lrh) lrh[i] = 0.5 * (Phi / kappa - z->logZ);
        if (lD) lD[i] = ld;
        if (Y) Y[i] = y;
    }
    return AB_OK;
}

/* Sector operator in the symmetrised variables g = h / rho^(1/2) (see docs/theory.md):
 * L ~ -S' H' with S'_jk = int [(1-t^2)(q_j' - q_j u'/2)(q_k' - q_k u'/2)
 *                              + m(m+d-3) q_j q_k/(1-t^2)] w_d dt,
 *           H'_jk = kappa delta_jk - <q_j, rho^(1/2) Phi'[rho] (rho^(1/2) q_k)>,
 * in the orthonormal sector basis q_k = (1-t^2)^(m/2) p_k(t). No 1/rho appears, so sharply
 * clustered states stay well conditioned; products of rho^(1/2), D and the quadrature
 * weights are formed in log form, so nothing overflows at large d or beta. */
static ab_status zonal_sector_operator(ab_disc *d, const double *u, int m, ab_sector_op *op, ab_error *err)
{
    zonal *z = Z(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    sector_data *s = &z->sec[m];
    if (!s->built && (st = build_sector(z, m, err))) return st;
    if (z->log_kernel && (st = sector_tables(z, s, err))) return st;
    const int N = z->N, nq = sector_nodes(N), nb = s->nb, dim = z->base.model.d;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    const double kappa = z->base.params.kappa;
    double *sbuf = s->Wq; /* 2 nq scratch before Wq is used */
    if ((st = fields_at(z, u, nq, s->P0tau, s->dP0tau, s->KLtau, s->KTtau, s->lrh_tau, s->du_tau, s->lD_tau, s->Y_tau,
                        sbuf, err)))
        return st;
    if ((st = fields_at(z, u, nq, s->P0sig, s->dP0sig, s->KLsig, s->KTsig, NULL, s->du_sig, NULL, NULL, sbuf, err)))
        return st;

    /* Amat_jl = <rho^(1/2) q_j, q_l>, and for SA Bmat_jl = <rho^(1/2) D q_j, q_l>. */
    for (int k = 0; k < nb; k++)
        for (int i = 0; i < nq; i++) s->Wq[i + (size_t)k * nq] = exp(s->lrh_tau[i]) * s->Qtau[i + (size_t)k * nq];
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Qtau, nq, s->Wq, nq, 0.0, s->Amat, nb);
    if (sa && z->log_kernel) {
        /* SA in log form: the kernel part <q_j, rho^(1/2) K(rho^(1/2) q_k) / (beta K rho)> by
         * quadrature in both variables with the exact sector kernel, every factor in one
         * exponent (no product of huge and tiny matrices: docs/theory.md). The SA mass term
         * only touches the mass functional's column, which the deflation below drops. */
        double *Ebuf = s->Ework;
        for (int l = 0; l < nq; l++)
            for (int i = 0; i < nq; i++)
                Ebuf[i + (size_t)l * nq] = exp(0.5 * s->lomega[i] + s->lrh_tau[i] + s->KMtau[i + (size_t)l * nq] -
                                               z->log_lambda0 + s->lD_tau[i] + s->lrh_tau[l] + 0.5 * s->lomega[l]);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nq, nb, nq, 1.0, Ebuf, nq, s->Qtau, nq, 0.0, s->Wq, nq);
        const double beta = z->base.params.beta;
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, -1.0 / beta, s->Qtau, nq, s->Wq, nq, 0.0, s->Hmat, nb);
        for (int j = 0; j < nb; j++) s->Hmat[j + (size_t)j * nb] += kappa;
    } else {
        /* kernel weight of each basis function: degree m + k */
        double *gm = s->vec;
        for (int k = 0; k < nb; k++) gm[k] = z->g[m + k];
        /* Mmat (nb x nb) = (Amat or Bmat) diag(gm) */
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] = s->Amat[j + (size_t)k * nb] * gm[k];
        if (sa) {
            for (int k = 0; k < nb; k++)
                for (int i = 0; i < nq; i++)
                    s->Wq[i + (size_t)k * nq] = exp(s->lrh_tau[i] + s->lD_tau[i]) * s->Qtau[i + (size_t)k * nq];
            cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Qtau, nq, s->Wq, nq, 0.0, s->Bmat, nb);
            for (int k = 0; k < nb; k++)
                for (int j = 0; j < nb; j++) s->Mmat[j + (size_t)k * nb] = s->Bmat[j + (size_t)k * nb] * gm[k];
        }
        /* H' = kappa I - (Amat or Bmat) diag(gm) Amat^T */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, nb, nb, nb, -1.0, s->Mmat, nb, s->Amat, nb, 0.0, s->Hmat, nb);
        for (int j = 0; j < nb; j++) s->Hmat[j + (size_t)j * nb] += kappa;
        if (sa && m == 0) {
            /* Mass component of the SA normalisation, mod constants: -h_0 Y D (docs/theory.md). */
            for (int j = 0; j < nb; j++) {
                double e = 0.0;
                for (int i = 0; i < nq; i++)
                    e -= exp(0.5 * s->lomega[i] + s->lrh_tau[i] + s->lD_tau[i]) * s->Y_tau[i] * s->Qtau[i + (size_t)j * nq];
                for (int k = 0; k < nb; k++) s->Hmat[j + (size_t)k * nb] -= e * s->Amat[k];
            }
        }
    }
    /* S' = C^T C (+ angular part), C_ik = sqrt(nu_i) * (derivative term of basis k at sig_i). */
    const double ang = (double)m * (m + dim - 3);
    for (int k = 0; k < nb; k++) {
        for (int i = 0; i < nq; i++) {
            double t = s->sig[i], omt = (1.0 - t) * (1.0 + t);
            double pk = s->Qsig[i + (size_t)k * nq], dpk = s->dQsig[i + (size_t)k * nq];
            double val = m == 0 ? sqrt(omt) * (dpk - 0.5 * pk * s->du_sig[i])
                                : (omt * dpk - m * t * pk - 0.5 * omt * pk * s->du_sig[i]);
            s->Cmat[i + (size_t)k * nq] = val;
        }
    }
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, 1.0, s->Cmat, nq, s->Cmat, nq, 0.0, s->Smat, nb);
    if (ang != 0.0)
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, nb, nq, ang, s->Qsig, nq, s->Qsig, nq, 1.0, s->Smat, nb);
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
                for (int i = 0; i < nq; i++)
                    acc += exp(0.5 * s->lomega[i] + s->lrh_tau[i]) * s->du_tau[i] * s->Qtau[i + (size_t)k * nq];
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

/* log rho of the state u at n points t = <x, pole>, by the discretisation's own
 * interpolation rho = exp(Phi[rho]/kappa) / Z (in logs: no overflow at large d). */
static ab_status log_density_at(zonal *z, const double *u, int n, const double *t, double *logrho, ab_error *err)
{
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int N = z->N;
    double *p = z->work, *krow = z->work + N, *bound = z->work + 2 * (size_t)N; /* N x N scratch, 3 N used */
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    if (!z->log_kernel) fh_term_bound(z, bound); /* for the error bound below */
    for (int j = 0; j < n; j++) {
        if (!(t[j] >= -1.0 && t[j] <= 1.0)) return ab_error_set(err, AB_EINVAL, "t = %g is outside [-1, 1]", t[j]);
        double Phi = NAN;
        int use_log = z->log_kernel;
        if (!use_log) {
            /* The Gegenbauer sum is evaluated where the state was not solved (between and beyond
             * the nodes), where at large d its terms are huge: check its error bound there too. */
            ab_jacobi_eval(z->a, z->cd, N - 1, t[j], p, NULL);
            double sv = 0.0, e = 0.0;
            for (int l = 0; l < N; l++) {
                sv += z->gc[l] * p[l];
                e += bound[l] * fabs(p[l]);
            }
            e *= DBL_EPSILON / kappa;
            int ok = potential(z, sv, 0.0, &Phi, NULL, NULL, NULL);
            if (ok && z->base.model.kind == AB_MODEL_SA) e /= z->c0 * (1.0 + beta * sv / z->c0);
            if (!ok || !(e <= AB_KERNEL_TOL * (1.0 + fabs(Phi) / kappa))) {
                if (!(beta > 0.0))
                    return ab_error_set(err, AB_ENAN, "the density at t = %g cannot be evaluated accurately", t[j]);
                use_log = 1;
            }
        }
        if (use_log) {
            double lk;
            ab_logkernel_table(z->mu, beta, 1, &t[j], N, z->t, z->logW, krow, NULL, NULL);
            ab_logkernel_apply(1, N, krow, u, &lk, NULL);
            potential_log(z, lk - z->log_lambda0 - z->logc0, 0.0, &Phi, NULL, NULL, NULL);
        }
        logrho[j] = Phi / z->base.params.kappa - z->logZ;
    }
    return AB_OK;
}

static ab_status zonal_density_at(ab_disc *d, const double *u, int n, const double *t, double *rho,
                                  ab_error *err)
{
    ab_status st = log_density_at(Z(d), u, n, t, rho, err);
    if (st) return st;
    for (int j = 0; j < n; j++) {
        rho[j] = exp(rho[j]);
        if (!isfinite(rho[j]))
            return ab_error_set(err, AB_ENAN, "the density at t = %g exceeds the range of double", t[j]);
    }
    return AB_OK;
}

/* u on this discretisation's nodes from the state u_src of another zonal discretisation
 * (same model and parameters), by the source's own interpolation. */
static ab_status zonal_transfer(ab_disc *d, ab_disc *src, const double *u_src, double *u, ab_error *err)
{
    if (src->ops != d->ops) return ab_error_set(err, AB_EINVAL, "a state can only be transferred between zonal discretisations");
    zonal *z = Z(d);
    ab_status st = log_density_at(Z(src), u_src, z->N, z->t, u, err);
    if (st) return st;
    normalise(z, u);
    return select_kernel(z, u, err);
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
        nodes->rho[i] = exp(u[i]);
        if (!isfinite(nodes->rho[i])) {
            ab_profile_free(nodes); ab_profile_free(fine);
            return ab_error_set(err, AB_ENAN, "the density at node %d exceeds the range of double", i);
        }
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

static ab_status zonal_accuracy(ab_disc *d, const double *u, ab_disc_accuracy *acc, ab_error *err)
{
    zonal *z = Z(d);
    /* the error of the form the state was solved in (no switching here: the state is
     * converged for this form) */
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    z->kernel_error = z->log_kernel ? error_log(z, u) : error_funk_hecke(z);
    acc->kernel = z->log_kernel ? "log-domain" : "funk-hecke";
    acc->kernel_error = z->kernel_error;
    return zonal_resolution(d, u, &acc->tail, &acc->nodes_needed, err);
}

static int zonal_size(const ab_disc *d) { return ((const zonal *)d)->N; }

/* |M g| / |g| for the rotation vector g of sector 1 (O(N^2)); an operator that overflows in
 * this basis is as unresolved as a state can be. */
static ab_status zonal_rotation_residual(ab_disc *d, const double *u, double *residual, double *floor, ab_error *err)
{
    ab_sector_op op;
    ab_error scratch = {0};
    *residual = NAN;
    *floor = 0.0;
    memset(&op, 0, sizeof op);
    ab_status st = zonal_sector_operator(d, u, 1, &op, &scratch);
    if (st == AB_ENAN) { *residual = INFINITY; return AB_OK; }
    if (st) return ab_error_set(err, st, "%s", scratch.msg);
    if (op.n_symmetry == 0) return AB_OK;
    double gg = 0.0, mg = 0.0, norm1 = 0.0;
    for (int j = 0; j < op.dim; j++) {
        double col = 0.0;
        for (int i = 0; i < op.dim; i++) col += fabs(op.matrix[i + (size_t)j * op.dim]);
        norm1 = fmax(norm1, col);
        gg += op.symmetry[j] * op.symmetry[j];
    }
    for (int i = 0; i < op.dim; i++) {
        double acc = 0.0;
        for (int j = 0; j < op.dim; j++) acc += op.matrix[i + (size_t)j * op.dim] * op.symmetry[j];
        mg += acc * acc;
    }
    *residual = sqrt(mg / gg);
    *floor = AB_RESOLUTION_ROTATION_ROUNDING * DBL_EPSILON * norm1;
    return AB_OK;
}

static const ab_disc_ops zonal_ops = {
    .size = zonal_size,
    .rotation_residual = zonal_rotation_residual,
    .kind = "zonal",
    .name = zonal_name,
    .destroy = zonal_destroy,
    .set_params = zonal_set_params,
    .residual = zonal_residual,
    .linearize = zonal_linearize,
    .jac_apply = zonal_jac_apply,
    .jac_apply_transpose = zonal_jac_apply_t,
    .jac_matrix = zonal_jac_matrix,
    .weights = zonal_weights,
    .max_degree = zonal_max_degree,
    .sector_followable = zonal_sector_followable,
    .load_state = zonal_load_state,
    .dparam = zonal_dparam,
    .residual_scale = zonal_residual_scale,
    .dot = zonal_dot,
    .reflect = zonal_reflect,
    .resolution = zonal_resolution,
    .guess_from_samples = zonal_guess_from_samples,
    .observables = zonal_observables,
    .initial_guess = zonal_initial_guess,
    .max_sector = zonal_max_sector,
    .sector_operator = zonal_sector_operator,
    .profile = zonal_profile,
    .density_at = zonal_density_at,
    .accuracy = zonal_accuracy,
    .residual_floor = zonal_residual_floor,
    .transfer = zonal_transfer,
};

ab_status ab_zonal_create(const ab_model *model, ab_params params, int nodes, ab_kernel_form kernel, ab_disc **out,
                          ab_error *err)
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
    z->mu = z->a;
    z->cd = 1.0 / ab_jacobi_mass(z->a);
    z->term_scale = 1.0;
    z->forced = kernel;
    if (kernel == AB_KERNEL_LOG_DOMAIN && !(params.beta > 0.0)) {
        free(z);
        return ab_error_set(err, AB_EINVAL, "the log-domain kernel needs beta > 0 (at beta = 0 use funk-hecke or auto)");
    }
    z->log_kernel = kernel == AB_KERNEL_LOG_DOMAIN;
    set_name(z);
    int ok = 1;
    size_t NN = (size_t)N * N;
    z->t = alloc_d(N, &ok); z->W = alloc_d(N, &ok); z->logW = alloc_d(N, &ok); z->sqW = alloc_d(N, &ok);
    z->Q = alloc_d(NN, &ok); z->g = alloc_d(N + 1, &ok); z->dg = alloc_d(N + 1, &ok); z->Afh = alloc_d(NN, &ok);
    z->wrho = alloc_d(N, &ok); z->v = alloc_d(N, &ok); z->c = alloc_d(N, &ok); z->gc = alloc_d(N, &ok);
    z->s = alloc_d(N, &ok); z->Y = alloc_d(N, &ok); z->Phi = alloc_d(N, &ok); z->pi = alloc_d(N, &ok);
    z->row = alloc_d(N, &ok); z->LK = alloc_d(N, &ok); z->L = alloc_d(N, &ok);
    z->lin_pi = alloc_d(N, &ok); z->lin_wrho = alloc_d(N, &ok); z->lin_v = alloc_d(N, &ok); z->lin_Y = alloc_d(N, &ok);
    z->lin_eL = alloc_d(N, &ok); z->lin_t1 = alloc_d(N, &ok); z->lin_t2 = alloc_d(N, &ok);
    z->work = alloc_d(NN > 3 * (size_t)N ? NN : 3 * (size_t)N, &ok);
    z->n_sectors = model->d == 2 ? 2 : N - 1;
    z->sec = calloc((size_t)z->n_sectors, sizeof *z->sec);
    if (!ok || !z->sec) { zonal_destroy(&z->base); return ab_error_set(err, AB_ENOMEM, "out of memory for %d nodes", N); }
    ab_status st = ab_gauss_jacobi(z->a, N, z->cd, z->t, z->W, z->logW, err);
    if (st) { zonal_destroy(&z->base); return st; }
    double *p = z->work;
    for (int i = 0; i < N; i++) {
        z->sqW[i] = exp(0.5 * z->logW[i]);
        ab_jacobi_eval_scaled(z->a, z->cd, N - 1, z->t[i], 0.5 * z->logW[i], p, NULL);
        for (int l = 0; l < N; l++) z->Q[i + (size_t)l * N] = p[l];
    }
    if ((st = build_kernel(z, err))) { zonal_destroy(&z->base); return st; }
    if ((st = ab_disc_init(&z->base, err))) { zonal_destroy(&z->base); return st; }
    *out = &z->base;
    return AB_OK;
}
