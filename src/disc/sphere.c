/* The whole sphere S^2 (d = 3; docs/sphere.md): unknowns u = log rho on a Gauss-Legendre x
 * uniform-longitude grid, the kernel diagonal in real spherical harmonics (Funk-Hecke) or
 * summed over the grid in log form (SA at large beta), chosen per state; rotations as continuous symmetries, and the linearised operator as mat-vecs on the
 * harmonic coefficients of g = h / rho^{1/2}. */
#include "disc/sphere.h"

#include "attnbif/io.h"
#include "disc/arrangement.h"
#include "disc/jacobi.h"
#include "disc/disc_impl.h"
#include "disc/sht.h"
#include "disc/guess.h"
#include "disc/logkernel.h"

#include <float.h>
#include <gsl/gsl_sf_legendre.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rotation generator whose norm is below this fraction of the largest is taken as zero
 * (the state is symmetric about that axis): it gives no phase condition and no symmetry
 * mode (docs/sphere.md, "Rotations and phase conditions"). */
#define AB_SPHERE_SYMMETRY_ZERO 1e-7
/* ... or below this in absolute terms (|rho^{1/2}| = 1): the rotation vectors of the uniform
 * state are rounding noise. */
#define AB_SPHERE_SYMMETRY_ABS 1e-9
/* The spectrum's grid oversamples the state's by this factor in latitude and longitude, so
 * that products of degree-L functions with the state's fields integrate accurately. */
#define AB_SPHERE_OVERSAMPLE 1.5
/* The mass direction is moved this many times ||L|| to the left of the spectrum. */
#define AB_SPHERE_MASS_SHIFT 10.0
/* Rounding growth allowed in the Funk-Hecke error bound (the bound's sums are
 * Cauchy-Schwarz estimates; this covers the transforms' own O(log L) growth). */
#define AB_SPHERE_FH_SAFETY 8.0
/* The Newton preconditioner's per-degree factor 1 - a_l is kept at least this far from
 * zero: at a branch point of the uniform state it vanishes, and GMRES needs a bounded
 * preconditioner more than an exact one there (docs/sphere.md, "Newton"). */
#define AB_SPHERE_PRECOND_MIN 1e-2
/* The preconditioner is used only while max |rho / mean(rho) - 1| is below this: it models
 * the Jacobian of a nearly uniform state, and at concentrated states (where J is the
 * identity plus an operator of small numerical rank) it costs iterations instead of saving
 * them (docs/benchmarks.md, "Whole sphere": 5.5 GMRES iterations per Newton step at a
 * 1-cluster without it, 60 with it). */
#define AB_SPHERE_PRECOND_UNIFORM 0.5
/* Log-domain kernel (docs/sphere.md, "Log-domain kernel"): a grid row whose scaled sum
 * sum_q e^{beta(<x_p,x_q> - 1)} w_q e^{u_q - max u} is below this is summed again as an
 * exact log-sum-exp (terms lost to underflow are below DBL_MIN each, so above this they
 * change the row by less than np DBL_MIN / 1e-280 relative). */
#define AB_SPHERE_LOG_TINY 1e-280
/* Rounding growth allowed in the log-domain error estimate (exponents, the sum's rounding). */
#define AB_SPHERE_LOG_SAFETY 4.0
/* Off the grid in the log form, Phi comes from the Funk-Hecke sum at a point where that sum's
 * error bound there is below this (units of u = log rho), else from a log-sum-exp over the
 * grid at the point. */
#define AB_SPHERE_POINT_TOL 1e-12

typedef struct {
    ab_disc base;
    int L;
    ab_sht *sht;
    size_t np, nc;
    int nlat, nlon;
    const double *w, *X;
    double *logw;
    double *g, *dg; /* kappa_l and d kappa_l / d beta, l = 0..L (g[0] = 0) */
    /* state evaluation */
    double *rho, *c, *gc, *s, *Y, *Phi, *pi;
    double c0, logc0, logZ, term_scale, kernel_error;
    /* the kernel form: 0 Funk-Hecke, 1 log-domain (SA only; docs/sphere.md) */
    int log_kernel;
    ab_kernel_form forced;
    double log_lambda0, quad_error, quad_beta; /* quad_beta: beta of quad_error (NAN: none) */
    double *cosd;   /* nlon: cos of the longitude differences */
    double *erow;   /* 2 nlon: one latitude pair's row of e^{beta(<x_p,x_q> - 1)}, doubled */
    double *u_cur;  /* u of the last evaluation (log-sum-exp at points off the grid) */
    double *LK, *Ssum, umax, fh_sbound; /* log K rho, scaled row sums, max u; FH error bound of s */
    unsigned char *exact; /* rows summed by exact log-sum-exp */
    double *ew;     /* np work: one row's exponents or softmax weights */
    /* the linearisation */
    int lin_valid;
    double lin_kappa, lin_beta, lin_c0;
    double *lin_rho, *lin_pi, *lin_Y;
    int lin_log;
    double *lin_u, *lin_r, *lin_S; /* log form: u, w e^{u - max u}, scaled row sums */
    unsigned char *lin_exact;
    double *pc_gain;      /* per degree a_l / (1 - a_l): the Newton preconditioner */
    int pc_on;            /* 0: the state is far from uniform, the preconditioner is the identity */
    double *pc_c, *pc_f;  /* its coefficient- and grid-sized work */
    /* work: grid-sized and coefficient-sized */
    double *gw1, *gw2, *gw3, *cw1, *cw2;
    /* the spectrum on the fine grid (made on first use) */
    ab_sht *fine;
    size_t fnp;
    double *f_sqrho, *f_V, *f_D, *f_Y, *f_ut, *f_up, *f_w1, *f_w2, *f_w3;
    double *hh;       /* Householder vector of the mass direction (nc) */
    double hh_beta;   /* 2 / |hh|^2 */
    double *sym;      /* up to 3 rotation vectors in the deflated space (nc - 1 each) */
    int n_sym;
    double *rh;       /* their Householder vectors (3 x (nc - 1)), rh_beta[k] = 2 / |rh_k|^2 */
    double rh_beta[3];
    double *mw;       /* nc - 1 work */
    double *full, *full2; /* nc work */
    double op_kappa, op_norm;
    ab_linop op;
    ab_precond pc;
    char name[96];
} sphere;

static sphere *S(ab_disc *d) { return (sphere *)d; }
static const sphere *SC(const ab_disc *d) { return (const sphere *)d; }
static const char *sphere_name(const ab_disc *d) { return SC(d)->name; }

static double *alloc_d(size_t n, int *ok)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) *ok = 0;
    return p;
}

static void free_fine(sphere *z)
{
    ab_sht_destroy(z->fine);
    z->fine = NULL;
    free(z->f_sqrho); free(z->f_V); free(z->f_D); free(z->f_Y); free(z->f_ut); free(z->f_up);
    free(z->f_w1); free(z->f_w2); free(z->f_w3); free(z->hh); free(z->sym); free(z->full); free(z->full2); free(z->rh); free(z->mw);
}

static void sphere_destroy(ab_disc *d)
{
    sphere *z = S(d);
    free_fine(z);
    ab_sht_destroy(z->sht);
    free(z->logw); free(z->g); free(z->dg);
    free(z->rho); free(z->c); free(z->gc); free(z->s); free(z->Y); free(z->Phi); free(z->pi);
    free(z->lin_rho); free(z->lin_pi); free(z->lin_Y);
    free(z->gw1); free(z->gw2); free(z->gw3); free(z->cw1); free(z->cw2);
    free(z->pc_gain); free(z->pc_c); free(z->pc_f);
    free(z->cosd); free(z->erow); free(z->u_cur); free(z->LK); free(z->Ssum); free(z->exact); free(z->ew);
    free(z->lin_u); free(z->lin_r); free(z->lin_S); free(z->lin_exact);
    free(z);
}

static ab_status build_kernel(sphere *z, ab_error *err)
{
    const ab_model *m = &z->base.model;
    ab_status st = ab_kappa_l_table(m->kind, 3, z->base.params.beta, z->L, z->g, err);
    if (st) return st;
    z->g[0] = 0.0; /* constants in Phi cancel against Z */
    z->log_lambda0 = ab_log_lambda_l(3, z->base.params.beta, 0);
    z->quad_beta = NAN;
    for (int l = 0; l <= z->L; l++) z->dg[l] = l ? ab_kappa_l_dbeta(m->kind, 3, z->base.params.beta, l) : 0.0;
    return AB_OK;
}

static ab_status sphere_set_params(ab_disc *d, ab_params p, ab_error *err)
{
    sphere *z = S(d);
    const int beta_changed = p.beta != z->base.params.beta;
    z->base.params = p;
    z->base.model.beta = p.beta;
    z->lin_valid = 0;
    return beta_changed ? build_kernel(z, err) : AB_OK;
}

static double lse(const double *logw, const double *x, size_t n)
{
    double mx = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, logw[i] + x[i]);
    for (size_t i = 0; i < n; i++) sum += exp(logw[i] + x[i] - mx);
    return mx + log(sum);
}

/* Multiply coefficient vector a by f(l) in place. */
static void scale_degrees(int L, const double *f, double *a)
{
    for (int l = 0; l <= L; l++)
        for (int m = -l; m <= l; m++) a[ab_sht_index(l, m)] *= f[l];
}

/* ---- the log-domain kernel (docs/sphere.md, "Log-domain kernel") ----------------------- */

static void set_name(sphere *z)
{
    snprintf(z->name, sizeof z->name, "sphere, degree %d (%d x %d grid), %s kernel", z->L, z->nlat, z->nlon,
             z->log_kernel ? "log-domain" : "Funk-Hecke");
}

/* out = E v over the grid, E_pq = e^{beta (<x_p, x_q> - 1)} (cos_pq = c c' + s s' cos(dphi)
 * if cosine != 0: E_pq <x_p, x_q>). E depends on the two latitudes and the longitude
 * difference only, so one latitude pair's row is nlon exponentials, 1/nlon of the pair's
 * nlon^2 products: the matrix is never stored. The row is doubled so that the circular
 * difference j_q - j_p is one contiguous range. */
static void eprod(sphere *z, int cosine, const double *v, double *out)
{
    const int nlat = z->nlat, nlon = z->nlon;
    const double *ct = ab_sht_cos_theta(z->sht), beta = z->base.params.beta;
    double *row = z->erow;
    memset(out, 0, sizeof(double) * z->np);
    for (int ip = 0; ip < nlat; ip++) {
        const double sp = sqrt(fmax(0.0, 1.0 - ct[ip] * ct[ip]));
        for (int iq = 0; iq < nlat; iq++) {
            const double sq = sqrt(fmax(0.0, 1.0 - ct[iq] * ct[iq])), a = ct[ip] * ct[iq], b = sp * sq;
            for (int k = 0; k < nlon; k++) {
                const double c = a + b * z->cosd[k];
                row[k] = row[k + nlon] = exp(beta * (c - 1.0)) * (cosine ? c : 1.0);
            }
            const double *vq = v + (size_t)iq * nlon;
            for (int jp = 0; jp < nlon; jp++) {
                const double *r = row + nlon - jp; /* r[jq] = E(j_q - j_p) */
                double acc = 0.0;
                for (int jq = 0; jq < nlon; jq++) acc += r[jq] * vq[jq];
                out[(size_t)ip * nlon + jp] += acc;
            }
        }
    }
}

/* log sum_q w_q e^{beta <x, x_q> + u_q} at the unit vector x, exactly (any beta); if A is
 * not NULL the softmax weights A_q (sum 1) are left there (np). */
static double lse_point(const sphere *z, const double *x, const double *u, double *A)
{
    const double beta = z->base.params.beta;
    double mx = -INFINITY, sum = 0.0;
    double *e = z->ew;
    for (size_t q = 0; q < z->np; q++) {
        const double *y = z->X + 3 * q;
        e[q] = beta * (x[0] * y[0] + x[1] * y[1] + x[2] * y[2]) + z->logw[q] + u[q];
        mx = fmax(mx, e[q]);
    }
    for (size_t q = 0; q < z->np; q++) sum += exp(e[q] - mx);
    const double lk = mx + log(sum);
    if (A)
        for (size_t q = 0; q < z->np; q++) A[q] = exp(e[q] - lk);
    return lk;
}

/* K 1 = lambda_0 exactly: how far the grid's quadrature misses it at each latitude measures
 * how well the grid resolves a kernel of width beta^{-1/2} (rounding alone does not). */
static void ensure_quad_error(sphere *z)
{
    const double beta = z->base.params.beta;
    if (z->quad_beta == beta) return;
    double *ones = z->gw3, *k1 = z->gw2;
    for (size_t q = 0; q < z->np; q++) ones[q] = z->w[q];
    eprod(z, 0, ones, k1);
    double worst = 0.0;
    for (size_t p = 0; p < z->np; p++) worst = fmax(worst, fabs(beta + log(k1[p]) - z->log_lambda0));
    z->quad_error = isfinite(worst) ? worst : INFINITY;
    z->quad_beta = beta;
}

/* LK = log K rho on the grid at u (log form): scaled sums S = E r, r = w e^{u - max u}, so
 * LK = beta + max u + log S; rows whose S is too small to trust are summed exactly. */
static void log_conv(sphere *z, const double *u)
{
    double umax = -INFINITY;
    for (size_t p = 0; p < z->np; p++) umax = fmax(umax, u[p]);
    z->umax = umax;
    double *r = z->gw1;
    for (size_t q = 0; q < z->np; q++) r[q] = z->w[q] * exp(u[q] - umax);
    eprod(z, 0, r, z->Ssum);
    const double beta = z->base.params.beta;
    for (size_t p = 0; p < z->np; p++) {
        z->exact[p] = !(z->Ssum[p] > AB_SPHERE_LOG_TINY);
        z->LK[p] = z->exact[p] ? lse_point(z, z->X + 3 * p, u, NULL) : beta + umax + log(z->Ssum[p]);
    }
}

/* Error of Phi/kappa in the log form (units of u): rounding of the largest exponent met
 * (beta, the range of u, log K rho itself) or the quadrature's resolution of the kernel. */
static double error_log(sphere *z, const double *u)
{
    const double beta = z->base.params.beta, kappa = z->base.params.kappa;
    if (!(beta > 0.0)) return INFINITY;
    ensure_quad_error(z);
    double urange = 0.0, lk = 0.0;
    for (size_t p = 0; p < z->np; p++) {
        urange = fmax(urange, z->umax - u[p]);
        lk = fmax(lk, fabs(z->LK[p]));
    }
    const double round = AB_SPHERE_LOG_SAFETY * DBL_EPSILON * (2.0 * beta + urange + lk + fabs(z->logc0) + 1.0);
    return fmax(round, z->quad_error) / (beta * kappa);
}

/* Phi from the kernel sum s (one point): SA log(1 + beta Y)/beta, Y = s / c0; USA s. */
static int potential(const sphere *z, double s, double c0, double *Phi, double *Y)
{
    const double beta = z->base.params.beta;
    if (z->base.model.kind == AB_MODEL_USA) {
        *Phi = s;
        *Y = s;
        return 1;
    }
    const double y = s / c0, arg = 1.0 + beta * y;
    if (!(arg > 0.0)) return 0;
    *Phi = beta > 0.0 ? log1p(beta * y) / beta : y;
    *Y = y;
    return 1;
}

/* Rounding bound of Phi/kappa in the Funk-Hecke form (docs/sphere.md): per degree the sum
 * over m is at most g_l sqrt(2l+1) |c_l| (addition theorem), and each c_lm carries the
 * rounding eps sqrt(2l+1) c0 of its quadrature. */
static double fh_s_bound(const sphere *z)
{
    double acc = 0.0;
    for (int l = 1; l <= z->L; l++) {
        double cl = 0.0;
        for (int m = -l; m <= l; m++) cl += z->c[ab_sht_index(l, m)] * z->c[ab_sht_index(l, m)];
        acc += fabs(z->g[l]) * sqrt(2.0 * l + 1.0) * (sqrt(cl) + (2.0 * l + 1.0) * z->c0);
    }
    return AB_SPHERE_FH_SAFETY * DBL_EPSILON * acc;
}
static double error_funk_hecke(const sphere *z)
{
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    double e = fh_s_bound(z) / kappa;
    if (z->base.model.kind == AB_MODEL_SA) {
        double qmin = INFINITY;
        for (size_t p = 0; p < z->np; p++) qmin = fmin(qmin, 1.0 + beta * z->Y[p]);
        e = qmin > 0.0 ? e / (z->c0 * qmin) : INFINITY;
    }
    return e;
}

/* The log form is for SA at beta > 0 (USA's Phi is K rho itself, which the Funk-Hecke sum
 * represents to the absolute accuracy Phi needs; docs/sphere.md, "Log-domain kernel"). */
static int can_log(const sphere *z)
{
    return z->base.model.kind == AB_MODEL_SA && z->base.params.beta > 0.0 && z->forced != AB_KERNEL_FUNK_HECKE;
}

/* rho, its coefficients, Phi on the grid, log Z and the Gibbs weights at u. */
static ab_status eval_state(sphere *z, const double *u, ab_error *err)
{
    const size_t np = z->np;
    const double kappa = z->base.params.kappa;
    for (size_t p = 0; p < np; p++)
        if (!isfinite(u[p])) return ab_error_set(err, AB_ENAN, "log-density is not finite at grid point %zu", p);
    if (z->log_kernel && !(z->base.params.beta > 0.0)) { /* at beta = 0 the sum is exact */
        z->log_kernel = 0;
        set_name(z);
    }
    z->logc0 = lse(z->logw, u, np);
    z->c0 = exp(z->logc0);
    if (!(z->c0 > 0.0) || !isfinite(z->c0))
        return ab_error_set(err, AB_ENAN, "density has no finite positive mass (mass = %g)", z->c0);
    for (size_t p = 0; p < np; p++) {
        z->rho[p] = exp(u[p]);
        if (!isfinite(z->rho[p]))
            return ab_error_set(err, AB_ENAN, "density overflows at grid point %zu: the state is not resolved", p);
    }
    ab_status st = ab_sht_analysis(z->sht, z->rho, z->c, err);
    if (st) return st;
    memcpy(z->gc, z->c, sizeof(double) * z->nc);
    scale_degrees(z->L, z->g, z->gc);
    if ((st = ab_sht_synthesis(z->sht, z->gc, z->s, err))) return st;
    memcpy(z->u_cur, u, sizeof(double) * np);
    z->fh_sbound = fh_s_bound(z);
    for (size_t p = 0; p < np && !z->log_kernel; p++)
        if (!potential(z, z->s[p], z->c0, &z->Phi[p], &z->Y[p])) {
            /* K rho is far below its peak somewhere: only the log form can represent it */
            if (!can_log(z))
                return ab_error_set(err, AB_ENAN,
                                    "kernel convolution K rho is not positive at grid point %zu: the Funk-Hecke sum "
                                    "cannot represent this state on the sphere (beta = %g, kappa = %g); %s",
                                    p, z->base.params.beta, kappa,
                                    z->base.model.kind == AB_MODEL_SA
                                        ? "use discretization.kernel: auto or log-domain"
                                        : "use a smaller beta or a larger kappa");
            z->log_kernel = 1;
            set_name(z);
        }
    if (z->log_kernel) {
        const double beta = z->base.params.beta;
        log_conv(z, u);
        for (size_t p = 0; p < np; p++) {
            const double L = z->LK[p] - z->log_lambda0 - z->logc0;
            z->Phi[p] = L / beta;
            z->Y[p] = expm1(L) / beta;
        }
    }
    double scale = 0.0;
    for (size_t p = 0; p < np; p++) {
        z->gw3[p] = z->Phi[p] / kappa;
        scale = fmax(scale, fabs(z->gw3[p]));
    }
    z->logZ = lse(z->logw, z->gw3, np);
    if (!isfinite(z->logZ)) return ab_error_set(err, AB_ENAN, "partition function is not finite");
    for (size_t p = 0; p < np; p++) z->pi[p] = exp(z->logw[p] + z->gw3[p] - z->logZ);
    z->term_scale = 1.0 + scale;
    return AB_OK;
}

/* The kernel form for the state u, as the zonal discretisation chooses it (docs/theory.md,
 * "Choosing the kernel form"): Funk-Hecke while its bound is within AB_KERNEL_TOL of the
 * terms and AB_KERNEL_ABS_TOL, else the form with the smaller estimate, switching only for
 * a gain of AB_KERNEL_SWITCH_GAIN. Sets kernel_error. */
static ab_status select_kernel(sphere *z, const double *u, ab_error *err)
{
    ab_status st;
    if (z->forced != AB_KERNEL_AUTO || !can_log(z)) {
        if ((st = eval_state(z, u, err))) return st;
        z->kernel_error = z->log_kernel ? error_log(z, u) : error_funk_hecke(z);
        return AB_OK;
    }
    const int was_log = z->log_kernel;
    z->log_kernel = 0;
    if ((st = eval_state(z, u, err))) return st; /* switches to the log form if K rho is not positive */
    const double e_fh = z->log_kernel ? INFINITY : error_funk_hecke(z);
    if (!z->log_kernel && e_fh <= fmin(AB_KERNEL_TOL * z->term_scale, AB_KERNEL_ABS_TOL)) {
        z->kernel_error = e_fh;
        if (was_log) set_name(z);
        return AB_OK;
    }
    z->log_kernel = 1;
    if ((st = eval_state(z, u, err))) return st;
    const double e_log = error_log(z, u);
    z->log_kernel = was_log ? !(e_fh * AB_KERNEL_SWITCH_GAIN < e_log) : e_log * AB_KERNEL_SWITCH_GAIN < e_fh;
    z->kernel_error = z->log_kernel ? e_log : e_fh;
    if (z->log_kernel != was_log) set_name(z);
    return z->log_kernel ? AB_OK : eval_state(z, u, err);
}

/* Phi at the unit vector x off the grid, given the Funk-Hecke sum s there, for the state of
 * the last evaluation: in the log form the sum is used where its bound allows
 * (AB_SPHERE_POINT_TOL), else a log-sum-exp over the grid at x. 0 if K rho is not positive. */
static int phi_at(sphere *z, double s, const double *x, double *Phi)
{
    double Y;
    if (!z->log_kernel) return potential(z, s, z->c0, Phi, &Y);
    const double beta = z->base.params.beta, q = 1.0 + beta * s / z->c0;
    if (q > 0.0 && z->fh_sbound / (z->c0 * q * z->base.params.kappa) <= AB_SPHERE_POINT_TOL) {
        *Phi = log(q) / beta;
        return 1;
    }
    *Phi = (lse_point(z, x, z->u_cur, NULL) - z->log_lambda0 - z->logc0) / beta;
    return isfinite(*Phi);
}

static ab_status sphere_residual(ab_disc *d, const double *u, double *F, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa;
    for (size_t p = 0; p < z->np; p++) F[p] = u[p] - z->Phi[p] / kappa + z->logZ;
    return AB_OK;
}

/* The diagonal part of J = I - (1/kappa)(I - 1 pi^T) D in the harmonic basis: averaged
 * over m, <Y_lm, D Y_lm> = g_l c0 for USA (addition theorem: sum_m Y_lm^2 = 2l + 1), and
 * for SA the output is divided by c0 (1 + beta Y), here by its sphere average. So
 * J ~ I - synth(a_l analysis(.)) with a_l = g_l c0 / kappa (USA) or g_l <1/(1 + beta Y)> /
 * kappa (SA), exact at the uniform state; its inverse is I + synth(a_l / (1 - a_l) ...)
 * (synth o analysis is the projection onto degree <= L; docs/sphere.md, "Newton"). */
static void precond_gains(sphere *z)
{
    double dev = 0.0;
    for (size_t p = 0; p < z->np; p++) dev = fmax(dev, fabs(z->lin_rho[p] / z->lin_c0 - 1.0));
    z->pc_on = dev <= AB_SPHERE_PRECOND_UNIFORM;
    double scale = z->lin_c0;
    if (z->base.model.kind == AB_MODEL_SA) {
        double mean = 0.0;
        for (size_t p = 0; p < z->np; p++) mean += z->w[p] / (1.0 + z->lin_beta * z->lin_Y[p]);
        scale = mean;
    }
    z->pc_gain[0] = 0.0;
    for (int l = 1; l <= z->L; l++) {
        const double a = z->g[l] * scale / z->lin_kappa;
        double one_minus = 1.0 - a;
        if (fabs(one_minus) < AB_SPHERE_PRECOND_MIN) one_minus = copysign(AB_SPHERE_PRECOND_MIN, one_minus);
        z->pc_gain[l] = 1.0 / one_minus - 1.0;
    }
}

/* z = M^{-1} r = r + synth(gain_l analysis(r)). */
static ab_status sphere_precond_apply(ab_disc *d, const double *r, double *out, ab_error *err)
{
    sphere *z = S(d);
    if (!z->lin_valid) return ab_error_set(err, AB_EINVAL, "preconditioner used before linearising");
    if (!z->pc_on) {
        memmove(out, r, sizeof(double) * z->np);
        return AB_OK;
    }
    ab_status st = ab_sht_analysis(z->sht, r, z->pc_c, err);
    if (st) return st;
    scale_degrees(z->L, z->pc_gain, z->pc_c);
    if ((st = ab_sht_synthesis(z->sht, z->pc_c, z->pc_f, err))) return st;
    for (size_t p = 0; p < z->np; p++) out[p] = r[p] + z->pc_f[p];
    return AB_OK;
}

static ab_status sphere_linearize(ab_disc *d, const double *u, ab_error *err)
{
    sphere *z = S(d);
    z->lin_valid = 0;
    ab_status st = select_kernel(z, u, err);
    if (st) return st;
    z->lin_log = z->log_kernel;
    if (z->lin_log) {
        memcpy(z->lin_u, u, sizeof(double) * z->np);
        memcpy(z->lin_S, z->Ssum, sizeof(double) * z->np);
        memcpy(z->lin_exact, z->exact, z->np);
        for (size_t q = 0; q < z->np; q++) z->lin_r[q] = z->w[q] * exp(u[q] - z->umax);
    }
    z->lin_kappa = z->base.params.kappa;
    z->lin_beta = z->base.params.beta;
    z->lin_c0 = z->c0;
    memcpy(z->lin_rho, z->rho, sizeof(double) * z->np);
    memcpy(z->lin_pi, z->pi, sizeof(double) * z->np);
    memcpy(z->lin_Y, z->Y, sizeof(double) * z->np);
    precond_gains(z);
    if (z->lin_log) z->pc_on = 0; /* it models a near-uniform state, which takes the Funk-Hecke form */
    z->lin_valid = 1;
    return AB_OK;
}

/* D v = dPhi/du v at the linearisation: USA synth(g A(rho v)); SA
 * (synth(g A(rho v)) - Y a_00) / (c0 (1 + beta Y)), a_00 = sum w rho v. */
static ab_status apply_D(sphere *z, const double *v, double *out, ab_error *err)
{
    if (z->lin_log) {
        /* SA log form: D v = (A v - a_00 / c0) / beta, A the softmax matrix d log K rho / d u */
        double a00 = 0.0;
        for (size_t q = 0; q < z->np; q++) {
            a00 += z->w[q] * z->lin_rho[q] * v[q];
            z->gw1[q] = z->lin_r[q] * v[q];
        }
        eprod(z, 0, z->gw1, out);
        for (size_t p = 0; p < z->np; p++) {
            double av = out[p] / z->lin_S[p];
            if (z->lin_exact[p]) {
                lse_point(z, z->X + 3 * p, z->lin_u, z->ew);
                av = 0.0;
                for (size_t q = 0; q < z->np; q++) av += z->ew[q] * v[q];
            }
            out[p] = (av - a00 / z->lin_c0) / z->lin_beta;
        }
        return AB_OK;
    }
    for (size_t p = 0; p < z->np; p++) z->gw1[p] = z->lin_rho[p] * v[p];
    ab_status st = ab_sht_analysis(z->sht, z->gw1, z->cw1, err);
    if (st) return st;
    const double a00 = z->cw1[0];
    scale_degrees(z->L, z->g, z->cw1);
    if ((st = ab_sht_synthesis(z->sht, z->cw1, out, err))) return st;
    if (z->base.model.kind == AB_MODEL_SA)
        for (size_t p = 0; p < z->np; p++)
            out[p] = (out[p] - z->lin_Y[p] * a00) / (z->lin_c0 * (1.0 + z->lin_beta * z->lin_Y[p]));
    return AB_OK;
}

/* J v = v - (1/kappa)(I - 1 pi^T) D v. */
static ab_status sphere_jac_apply(ab_disc *d, const double *v, double *Jv, ab_error *err)
{
    sphere *z = S(d);
    if (!z->lin_valid) return ab_error_set(err, AB_EINVAL, "Jacobian used before linearising");
    ab_status st = apply_D(z, v, z->gw2, err);
    if (st) return st;
    double mean = 0.0;
    for (size_t p = 0; p < z->np; p++) mean += z->lin_pi[p] * z->gw2[p];
    for (size_t p = 0; p < z->np; p++) Jv[p] = v[p] - (z->gw2[p] - mean) / z->lin_kappa;
    return AB_OK;
}

/* J^T x = x - (1/kappa) D^T (x - pi sum x). With A = Y^T W (analysis) and S = Y
 * (synthesis), D = R W Y ... transposes to D^T q = rho w synth(g A(q / w)) (USA), and for
 * SA q is first divided by c0 (1 + beta Y) and - w rho (Y . q) added. */
static ab_status sphere_jac_apply_t(ab_disc *d, const double *x, double *y, ab_error *err)
{
    sphere *z = S(d);
    if (!z->lin_valid) return ab_error_set(err, AB_EINVAL, "Jacobian used before linearising");
    const int sa = z->base.model.kind == AB_MODEL_SA;
    double sum = 0.0, ydotq = 0.0;
    for (size_t p = 0; p < z->np; p++) sum += x[p];
    if (z->lin_log) {
        /* D^T q = (A^T q - w rho (sum q) / c0) / beta, A^T q = r E (q / S) (E is symmetric)
         * plus the rows summed exactly */
        double *q = z->gw3, sq = 0.0;
        for (size_t p = 0; p < z->np; p++) {
            q[p] = x[p] - z->lin_pi[p] * sum;
            sq += q[p];
            z->gw1[p] = z->lin_exact[p] ? 0.0 : q[p] / z->lin_S[p];
        }
        eprod(z, 0, z->gw1, z->gw2);
        for (size_t p = 0; p < z->np; p++) z->gw2[p] *= z->lin_r[p];
        for (size_t p = 0; p < z->np; p++)
            if (z->lin_exact[p]) {
                lse_point(z, z->X + 3 * p, z->lin_u, z->ew);
                for (size_t k = 0; k < z->np; k++) z->gw2[k] += z->ew[k] * q[p];
            }
        for (size_t p = 0; p < z->np; p++) {
            const double Dt = (z->gw2[p] - z->w[p] * z->lin_rho[p] * sq / z->lin_c0) / z->lin_beta;
            y[p] = x[p] - Dt / z->lin_kappa;
        }
        return AB_OK;
    }
    for (size_t p = 0; p < z->np; p++) {
        double q = x[p] - z->lin_pi[p] * sum;
        if (sa) {
            q /= z->lin_c0 * (1.0 + z->lin_beta * z->lin_Y[p]);
            ydotq += z->lin_Y[p] * q;
        }
        z->gw1[p] = q / z->w[p];
    }
    ab_status st = ab_sht_analysis(z->sht, z->gw1, z->cw1, err);
    if (st) return st;
    scale_degrees(z->L, z->g, z->cw1);
    if ((st = ab_sht_synthesis(z->sht, z->cw1, z->gw2, err))) return st;
    for (size_t p = 0; p < z->np; p++) {
        const double wr = z->w[p] * z->lin_rho[p];
        const double Dt = wr * z->gw2[p] - (sa ? wr * ydotq : 0.0);
        y[p] = x[p] - Dt / z->lin_kappa;
    }
    return AB_OK;
}

/* The assembled Jacobian, column by column from mat-vecs (for small degrees and tests). */
static ab_status sphere_jac_matrix(ab_disc *d, double *J, size_t ld, ab_error *err)
{
    sphere *z = S(d);
    double *e = z->gw3;
    memset(e, 0, sizeof(double) * z->np);
    for (size_t j = 0; j < z->np; j++) {
        e[j] = 1.0;
        ab_status st = sphere_jac_apply(d, e, J + j * ld, err);
        e[j] = 0.0;
        if (st) return st;
    }
    return AB_OK;
}

static const double *sphere_weights(const ab_disc *d) { return SC(d)->w; }
static int sphere_max_degree(const ab_disc *d) { return SC(d)->L; }
static int sphere_size(const ab_disc *d) { return SC(d)->L; }
static int sphere_followable(const ab_disc *d, int sector)
{
    (void)d;
    return sector == 0;
}
static int sphere_max_sector(const ab_disc *d)
{
    (void)d;
    return 0;
}

static ab_status sphere_dparam(ab_disc *d, const double *u, ab_param_id which, double *dF, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    double *row = z->gw1;
    if (which == AB_PARAM_KAPPA) {
        for (size_t p = 0; p < z->np; p++) row[p] = -z->Phi[p] / kappa;
    } else if (z->log_kernel) {
        /* d log K rho / d beta = sum_q A_pq <x_p, x_q>; Phi = (log K rho - log lambda_0 - log c0) / beta */
        double *r = z->gw2;
        for (size_t q = 0; q < z->np; q++) r[q] = z->w[q] * exp(u[q] - z->umax);
        eprod(z, 1, r, row);
        const double dl0 = ab_bessel_i_ratio(0.5, beta);
        for (size_t p = 0; p < z->np; p++) {
            double dlk = row[p] / z->Ssum[p];
            if (z->exact[p]) {
                const double *x = z->X + 3 * p;
                lse_point(z, x, u, z->ew);
                dlk = 0.0;
                for (size_t q = 0; q < z->np; q++)
                    dlk += z->ew[q] * (x[0] * z->X[3 * q] + x[1] * z->X[3 * q + 1] + x[2] * z->X[3 * q + 2]);
            }
            row[p] = (dlk - dl0 - z->Phi[p]) / beta;
        }
    } else {
        memcpy(z->cw1, z->c, sizeof(double) * z->nc);
        scale_degrees(z->L, z->dg, z->cw1);
        if ((st = ab_sht_synthesis(z->sht, z->cw1, row, err))) return st;
        if (z->base.model.kind == AB_MODEL_SA)
            for (size_t p = 0; p < z->np; p++) {
                const double y = z->Y[p], yb = row[p] / z->c0, x = beta * y;
                row[p] = yb / (1.0 + x) + y * y * ab_sa_dbeta_factor(x);
            }
    }
    double mean = 0.0;
    for (size_t p = 0; p < z->np; p++) mean += z->pi[p] * row[p];
    for (size_t p = 0; p < z->np; p++) dF[p] = -(row[p] - mean) / kappa;
    return AB_OK;
}

static double sphere_residual_scale(const ab_disc *d)
{
    const sphere *z = SC(d);
    double gmax = 0.0;
    for (int l = 0; l <= z->L; l++) gmax = fmax(gmax, fabs(z->g[l]));
    return fmax(z->term_scale, 1.0 + gmax / z->base.params.kappa);
}
static double sphere_residual_floor(const ab_disc *d) { return SC(d)->kernel_error; }

static double sphere_dot(const ab_disc *d, const double *x, const double *y)
{
    const sphere *z = SC(d);
    double s = 0.0;
    for (size_t p = 0; p < z->np; p++) s += z->w[p] * x[p] * y[p];
    return s;
}

/* x -> -x maps latitude i to nlat - 1 - i and longitude j to j + nlon/2 (nlon is even). */
static void sphere_reflect(const ab_disc *d, const double *in, double *out)
{
    const sphere *z = SC(d);
    for (int i = 0; i < z->nlat; i++)
        for (int j = 0; j < z->nlon; j++)
            out[(size_t)i * z->nlon + j] = in[(size_t)(z->nlat - 1 - i) * z->nlon + (j + z->nlon / 2) % z->nlon];
}

/* Degree norms |c_l| of rho: the tail is the largest in the top eighth of the degrees
 * relative to the largest of all; the decay between the middle and the top estimates the
 * degree a tail of AB_SPHERE_TAIL_TARGET needs. */
#define AB_SPHERE_TAIL_TARGET 1e-12
static ab_status sphere_resolution(ab_disc *d, const double *u, double *tail, int *needed, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    const int L = z->L, k0 = L - (L / 8 > 1 ? L / 8 : 1);
    double top = 0.0, mid = 0.0, peak = 0.0;
    for (int l = 0; l <= L; l++) {
        double cl = 0.0;
        for (int m = -l; m <= l; m++) cl += z->c[ab_sht_index(l, m)] * z->c[ab_sht_index(l, m)];
        cl = sqrt(cl);
        peak = fmax(peak, cl);
        if (l >= k0) top = fmax(top, cl);
        if (l >= L / 2 - 1 && l <= L / 2 + 1) mid = fmax(mid, cl);
    }
    *tail = top / peak;
    const double rate = (top > 0.0 && mid > top && k0 > L / 2) ? log(mid / top) / (k0 - L / 2) : 0.0;
    if (*tail <= AB_SPHERE_TAIL_TARGET) *needed = L;
    else if (rate > 1e-3) *needed = L + (int)ceil(log(*tail / AB_SPHERE_TAIL_TARGET) / rate);
    else *needed = 2 * L;
    return AB_OK;
}

static ab_status sphere_accuracy(ab_disc *d, const double *u, ab_disc_accuracy *acc, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = select_kernel(z, u, err);
    if (st) return st;
    acc->kernel = z->log_kernel ? "log-domain" : "funk-hecke";
    acc->kernel_error = z->kernel_error;
    return sphere_resolution(d, u, &acc->tail, &acc->nodes_needed, err);
}

/* Observables: r = |int x rho|, S the eigenvalue of Q = int (3 x x^T - I)/2 rho of largest
 * modulus (as the zonal S for a state about the z-axis), entropy, USA free energy. */
static ab_status sphere_observables(ab_disc *d, const double *u, ab_observables *obs, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    double m1[3] = {0, 0, 0}, Q[9] = {0}, ent = 0.0, inter = 0.0;
    for (size_t p = 0; p < z->np; p++) {
        const double wr = z->w[p] * z->rho[p], *x = z->X + 3 * p;
        for (int a = 0; a < 3; a++) {
            m1[a] += wr * x[a];
            for (int b = 0; b < 3; b++) Q[a * 3 + b] += wr * (1.5 * x[a] * x[b] - 0.5 * (a == b));
        }
        ent -= wr * u[p];
        inter += wr * z->Phi[p];
    }
    double ev[3];
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', 3, Q, 3, ev) != 0)
        return ab_error_set(err, AB_ELINALG, "eigenvalues of the nematic tensor failed");
    obs->r = sqrt(m1[0] * m1[0] + m1[1] * m1[1] + m1[2] * m1[2]);
    obs->S = fabs(ev[0]) > fabs(ev[2]) ? ev[0] : ev[2];
    obs->entropy = ent;
    obs->mass = z->c0;
    obs->free_energy = z->base.model.kind == AB_MODEL_USA ? -z->base.params.kappa * ent - 0.5 * inter : NAN;
    return AB_OK;
}

static void normalise(const sphere *z, double *u)
{
    const double shift = lse(z->logw, u, z->np);
    for (size_t p = 0; p < z->np; p++) u[p] -= shift;
}

/* Piecewise-linear log rho in t = z (a zonal profile placed with its axis on the z-axis). */
static ab_status sphere_guess_from_samples(ab_disc *d, int n, const double *t, const double *rho, double *u,
                                          ab_error *err)
{
    sphere *z = S(d);
    ab_status st = ab_log_profile_at(n, t, rho, z->np, z->X + 2, 3, u, err);
    if (!st) normalise(z, u);
    return st;
}

static ab_status sphere_load_state(ab_disc *d, const char *path, double *u, ab_error *err)
{
    int n;
    double *t, *rho;
    ab_status st = ab_read_profile(path, &n, &t, &rho, err);
    if (st) return st;
    st = sphere_guess_from_samples(d, n, t, rho, u, err);
    free(t);
    free(rho);
    return st;
}

int ab_state_cluster_count(const ab_state_spec *state)
{
    if (state->type != AB_STATE_CLUSTERS) return 0;
    if (state->n_centres > 0) return state->n_centres;
    int count = 0;
    ab_error scratch = {0};
    ab_arrangement_centres(state->arrangement, state->k, NULL, 0, &count, &scratch);
    return count;
}

static ab_status sphere_initial_guess(ab_disc *d, const ab_state_spec *state, double *u, ab_error *err)
{
    sphere *z = S(d);
    const double kappa = z->base.params.kappa;
    const double b = state->r > 0.0 ? ab_vmf_for_r(3, state->r) : ab_vmf_concentration(3, kappa);
    switch (state->type) {
    case AB_STATE_UNIFORM:
        memset(u, 0, sizeof(double) * z->np);
        return AB_OK;
    case AB_STATE_FILE: return ab_error_set(err, AB_EINVAL, "a file state is read with ab_disc_load_state");
    case AB_STATE_LABEL: return ab_error_set(err, AB_EINVAL, "a label state is read with ab_label_read");
    case AB_STATE_CLUSTER:
        for (size_t p = 0; p < z->np; p++) u[p] = b * z->X[3 * p + 2];
        break;
    case AB_STATE_ANTIPODAL:
        for (size_t p = 0; p < z->np; p++) u[p] = 0.5 * b * z->X[3 * p + 2] * z->X[3 * p + 2];
        break;
    case AB_STATE_PERTURB:
        for (size_t p = 0; p < z->np; p++) {
            const double rho = 1.0 + state->amplitude * gsl_sf_legendre_Pl(state->l, z->X[3 * p + 2]);
            if (!(rho > 0.0))
                return ab_error_set(err, AB_EINVAL, "state.amplitude %g makes the density negative; use |amplitude| < 1",
                                    state->amplitude);
            u[p] = log(rho);
        }
        normalise(z, u);
        return AB_OK;
    case AB_STATE_CLUSTERS: {
        double centres[AB_MAX_CLUSTERS * 3], weights[AB_MAX_CLUSTERS];
        /* Several clusters get no fixed-point sweeps (below), so their bumps start at the
         * concentration of a sharp cluster of the model: u = Phi/kappa varies like
         * t / kappa near an SA cluster and like e^beta t / kappa near a USA one. */
        const double bk = ab_state_cluster_count(state) > 1 && state->r == 0.0
                              ? (z->base.model.kind == AB_MODEL_USA ? exp(fmin(z->base.params.beta, 30.0)) : 1.0) / kappa
                              : b;
        int count = 0;
        if (state->n_centres > 0) {
            count = state->n_centres;
            for (int i = 0; i < count; i++) {
                for (int k = 0; k < 3; k++) centres[3 * i + k] = state->centres[i][k];
                weights[i] = state->weights[i];
            }
        } else {
            ab_status st = ab_arrangement_centres(state->arrangement, state->k, centres, AB_MAX_CLUSTERS, &count, err);
            if (st) return st;
            for (int i = 0; i < count; i++) weights[i] = 1.0;
        }
        /* a sum of von Mises-Fisher bumps, each with the 1-cluster concentration */
        for (size_t p = 0; p < z->np; p++) {
            const double *x = z->X + 3 * p;
            double mx = -INFINITY, sum = 0.0;
            for (int i = 0; i < count; i++) {
                const double e = log(weights[i]) + bk * (x[0] * centres[3 * i] + x[1] * centres[3 * i + 1] +
                                                         x[2] * centres[3 * i + 2] - 1.0);
                mx = fmax(mx, e);
            }
            for (int i = 0; i < count; i++)
                sum += exp(log(weights[i]) + bk * (x[0] * centres[3 * i] + x[1] * centres[3 * i + 1] +
                                                   x[2] * centres[3 * i + 2] - 1.0) - mx);
            u[p] = mx + log(sum);
        }
        break;
    }
    }
    normalise(z, u);
    /* Several clusters: Newton starts from the bumps themselves. The fixed-point sweeps
     * below amplify the unstable (mass-exchange) modes of such saddles, so rounding grew
     * into a broken symmetry (1e-7 after 30 sweeps) or the clusters merged. */
    if (state->r > 0.0 || (state->type == AB_STATE_CLUSTERS && ab_state_cluster_count(state) > 1)) return AB_OK;
    /* a few damped fixed-point sweeps u <- Phi[e^u]/kappa - log Z, as for the zonal guess */
    double *F = z->gw2;
    for (int it = 0; it < 30; it++) {
        ab_status st = sphere_residual(d, u, F, err);
        if (st) return st;
        double nrm = 0.0;
        for (size_t p = 0; p < z->np; p++) nrm = fmax(nrm, fabs(F[p]));
        if (nrm < 1e-3) break;
        for (size_t p = 0; p < z->np; p++) u[p] -= 0.5 * F[p];
        normalise(z, u);
    }
    return AB_OK;
}

/* (x times grad f)_k on a grid from the gradient (f_theta, f_phi / sin theta):
 * x times e_theta = e_phi, x times e_phi = -e_theta. */
static void rotation_field(const ab_sht *sht, const double *ft, const double *fp, int k, double *out)
{
    const int nlat = ab_sht_nlat(sht), nlon = ab_sht_nlon(sht);
    const double *ct = ab_sht_cos_theta(sht), *ph = ab_sht_phi(sht);
    for (int i = 0; i < nlat; i++) {
        const double c = ct[i], s = sqrt(fmax(0.0, 1.0 - c * c));
        for (int j = 0; j < nlon; j++) {
            const size_t p = (size_t)i * nlon + j;
            const double cp = cos(ph[j]), sp = sin(ph[j]);
            const double e_th[3] = {c * cp, c * sp, -s}, e_ph[3] = {-sp, cp, 0.0};
            out[p] = ft[p] * e_ph[k] - fp[p] * e_th[k];
        }
    }
}

/* Generator k of the rotations applied to u: (x times grad u)_k, u through its harmonic
 * coefficients. */
static ab_status sphere_symmetry(ab_disc *d, const double *u, int k, double *g, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = ab_sht_analysis(z->sht, u, z->cw2, err);
    if (!st) st = ab_sht_synthesis_grad(z->sht, z->cw2, z->gw1, z->gw2, err);
    if (st) return st;
    rotation_field(z->sht, z->gw1, z->gw2, k, g);
    return AB_OK;
}

/* ---- the linearised operator on the fine grid (docs/sphere.md, "Spectrum") ------------- */

static ab_status ensure_fine(sphere *z, ab_error *err)
{
    if (z->fine) return AB_OK;
    const int L = z->L;
    int nlat = (int)ceil(AB_SPHERE_OVERSAMPLE * (L + 1)), nlon = (int)ceil(AB_SPHERE_OVERSAMPLE * (2 * L + 2));
    ab_status st = ab_sht_create(L, nlat, nlon, &z->fine, err);
    if (st) return st;
    z->fnp = ab_sht_npoints(z->fine);
    int ok = 1;
    const size_t n = z->fnp, nc = z->nc;
    z->f_sqrho = alloc_d(n, &ok); z->f_V = alloc_d(n, &ok); z->f_D = alloc_d(n, &ok); z->f_Y = alloc_d(n, &ok);
    z->f_ut = alloc_d(n, &ok); z->f_up = alloc_d(n, &ok);
    z->f_w1 = alloc_d(n, &ok); z->f_w2 = alloc_d(n, &ok); z->f_w3 = alloc_d(n, &ok);
    z->hh = alloc_d(nc, &ok); z->sym = alloc_d(3 * nc, &ok); z->full = alloc_d(nc, &ok); z->full2 = alloc_d(nc, &ok);
    z->rh = alloc_d(3 * nc, &ok); z->mw = alloc_d(nc, &ok);
    if (!ok) { free_fine(z); return ab_error_set(err, AB_ENOMEM, "out of memory for the sphere's spectrum (degree %d)", L); }
    return AB_OK;
}

/* L g = -G'(H' g) on full coefficient vectors (nc), in and out distinct from the work. */
static ab_status apply_full(sphere *z, const double *gin, double *gout, ab_error *err)
{
    const size_t n = z->fnp, nc = z->nc;
    const int L = z->L, sa = z->base.model.kind == AB_MODEL_SA;
    ab_sht *f = z->fine;
    double *t = z->f_w1, *a = z->full2;
    ab_status st = ab_sht_synthesis(f, gin, t, err);
    if (st) return st;
    for (size_t p = 0; p < n; p++) t[p] *= z->f_sqrho[p];
    if ((st = ab_sht_analysis(f, t, a, err))) return st;
    const double a00 = a[0];
    scale_degrees(L, z->g, a);
    if ((st = ab_sht_synthesis(f, a, t, err))) return st;
    for (size_t p = 0; p < n; p++) {
        double phi = t[p];
        if (sa) phi = (phi - z->f_Y[p] * a00) * z->f_D[p];
        t[p] = z->f_sqrho[p] * phi;
    }
    if ((st = ab_sht_analysis(f, t, a, err))) return st;
    for (size_t q = 0; q < nc; q++) a[q] = z->op_kappa * gin[q] - a[q]; /* H' g */
    if ((st = ab_sht_synthesis(f, a, t, err))) return st;
    for (size_t p = 0; p < n; p++) t[p] *= z->f_V[p];
    if ((st = ab_sht_analysis(f, t, gout, err))) return st;
    for (int l = 0; l <= L; l++)
        for (int m = -l; m <= l; m++) {
            const size_t q = ab_sht_index(l, m);
            gout[q] = -(gout[q] + l * (l + 1.0) * a[q]);
        }
    return AB_OK;
}

/* The Householder reflection H = I - hh_beta hh hh^T that maps the mass direction onto the
 * first coordinate. */
static void householder(const sphere *z, double *v)
{
    double s = 0.0;
    for (size_t q = 0; q < z->nc; q++) s += z->hh[q] * v[q];
    s *= z->hh_beta;
    for (size_t q = 0; q < z->nc; q++) v[q] -= s * z->hh[q];
}

/* The operator on the mass-preserving subspace: x (nc - 1) -> (H L H [0; x])[1:]. The range
 * of L is orthogonal to rho^{1/2}, so the first component of H L H [0; x] is 0 and this is
 * L with its mass eigenvalue removed (docs/theory.md, "Mass mode"). */
static ab_status mass_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    sphere *z = ctx;
    z->full[0] = 0.0;
    memcpy(z->full + 1, x, sizeof(double) * (z->nc - 1));
    householder(z, z->full);
    ab_status st = apply_full(z, z->full, z->f_w3 /* nc <= fnp */, err);
    if (st) return st;
    householder(z, z->f_w3);
    memcpy(y, z->f_w3 + 1, sizeof(double) * (z->nc - 1));
    return AB_OK;
}

/* Reflection k of the rotation deflation (on vectors of the mass-deflated space, nc - 1). */
static void rot_reflect(const sphere *z, int k, double *v)
{
    const size_t n = z->nc - 1;
    const double *h = z->rh + (size_t)k * n;
    double s = 0.0;
    for (size_t q = 0; q < n; q++) s += h[q] * v[q];
    s *= z->rh_beta[k];
    for (size_t q = 0; q < n; q++) v[q] -= s * h[q];
}
/* v -> H v, H = H_{n-1} ... H_0 maps the rotation vectors onto the first coordinates; and H^T. */
static void rot_forward(const sphere *z, double *v)
{
    for (int k = 0; k < z->n_sym; k++) rot_reflect(z, k, v);
}
static void rot_backward(const sphere *z, double *v)
{
    for (int k = z->n_sym - 1; k >= 0; k--) rot_reflect(z, k, v);
}

/* The operator without its rotation modes: L' G = 0 for the rotation vectors G, so in the
 * basis H^T [e_0 .. e_{k-1}, rest] L' is block upper triangular and its lower-right block
 * (dimension nc - 1 - k) has the other eigenvalues: x -> (H L' H^T [0; x])[k:]. */
static ab_status op_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    sphere *z = ctx;
    const size_t n = z->nc - 1, k = (size_t)z->n_sym;
    double *v = z->mw;
    memset(v, 0, sizeof(double) * k);
    memcpy(v + k, x, sizeof(double) * (n - k));
    rot_backward(z, v);
    ab_status st = mass_apply(z, v, z->f_w2 /* n <= fnp */, err);
    if (st) return st;
    rot_forward(z, z->f_w2);
    memcpy(y, z->f_w2 + k, sizeof(double) * (n - k));
    return AB_OK;
}

/* Preconditioner of the shift-invert solves: the Laplacian part -kappa l (l + 1) (the shift
 * sigma is left out; docs/sphere.md, "Spectrum"),
 * applied in the harmonic basis (H [0; r], divide, H, drop). */
typedef struct {
    sphere *z;
    double sigma;
} precond_ctx;
static ab_status pc_setup(void *ctx, const ab_linop *A, ab_error *err)
{
    (void)ctx; (void)A; (void)err;
    return AB_OK;
}
static ab_status pc_apply(void *ctx, const double *r, double *out, ab_error *err)
{
    (void)err;
    sphere *z = ctx;
    const size_t n = z->nc - 1, k = (size_t)z->n_sym;
    double *v = z->full2, *m = z->mw;
    memset(m, 0, sizeof(double) * k);
    memcpy(m + k, r, sizeof(double) * (n - k));
    rot_backward(z, m);
    v[0] = 0.0;
    memcpy(v + 1, m, sizeof(double) * n);
    householder(z, v);
    for (int l = 0; l <= z->L; l++)
        for (int mm = -l; mm <= l; mm++) {
            const size_t q = ab_sht_index(l, mm);
            v[q] /= l ? -(z->op_kappa * l * (l + 1.0)) : 1.0;
        }
    householder(z, v);
    memcpy(m, v + 1, sizeof(double) * n);
    rot_forward(z, m);
    memcpy(out, m + k, sizeof(double) * (n - k));
    return AB_OK;
}

/* Fields of the operator at the state u on the fine grid: with s = synth(g c) (degree L),
 * USA u = s/kappa - log Z; SA u = log1p(beta Y)/(beta kappa) - log Z, Y = s/c0; then
 * V = Lap u / 2 + |grad u|^2 / 4 and rho^{1/2} = e^{u/2}. */
static ab_status build_fields(sphere *z, const double *u, ab_error *err)
{
    ab_status st = eval_state(z, u, err);
    if (!st) st = ensure_fine(z, err);
    if (st) return st;
    ab_sht *f = z->fine;
    const size_t n = z->fnp;
    const double kappa = z->base.params.kappa, beta = z->base.params.beta;
    const int sa = z->base.model.kind == AB_MODEL_SA;
    double *s = z->f_w1, *lap = z->f_w2;
    if ((st = ab_sht_synthesis(f, z->gc, s, err))) return st;
    if ((st = ab_sht_synthesis_grad(f, z->gc, z->f_ut, z->f_up, err))) return st;
    memcpy(z->cw1, z->gc, sizeof(double) * z->nc);
    for (int l = 0; l <= z->L; l++)
        for (int m = -l; m <= l; m++) z->cw1[ab_sht_index(l, m)] *= -l * (l + 1.0);
    if ((st = ab_sht_synthesis(f, z->cw1, lap, err))) return st;
    const double *fx = ab_sht_points(f), *fct = ab_sht_cos_theta(f), *fph = ab_sht_phi(f);
    const int fnlon = ab_sht_nlon(f);
    for (size_t p = 0; p < n; p++) {
        double uu, gu_t, gu_p, lu;
        const double qf = 1.0 + beta * s[p] / z->c0;
        if (sa && z->log_kernel && !(qf > 0.0 && z->fh_sbound / (z->c0 * qf * kappa) <= AB_SPHERE_POINT_TOL)) {
            /* the log form where the sum is not accurate enough: log K rho, its gradient
             * beta P_x m (m = sum A_q x_q, the softmax mean) and its Laplacian
             * sum A_q (beta^2 (1 - t_q^2) - 2 beta t_q) - beta^2 |P_x m|^2, t_q = <x, x_q> */
            const double *x = fx + 3 * p;
            const double lk = lse_point(z, x, z->u_cur, z->ew);
            double m[3] = {0.0, 0.0, 0.0}, T = 0.0;
            for (size_t q = 0; q < z->np; q++) {
                const double *y = z->X + 3 * q, a = z->ew[q], t = x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
                m[0] += a * y[0]; m[1] += a * y[1]; m[2] += a * y[2];
                T += a * (beta * beta * (1.0 - t * t) - 2.0 * beta * t);
            }
            const double mx = m[0] * x[0] + m[1] * x[1] + m[2] * x[2];
            double mt[3], mt2 = 0.0;
            for (int k = 0; k < 3; k++) { mt[k] = m[k] - mx * x[k]; mt2 += mt[k] * mt[k]; }
            const size_t i = p / (size_t)fnlon, j = p % (size_t)fnlon;
            const double c = fct[i], sn = sqrt(fmax(0.0, 1.0 - c * c)), cp = cos(fph[j]), sp = sin(fph[j]);
            const double L = lk - z->log_lambda0 - z->logc0;
            uu = L / (beta * kappa);
            gu_t = (mt[0] * c * cp + mt[1] * c * sp - mt[2] * sn) / kappa;
            gu_p = (-mt[0] * sp + mt[1] * cp) / kappa;
            lu = (T - beta * beta * mt2) / (beta * kappa);
            z->f_Y[p] = expm1(L) / beta;
            z->f_D[p] = exp(-L) / z->c0;
        } else if (sa) {
            const double Y = s[p] / z->c0, q = 1.0 + beta * Y;
            if (!(q > 0.0)) return ab_error_set(err, AB_ENAN, "kernel convolution is not positive on the spectrum's grid");
            const double gy = (z->f_ut[p] * z->f_ut[p] + z->f_up[p] * z->f_up[p]) / (z->c0 * z->c0);
            uu = (beta > 0.0 ? log1p(beta * Y) / beta : Y) / kappa;
            gu_t = z->f_ut[p] / (z->c0 * kappa * q);
            gu_p = z->f_up[p] / (z->c0 * kappa * q);
            lu = lap[p] / (z->c0 * kappa * q) - beta * gy / (kappa * q * q);
            z->f_Y[p] = Y;
            z->f_D[p] = 1.0 / (z->c0 * q);
        } else {
            uu = s[p] / kappa;
            gu_t = z->f_ut[p] / kappa;
            gu_p = z->f_up[p] / kappa;
            lu = lap[p] / kappa;
        }
        uu -= z->logZ;
        z->f_sqrho[p] = exp(0.5 * uu);
        z->f_V[p] = 0.5 * lu + 0.25 * (gu_t * gu_t + gu_p * gu_p);
        z->f_ut[p] = gu_t; /* keep grad u for the rotation vectors */
        z->f_up[p] = gu_p;
        if (!isfinite(z->f_sqrho[p]) || !isfinite(z->f_V[p]))
            return ab_error_set(err, AB_ENAN, "the linearised operator overflows on the sphere: the state is not resolved");
    }
    return AB_OK;
}

static ab_status sphere_sector_operator(ab_disc *d, const double *u, int m, ab_sector_op *op, ab_error *err)
{
    sphere *z = S(d);
    if (m != 0) return ab_error_set(err, AB_EINVAL, "the sphere has one operator (sector 0)");
    ab_status st = build_fields(z, u, err);
    if (st) return st;
    const size_t nc = z->nc, n = z->fnp;
    z->op_kappa = z->base.params.kappa;
    /* the mass direction rho^{1/2} and its Householder vector */
    for (size_t p = 0; p < n; p++) z->f_w1[p] = z->f_sqrho[p];
    if ((st = ab_sht_analysis(z->fine, z->f_w1, z->hh, err))) return st;
    double nrm = 0.0;
    for (size_t q = 0; q < nc; q++) nrm += z->hh[q] * z->hh[q];
    nrm = sqrt(nrm);
    const double alpha = z->hh[0] > 0.0 ? -nrm : nrm;
    z->hh[0] -= alpha;
    double hn = 0.0;
    for (size_t q = 0; q < nc; q++) hn += z->hh[q] * z->hh[q];
    z->hh_beta = hn > 0.0 ? 2.0 / hn : 0.0;
    /* rotation vectors rho^{1/2} (x times grad u)_k, deflated; near-zero ones dropped */
    double norms[3], top = 0.0;
    for (int k = 0; k < 3; k++) {
        rotation_field(z->fine, z->f_ut, z->f_up, k, z->f_w1);
        for (size_t p = 0; p < n; p++) z->f_w1[p] *= z->f_sqrho[p];
        if ((st = ab_sht_analysis(z->fine, z->f_w1, z->full2, err))) return st;
        householder(z, z->full2);
        memcpy(z->sym + (size_t)k * (nc - 1), z->full2 + 1, sizeof(double) * (nc - 1));
        double s2 = 0.0;
        for (size_t q = 0; q + 1 < nc; q++) s2 += z->full2[q + 1] * z->full2[q + 1];
        norms[k] = sqrt(s2);
        top = fmax(top, norms[k]);
    }
    /* keep an orthonormal basis of their span: a rotation that leaves the state fixed (about
     * the axis of an axisymmetric state, or all of them at the uniform state) gives a
     * combination that vanishes */
    z->n_sym = 0;
    for (int k = 0; k < 3; k++) {
        double *g = z->sym + (size_t)k * (nc - 1), *dst = z->sym + (size_t)z->n_sym * (nc - 1);
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < z->n_sym; j++) {
                const double *h = z->sym + (size_t)j * (nc - 1);
                double dd = 0.0;
                for (size_t q = 0; q + 1 < nc; q++) dd += g[q] * h[q];
                for (size_t q = 0; q + 1 < nc; q++) g[q] -= dd * h[q];
            }
        double gn = 0.0;
        for (size_t q = 0; q + 1 < nc; q++) gn += g[q] * g[q];
        gn = sqrt(gn);
        if (!(gn > AB_SPHERE_SYMMETRY_ZERO * top) || !(gn > AB_SPHERE_SYMMETRY_ABS)) continue;
        for (size_t q = 0; q + 1 < nc; q++) dst[q] = g[q] / gn;
        z->n_sym++;
    }
    /* ||L|| <= ||G'|| ||H'|| ~ (L (L + 1) + max |V|)(kappa + max kappa_l) */
    double vmax = 0.0, gmax = 0.0;
    for (size_t p = 0; p < n; p++) vmax = fmax(vmax, fabs(z->f_V[p]));
    for (int l = 0; l <= z->L; l++) gmax = fmax(gmax, fabs(z->g[l]));
    z->op_norm = (z->L * (z->L + 1.0) + vmax) * (z->op_kappa + gmax);
    /* Householder vectors that map the (orthonormal) rotation vectors onto the first
     * coordinates, built one after the other on the already reflected vectors */
    for (int k = 0; k < z->n_sym; k++) {
        double *h = z->rh + (size_t)k * (nc - 1);
        memcpy(h, z->sym + (size_t)k * (nc - 1), sizeof(double) * (nc - 1));
        for (int j = 0; j < k; j++) rot_reflect(z, j, h);
        for (int j = 0; j < k; j++) h[j] = 0.0;
        double hn = 0.0;
        for (size_t q = (size_t)k; q + 1 < nc; q++) hn += h[q] * h[q];
        hn = sqrt(hn);
        h[k] -= h[k] > 0.0 ? -hn : hn;
        double h2 = 0.0;
        for (size_t q = 0; q + 1 < nc; q++) h2 += h[q] * h[q];
        z->rh_beta[k] = h2 > 0.0 ? 2.0 / h2 : 0.0;
    }
    z->op = (ab_linop){.n = nc - 1 - (size_t)z->n_sym, .apply = op_apply, .apply_transpose = NULL, .matrix = NULL, .ctx = z};
    z->pc = (ab_precond){.setup = pc_setup, .apply = pc_apply, .ctx = z};
    op->sector = 0;
    op->dim = (int)(nc - 1) - z->n_sym;
    op->matrix = NULL;
    op->multiplicity = 1;
    op->mass_removed = 1;
    op->n_symmetry = 0; /* removed from the operator by construction, reported as 0 */
    op->symmetry = NULL;
    op->symmetry_removed = z->n_sym;
    op->linop = &z->op;
    op->precond = &z->pc;
    op->norm_estimate = z->op_norm;
    return AB_OK;
}

static ab_status sphere_rotation_residual(ab_disc *d, const double *u, double *residual, double *floor, ab_error *err)
{
    sphere *z = S(d);
    ab_sector_op op;
    memset(&op, 0, sizeof op);
    *residual = NAN;
    *floor = 0.0;
    ab_status st = sphere_sector_operator(d, u, 0, &op, err);
    if (st == AB_ENAN) { *residual = INFINITY; return AB_OK; }
    if (st) return st;
    const size_t n = z->nc - 1;
    double worst = 0.0;
    double *y = z->gw3; /* np >= nc */
    for (int k = 0; k < z->n_sym; k++) {
        const double *g = z->sym + (size_t)k * n;
        if ((st = mass_apply(z, g, y, err))) return st;
        double gg = 0.0, yy = 0.0;
        for (size_t q = 0; q < n; q++) { gg += g[q] * g[q]; yy += y[q] * y[q]; }
        worst = fmax(worst, sqrt(yy / gg));
    }
    if (z->n_sym > 0) *residual = worst;
    *floor = AB_RESOLUTION_ROTATION_ROUNDING * DBL_EPSILON * z->op_norm;
    return AB_OK;
}

/* ---- densities off the grid --------------------------------------------------------- */

/* rho at n unit vectors x (n x 3) from the state evaluated last (eval_state). */
/* log rho (as_log) or rho of the evaluated state at n unit vectors x. */
static ab_status density_points_as(sphere *z, size_t n, const double *x, double *rho, int as_log, ab_error *err)
{
    ab_status st = ab_sht_eval(z->sht, z->gc, n, x, rho, err);
    if (st) return st;
    const double kappa = z->base.params.kappa;
    for (size_t k = 0; k < n; k++) {
        double Phi;
        if (!phi_at(z, rho[k], x + 3 * k, &Phi))
            return ab_error_set(err, AB_ENAN, "kernel convolution K rho is not positive between the grid points");
        rho[k] = as_log ? Phi / kappa - z->logZ : exp(Phi / kappa - z->logZ);
        if (!isfinite(rho[k])) return ab_error_set(err, AB_ENAN, "the density exceeds the range of double");
    }
    return AB_OK;
}
static ab_status density_points(sphere *z, size_t n, const double *x, double *rho, ab_error *err)
{
    return density_points_as(z, n, x, rho, 0, err);
}

/* The meridian phi = 0 at t = cos theta. */
static ab_status sphere_density_at(ab_disc *d, const double *u, int n, const double *t, double *rho, ab_error *err)
{
    sphere *z = S(d);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    double *x = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
    if (!x) return ab_error_set(err, AB_ENOMEM, "out of memory");
    for (int k = 0; k < n; k++) {
        x[3 * k] = sqrt(fmax(0.0, 1.0 - t[k] * t[k]));
        x[3 * k + 1] = 0.0;
        x[3 * k + 2] = t[k];
    }
    st = density_points(z, (size_t)n, x, rho, err);
    free(x);
    return st;
}

static ab_status sphere_profile(ab_disc *d, const double *u, int n_fine, ab_profile *nodes, ab_profile *fine,
                                ab_error *err)
{
    sphere *z = S(d);
    memset(nodes, 0, sizeof *nodes);
    memset(fine, 0, sizeof *fine);
    const int N = z->nlat;
    nodes->t = malloc(sizeof(double) * N); nodes->theta = malloc(sizeof(double) * N); nodes->rho = malloc(sizeof(double) * N);
    fine->t = malloc(sizeof(double) * n_fine); fine->theta = malloc(sizeof(double) * n_fine); fine->rho = malloc(sizeof(double) * n_fine);
    if (!nodes->t || !nodes->theta || !nodes->rho || !fine->t || !fine->theta || !fine->rho) {
        ab_profile_free(nodes); ab_profile_free(fine);
        return ab_error_set(err, AB_ENOMEM, "out of memory for the density profile");
    }
    const double *ct = ab_sht_cos_theta(z->sht);
    nodes->n = N;
    for (int i = 0; i < N; i++) {
        nodes->t[i] = ct[i];
        nodes->theta[i] = acos(ct[i]);
        nodes->rho[i] = exp(u[(size_t)i * z->nlon]); /* longitude 0 */
    }
    fine->n = n_fine;
    for (int j = 0; j < n_fine; j++) {
        fine->theta[j] = 3.14159265358979323846 * j / (n_fine - 1);
        fine->t[j] = cos(fine->theta[j]);
    }
    ab_status st = sphere_density_at(d, u, n_fine, fine->t, fine->rho, err);
    if (st) { ab_profile_free(nodes); ab_profile_free(fine); }
    return st;
}

/* From another sphere discretisation: its potential (degree L_src) evaluated on this grid
 * by zero-padding or truncating its coefficients. */
static ab_status sphere_transfer(ab_disc *d, ab_disc *src, const double *u_src, double *u, ab_error *err)
{
    if (src->ops != d->ops) return ab_error_set(err, AB_EINVAL, "a state can only be transferred between sphere discretisations");
    sphere *z = S(d), *y = S(src);
    ab_status st = eval_state(y, u_src, err);
    if (st) return st;
    memset(z->cw1, 0, sizeof(double) * z->nc);
    const int Lm = z->L < y->L ? z->L : y->L;
    for (int l = 0; l <= Lm; l++)
        for (int m = -l; m <= l; m++) z->cw1[ab_sht_index(l, m)] = y->gc[ab_sht_index(l, m)];
    if ((st = ab_sht_synthesis(z->sht, z->cw1, u, err))) return st;
    for (size_t p = 0; p < z->np; p++) {
        double Phi;
        if (!phi_at(y, u[p], z->X + 3 * p, &Phi))
            return ab_error_set(err, AB_ENAN, "kernel convolution K rho is not positive on the new grid");
        u[p] = Phi / y->base.params.kappa;
    }
    normalise(z, u);
    return AB_OK;
}

static const ab_disc_ops sphere_ops;

int ab_sphere_is(const ab_disc *disc) { return disc->ops == &sphere_ops; }

void ab_sphere_grid(const ab_disc *disc, int *nlat, int *nlon, const double **points, const double **weights)
{
    const sphere *z = SC(disc);
    *nlat = z->nlat;
    *nlon = z->nlon;
    *points = z->X;
    *weights = z->w;
}

ab_status ab_sphere_density(ab_disc *disc, const double *u, size_t n, const double *x, double *rho, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    ab_status st = eval_state(z, u, err);
    return st ? st : density_points(z, n, x, rho, err);
}

ab_status ab_sphere_map(ab_disc *disc, const double *u, int nlat, int nlon, double *rho, ab_error *err)
{
    const size_t n = (size_t)nlat * (size_t)nlon;
    double *x = malloc(sizeof(double) * 3 * (n ? n : 1));
    if (!x) return ab_error_set(err, AB_ENOMEM, "out of memory for the density map");
    const double deg = 3.14159265358979323846 / 180.0;
    for (int i = 0; i < nlat; i++)
        for (int j = 0; j < nlon; j++) {
            const double lat = (-90.0 + (i + 0.5) * 180.0 / nlat) * deg, lon = (-180.0 + (j + 0.5) * 360.0 / nlon) * deg;
            double *xp = x + 3 * ((size_t)i * nlon + j);
            xp[0] = cos(lat) * cos(lon);
            xp[1] = cos(lat) * sin(lon);
            xp[2] = sin(lat);
        }
    ab_status st = ab_sphere_density(disc, u, n, x, rho, err);
    free(x);
    return st;
}

int ab_sphere_cluster_count(ab_disc *disc, const double *u)
{
    if (!ab_sphere_is(disc)) return -1;
    sphere *z = S(disc);
    ab_error scratch = {0};
    int n = 0;
    if (eval_state(z, u, &scratch)) return -1;
    ab_status st = ab_find_clusters(z->nlat, z->nlon, z->X, z->w, z->rho, AB_CLUSTERS_DEFAULT_PROMINENCE, NULL, 0, &n,
                                    &scratch);
    return st == AB_OK || st == AB_EINVAL ? n : -1;
}

/* Finite-difference step and iterations of the peak refinement below. */
#define AB_SPHERE_PEAK_STEP 1e-4
#define AB_SPHERE_PEAK_ITER 20

/* The local maximum of rho nearest x (in place): Newton on the kernel sum s = sum gc Y (rho
 * increases with s for both models) in the tangent plane, derivatives by central
 * differences of the band-limited s; a step that does not increase s is halved. */
static ab_status refine_peak(sphere *z, double *x, ab_error *err)
{
    const double h = AB_SPHERE_PEAK_STEP;
    for (int it = 0; it < AB_SPHERE_PEAK_ITER; it++) {
        /* tangent basis e1, e2 at x */
        double a[3] = {fabs(x[0]) < 0.9 ? 1.0 : 0.0, fabs(x[0]) < 0.9 ? 0.0 : 1.0, 0.0}, e1[3], e2[3];
        const double ax = a[0] * x[0] + a[1] * x[1];
        for (int k = 0; k < 3; k++) e1[k] = a[k] - ax * x[k];
        double n1 = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
        for (int k = 0; k < 3; k++) e1[k] /= n1;
        e2[0] = x[1] * e1[2] - x[2] * e1[1];
        e2[1] = x[2] * e1[0] - x[0] * e1[2];
        e2[2] = x[0] * e1[1] - x[1] * e1[0];
        /* s at x + h (i e1 + j e2), i, j in {-1, 0, 1}, projected to the sphere */
        double pts[27], v[9];
        for (int i = -1; i <= 1; i++)
            for (int j = -1; j <= 1; j++) {
                double *q = pts + 3 * ((i + 1) * 3 + (j + 1)), nq = 0.0;
                for (int k = 0; k < 3; k++) { q[k] = x[k] + h * (i * e1[k] + j * e2[k]); nq += q[k] * q[k]; }
                for (int k = 0; k < 3; k++) q[k] /= sqrt(nq);
            }
        ab_status st = ab_sht_eval(z->sht, z->gc, 9, pts, v, err);
        if (st) return st;
#define V(i, j) v[((i) + 1) * 3 + ((j) + 1)]
        const double g1 = (V(1, 0) - V(-1, 0)) / (2 * h), g2 = (V(0, 1) - V(0, -1)) / (2 * h);
        const double h11 = (V(1, 0) - 2 * V(0, 0) + V(-1, 0)) / (h * h), h22 = (V(0, 1) - 2 * V(0, 0) + V(0, -1)) / (h * h);
        const double h12 = (V(1, 1) - V(1, -1) - V(-1, 1) + V(-1, -1)) / (4 * h * h), s0 = V(0, 0);
#undef V
        double d1, d2;
        const double det = h11 * h22 - h12 * h12;
        if (h11 < 0.0 && det > 0.0) { /* concave: Newton */
            d1 = -(h22 * g1 - h12 * g2) / det;
            d2 = -(-h12 * g1 + h11 * g2) / det;
        } else { /* gradient step of a tenth of a radian at most */
            const double gn = sqrt(g1 * g1 + g2 * g2);
            if (!(gn > 0.0)) return AB_OK;
            d1 = 0.1 * g1 / gn;
            d2 = 0.1 * g2 / gn;
        }
        const double len = sqrt(d1 * d1 + d2 * d2);
        if (len > 0.2) { d1 *= 0.2 / len; d2 *= 0.2 / len; }
        for (int halve = 0; halve < 30; halve++) {
            double y[3], ny = 0.0, sy;
            for (int k = 0; k < 3; k++) { y[k] = x[k] + d1 * e1[k] + d2 * e2[k]; ny += y[k] * y[k]; }
            for (int k = 0; k < 3; k++) y[k] /= sqrt(ny);
            if ((st = ab_sht_eval(z->sht, z->gc, 1, y, &sy, err))) return st;
            if (sy >= s0) {
                memcpy(x, y, sizeof y);
                break;
            }
            d1 *= 0.5;
            d2 *= 0.5;
        }
        if (sqrt(d1 * d1 + d2 * d2) < 1e-13) return AB_OK;
    }
    return AB_OK;
}

/* Gauss-Legendre points per piece of the Voronoi-cell quadrature (in angle about the peak
 * and in distance from it), and the coarser count whose result gives the error estimate. */
#define AB_SPHERE_CELL_POINTS 48
#define AB_SPHERE_CELL_POINTS_CHECK 32

/* Mass of the Voronoi cell of centre i among the centres c (count x 3), by Gauss-Legendre
 * quadrature in polar coordinates (theta, phi) about c_i: the cell boundary theta_max(phi)
 * is smooth between the directions of the cell's vertices, so the phi integral is split
 * there and each piece is spectrally accurate (docs/sphere.md, "Clusters"). */
static ab_status cell_mass(sphere *z, const double *c, int count, int i, int npts, const double *gx, const double *gw,
                           double *mass, ab_error *err)
{
    const double *ci = c + 3 * i, pi = 3.14159265358979323846;
    double a[3] = {fabs(ci[0]) < 0.9 ? 1.0 : 0.0, fabs(ci[0]) < 0.9 ? 0.0 : 1.0, 0.0}, e1[3], e2[3];
    const double ax = a[0] * ci[0] + a[1] * ci[1];
    for (int k = 0; k < 3; k++) e1[k] = a[k] - ax * ci[k];
    const double n1 = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (int k = 0; k < 3; k++) e1[k] /= n1;
    e2[0] = ci[1] * e1[2] - ci[2] * e1[1];
    e2[1] = ci[2] * e1[0] - ci[0] * e1[2];
    e2[2] = ci[0] * e1[1] - ci[1] * e1[0];
    /* vertex directions: points equidistant from c_i and two others, nearer to no other */
    double brk[2 * AB_MAX_CLUSTERS * AB_MAX_CLUSTERS + 2];
    int nb = 0;
    for (int j = 0; j < count; j++)
        for (int k = j + 1; k < count; k++) {
            if (j == i || k == i) continue;
            const double *cj = c + 3 * j, *ck = c + 3 * k;
            double u[3], w[3], v[3];
            for (int q = 0; q < 3; q++) { u[q] = ci[q] - cj[q]; w[q] = ci[q] - ck[q]; }
            v[0] = u[1] * w[2] - u[2] * w[1];
            v[1] = u[2] * w[0] - u[0] * w[2];
            v[2] = u[0] * w[1] - u[1] * w[0];
            const double nv = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            if (!(nv > 1e-12)) continue;
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double x[3];
                for (int q = 0; q < 3; q++) x[q] = sgn * v[q] / nv;
                const double di = x[0] * ci[0] + x[1] * ci[1] + x[2] * ci[2];
                int nearest = 1;
                for (int m = 0; m < count && nearest; m++)
                    if (m != i && x[0] * c[3 * m] + x[1] * c[3 * m + 1] + x[2] * c[3 * m + 2] > di + 1e-12) nearest = 0;
                if (nearest && nb < (int)(sizeof brk / sizeof brk[0]))
                    brk[nb++] = atan2(x[0] * e2[0] + x[1] * e2[1] + x[2] * e2[2], x[0] * e1[0] + x[1] * e1[1] + x[2] * e1[2]);
            }
        }
    if (nb == 0) brk[nb++] = 0.0;
    /* sort the break angles and close the circle */
    for (int p = 1; p < nb; p++)
        for (int q = p; q > 0 && brk[q] < brk[q - 1]; q--) { const double t = brk[q]; brk[q] = brk[q - 1]; brk[q - 1] = t; }
    brk[nb] = brk[0] + 2.0 * pi;
    double pts[3 * AB_SPHERE_CELL_POINTS], val[AB_SPHERE_CELL_POINTS];
    double total = 0.0;
    for (int piece = 0; piece < nb; piece++) {
        const double p0 = brk[piece], p1 = brk[piece + 1];
        if (!(p1 - p0 > 1e-14)) continue;
        for (int a_ = 0; a_ < npts; a_++) {
            const double ph = 0.5 * (p0 + p1) + 0.5 * (p1 - p0) * gx[a_], wph = 0.5 * (p1 - p0) * gw[a_];
            double t[3];
            for (int q = 0; q < 3; q++) t[q] = cos(ph) * e1[q] + sin(ph) * e2[q];
            /* the cell boundary along this ray: the first bisector plane <x, c_i - c_j> = 0,
             * A cos theta - B sin theta = 0 (A > 0: every plane is crossed before -c_i) */
            double tmax = pi;
            for (int j = 0; j < count; j++) {
                if (j == i) continue;
                const double *cj = c + 3 * j;
                const double A = 1.0 - (ci[0] * cj[0] + ci[1] * cj[1] + ci[2] * cj[2]);
                const double B = t[0] * cj[0] + t[1] * cj[1] + t[2] * cj[2];
                if (A > 0.0) tmax = fmin(tmax, atan2(A, B));
            }
            for (int b = 0; b < npts; b++) {
                const double th = 0.5 * tmax * (1.0 + gx[b]);
                for (int q = 0; q < 3; q++) pts[3 * b + q] = cos(th) * ci[q] + sin(th) * t[q];
            }
            ab_status st = density_points(z, (size_t)npts, pts, val, err);
            if (st) return st;
            double acc = 0.0;
            for (int b = 0; b < npts; b++) acc += 0.5 * tmax * gw[b] * sin(0.5 * tmax * (1.0 + gx[b])) * val[b];
            total += wph * acc;
        }
    }
    *mass = total / (4.0 * pi); /* sigma is normalised: dsigma = sin theta dtheta dphi / 4 pi */
    return AB_OK;
}

/* The basins are drawn on the grid, so masses and centres carry an error of the order of
 * the grid spacing times the density between clusters: they are computed again on a grid of
 * twice the resolution (the state's potential synthesised there), reported from that grid,
 * with the change as their error (docs/sphere.md, "Clusters"). */
ab_status ab_sphere_clusters(ab_disc *disc, const double *u, ab_cluster *out, int max, int *count, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    ab_status st = eval_state(z, u, err);
    if (st) return st;
    ab_cluster coarse[AB_MAX_CLUSTERS];
    int nc = 0;
    st = ab_find_clusters(z->nlat, z->nlon, z->X, z->w, z->rho, AB_CLUSTERS_DEFAULT_PROMINENCE, coarse, AB_MAX_CLUSTERS,
                          &nc, err);
    if (st && !(st == AB_EINVAL && nc > AB_MAX_CLUSTERS)) return st;
    ab_sht *fine = NULL;
    if ((st = ab_sht_create(z->L, 2 * z->nlat, 2 * z->nlon, &fine, err))) return st;
    const size_t nf = ab_sht_npoints(fine);
    double *rho = malloc(sizeof(double) * nf);
    if (!rho) { ab_sht_destroy(fine); return ab_error_set(err, AB_ENOMEM, "out of memory for the cluster check"); }
    st = ab_sht_synthesis(fine, z->gc, rho, err);
    const double kappa = z->base.params.kappa;
    const double *fpts = ab_sht_points(fine);
    for (size_t p = 0; p < nf && !st; p++) {
        double Phi;
        if (!phi_at(z, rho[p], fpts + 3 * p, &Phi)) st = ab_error_set(err, AB_ENAN, "kernel convolution is not positive");
        else rho[p] = exp(Phi / kappa - z->logZ);
    }
    if (!st)
        st = ab_find_clusters(ab_sht_nlat(fine), ab_sht_nlon(fine), ab_sht_points(fine), ab_sht_weights(fine), rho,
                              AB_CLUSTERS_DEFAULT_PROMINENCE, out, max, count, err);
    if (!st || (st == AB_EINVAL && *count > max)) {
        const int n = *count < max ? *count : max;
        for (int i = 0; i < n; i++) {
            /* the coarse cluster nearest this one */
            double best = -2.0;
            int at = -1;
            for (int j = 0; j < nc && j < AB_MAX_CLUSTERS; j++) {
                const double c = out[i].centre[0] * coarse[j].centre[0] + out[i].centre[1] * coarse[j].centre[1] +
                                 out[i].centre[2] * coarse[j].centre[2];
                if (c > best) { best = c; at = j; }
            }
            out[i].mass_error = at < 0 || nc != *count ? INFINITY : fabs(out[i].mass - coarse[at].mass);
            /* the centre is the density's local maximum, found on the band-limited state */
            if ((st = refine_peak(z, out[i].centre, err))) break;
        }
        /* masses: the Voronoi cells of the maxima, integrated at two orders (the difference
         * is the error estimate) */
        double gx[AB_SPHERE_CELL_POINTS], gw[AB_SPHERE_CELL_POINTS], hx[AB_SPHERE_CELL_POINTS_CHECK],
            hw[AB_SPHERE_CELL_POINTS_CHECK], cen[3 * AB_MAX_CLUSTERS];
        if (!st) st = ab_gauss_jacobi(0.0, AB_SPHERE_CELL_POINTS, 1.0, gx, gw, NULL, err);
        if (!st) st = ab_gauss_jacobi(0.0, AB_SPHERE_CELL_POINTS_CHECK, 1.0, hx, hw, NULL, err);
        for (int i = 0; i < n && !st; i++)
            for (int k = 0; k < 3; k++) cen[3 * i + k] = out[i].centre[k];
        for (int i = 0; i < n && !st && n == *count; i++) {
            double m1, m2;
            if ((st = cell_mass(z, cen, n, i, AB_SPHERE_CELL_POINTS, gx, gw, &m1, err)) ||
                (st = cell_mass(z, cen, n, i, AB_SPHERE_CELL_POINTS_CHECK, hx, hw, &m2, err)))
                break;
            out[i].mass = m1;
            out[i].mass_error = fmax(fabs(m1 - m2), 16.0 * DBL_EPSILON);
        }
    }
    free(rho);
    ab_sht_destroy(fine);
    return st;
}

static const ab_disc_ops sphere_ops = {
    .kind = "sphere",
    .name = sphere_name,
    .destroy = sphere_destroy,
    .set_params = sphere_set_params,
    .residual = sphere_residual,
    .linearize = sphere_linearize,
    .jac_apply = sphere_jac_apply,
    .jac_apply_transpose = sphere_jac_apply_t,
    .precond_apply = sphere_precond_apply,
    .jac_matrix = sphere_jac_matrix,
    .weights = sphere_weights,
    .max_degree = sphere_max_degree,
    .sector_followable = sphere_followable,
    .load_state = sphere_load_state,
    .dparam = sphere_dparam,
    .residual_scale = sphere_residual_scale,
    .dot = sphere_dot,
    .reflect = sphere_reflect,
    .resolution = sphere_resolution,
    .guess_from_samples = sphere_guess_from_samples,
    .observables = sphere_observables,
    .initial_guess = sphere_initial_guess,
    .max_sector = sphere_max_sector,
    .sector_operator = sphere_sector_operator,
    .profile = sphere_profile,
    .density_at = sphere_density_at,
    .accuracy = sphere_accuracy,
    .residual_floor = sphere_residual_floor,
    .transfer = sphere_transfer,
    .size = sphere_size,
    .rotation_residual = sphere_rotation_residual,
    .n_symmetries = 3,
    .symmetry = sphere_symmetry,
};

ab_status ab_sphere_create(const ab_model *model, ab_params params, int degree, ab_kernel_form kernel, ab_disc **out,
                           ab_error *err)
{
    *out = NULL;
    if (model->d != 3) return ab_error_set(err, AB_EINVAL, "the sphere discretisation needs d = 3 (got %d)", model->d);
    if (kernel == AB_KERNEL_LOG_DOMAIN && model->kind != AB_MODEL_SA)
        return ab_error_set(err, AB_EINVAL, "the sphere's log-domain kernel is for SA (USA's potential is K rho itself, "
                                            "which the Funk-Hecke form represents; docs/sphere.md): use funk-hecke or auto");
    if (kernel == AB_KERNEL_LOG_DOMAIN && !(params.beta > 0.0))
        return ab_error_set(err, AB_EINVAL, "the log-domain kernel needs beta > 0 (at beta = 0 use funk-hecke or auto)");
    if (degree < 1 || degree > AB_SPHERE_DEGREE_MAX)
        return ab_error_set(err, AB_EINVAL, "sphere degree must be in 1..%d (got %d)", AB_SPHERE_DEGREE_MAX, degree);
    sphere *z = calloc(1, sizeof *z);
    if (!z) return ab_error_set(err, AB_ENOMEM, "out of memory");
    z->base.ops = &sphere_ops;
    z->base.model = *model;
    z->base.model.beta = params.beta;
    z->base.params = params;
    z->L = degree;
    z->term_scale = 1.0;
    z->forced = kernel;
    z->log_kernel = kernel == AB_KERNEL_LOG_DOMAIN;
    ab_status st = ab_sht_create(degree, 0, 0, &z->sht, err);
    if (st) { free(z); return st; }
    z->np = ab_sht_npoints(z->sht);
    z->nc = ab_sht_ncoeffs(z->sht);
    z->nlat = ab_sht_nlat(z->sht);
    z->nlon = ab_sht_nlon(z->sht);
    z->w = ab_sht_weights(z->sht);
    z->X = ab_sht_points(z->sht);
    z->base.dim = z->np;
    set_name(z);
    int ok = 1;
    const size_t np = z->np, nc = z->nc;
    z->logw = alloc_d(np, &ok); z->g = alloc_d((size_t)degree + 1, &ok); z->dg = alloc_d((size_t)degree + 1, &ok);
    z->rho = alloc_d(np, &ok); z->c = alloc_d(nc, &ok); z->gc = alloc_d(nc, &ok); z->s = alloc_d(np, &ok);
    z->Y = alloc_d(np, &ok); z->Phi = alloc_d(np, &ok); z->pi = alloc_d(np, &ok);
    z->lin_rho = alloc_d(np, &ok); z->lin_pi = alloc_d(np, &ok); z->lin_Y = alloc_d(np, &ok);
    z->gw1 = alloc_d(np, &ok); z->gw2 = alloc_d(np, &ok); z->gw3 = alloc_d(np, &ok);
    z->cw1 = alloc_d(nc, &ok); z->cw2 = alloc_d(nc, &ok);
    z->pc_gain = alloc_d((size_t)z->L + 1, &ok); z->pc_c = alloc_d(nc, &ok); z->pc_f = alloc_d(np, &ok);
    z->cosd = alloc_d((size_t)z->nlon, &ok); z->erow = alloc_d(2 * (size_t)z->nlon, &ok); z->u_cur = alloc_d(np, &ok);
    z->LK = alloc_d(np, &ok); z->Ssum = alloc_d(np, &ok); z->ew = alloc_d(np, &ok);
    z->lin_u = alloc_d(np, &ok); z->lin_r = alloc_d(np, &ok); z->lin_S = alloc_d(np, &ok);
    z->exact = calloc(np, 1); z->lin_exact = calloc(np, 1);
    if (!z->exact || !z->lin_exact) ok = 0;
    if (!ok) { sphere_destroy(&z->base); return ab_error_set(err, AB_ENOMEM, "out of memory for degree %d", degree); }
    for (size_t p = 0; p < np; p++) z->logw[p] = log(z->w[p]);
    const double *ph = ab_sht_phi(z->sht);
    for (int k = 0; k < z->nlon; k++) z->cosd[k] = cos(ph[k] - ph[0]);
    if ((st = build_kernel(z, err)) || (st = ab_disc_init(&z->base, err))) { sphere_destroy(&z->base); return st; }
    *out = &z->base;
    return AB_OK;
}

ab_status ab_sphere_synthesis(ab_disc *disc, const double *coeffs, int degree, double *f, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    if (degree < 0 || degree > z->L)
        return ab_error_set(err, AB_EINVAL, "harmonics of degree %d on a sphere discretisation of degree %d", degree, z->L);
    memset(z->cw1, 0, sizeof(double) * z->nc);
    memcpy(z->cw1, coeffs, sizeof(double) * (size_t)(degree + 1) * (size_t)(degree + 1));
    return ab_sht_synthesis(z->sht, z->cw1, f, err);
}

ab_status ab_sphere_symmetrize(ab_disc *disc, double *u, int order, const double *R, double *asym, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    const size_t np = z->np;
    double *pts = malloc(sizeof(double) * 3 * np), *val = malloc(sizeof(double) * np), *acc = calloc(np, sizeof(double));
    ab_status st = pts && val && acc ? eval_state(z, u, err) : ab_error_set(err, AB_ENOMEM, "out of memory");
    for (int g = 0; g < order && !st; g++) {
        /* (g.f)(x) = f(g^-1 x); over a group the average of f(g x) is the same */
        const double *m = R + 9 * (size_t)g;
        for (size_t p = 0; p < np; p++) {
            const double *x = z->X + 3 * p;
            for (int i = 0; i < 3; i++) pts[3 * p + i] = m[3 * i] * x[0] + m[3 * i + 1] * x[1] + m[3 * i + 2] * x[2];
        }
        st = density_points_as(z, np, pts, val, 1, err);
        for (size_t p = 0; p < np && !st; p++) acc[p] += val[p];
    }
    if (!st) {
        double d = 0.0;
        for (size_t p = 0; p < np; p++) {
            acc[p] /= order;
            d = fmax(d, fabs(acc[p] - u[p]));
            u[p] = acc[p];
        }
        if (asym) *asym = d;
    }
    free(pts); free(val); free(acc);
    return st;
}

ab_status ab_sphere_symmetrize_vector(ab_disc *disc, double *v, int order, const double *R, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    const size_t np = z->np;
    double *pts = malloc(sizeof(double) * 3 * np), *val = malloc(sizeof(double) * np), *acc = calloc(np, sizeof(double)),
           *c = malloc(sizeof(double) * z->nc);
    ab_status st = pts && val && acc && c ? ab_sht_analysis(z->sht, v, c, err) : ab_error_set(err, AB_ENOMEM, "out of memory");
    /* the part above degree L (aliasing remainder) is left as it is */
    if (!st) st = ab_sht_synthesis(z->sht, c, val, err);
    for (size_t p = 0; p < np && !st; p++) v[p] -= val[p];
    for (int g = 0; g < order && !st; g++) {
        const double *m = R + 9 * (size_t)g;
        for (size_t p = 0; p < np; p++) {
            const double *x = z->X + 3 * p;
            for (int i = 0; i < 3; i++) pts[3 * p + i] = m[3 * i] * x[0] + m[3 * i + 1] * x[1] + m[3 * i + 2] * x[2];
        }
        st = ab_sht_eval(z->sht, c, np, pts, val, err);
        for (size_t p = 0; p < np && !st; p++) acc[p] += val[p];
    }
    for (size_t p = 0; p < np && !st; p++) v[p] += acc[p] / order;
    free(pts); free(val); free(acc); free(c);
    return st;
}

ab_status ab_sphere_symmetrize_axial(ab_disc *disc, double *v, int mirror, ab_error *err)
{
    if (!ab_sphere_is(disc)) return ab_error_set(err, AB_EINVAL, "not a sphere discretisation");
    sphere *z = S(disc);
    /* the grid is uniform in longitude and its Gauss-Legendre latitudes are symmetric about
     * the equator: the longitude mean is the average over all rotations about z, and the
     * mirror z -> -z maps latitude i onto nlat - 1 - i */
    for (int i = 0; i < z->nlat; i++) {
        double m = 0.0;
        for (int j = 0; j < z->nlon; j++) m += v[(size_t)i * z->nlon + j];
        m /= z->nlon;
        for (int j = 0; j < z->nlon; j++) v[(size_t)i * z->nlon + j] = m;
    }
    if (mirror)
        for (int i = 0; i < z->nlat / 2; i++) {
            const int k = z->nlat - 1 - i;
            const double m = 0.5 * (v[(size_t)i * z->nlon] + v[(size_t)k * z->nlon]);
            for (int j = 0; j < z->nlon; j++) v[(size_t)i * z->nlon + j] = v[(size_t)k * z->nlon + j] = m;
        }
    return AB_OK;
}
