/* Reference solver for the zonal 1-cluster (see ref_cluster.h and docs/testing.md, "The
 * 1-cluster reference"): Nystrom discretisation in the polar angle on adaptive panels. */
#include "ref_cluster.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nodes per panel of the working grid and of the second (checking) resolution. */
#define RC_P 16
#define RC_P_CHECK 24
/* A panel is split while a top Legendre coefficient of some integrand on it, weighted by
 * its effect on u at a node carrying mass, exceeds this (docs/testing.md). */
#define RC_TOL_PANEL 1e-15
/* Coefficients are not asked to go below this multiple of the noise of the panel's sum. */
#define RC_NOISE 4.0
#define RC_MAX_POINTS 6000
#define RC_MAX_REFINE 30
#define RC_MAX_NEWTON 60
/* Newton stops when max |F_i| / (1 + |u_i|) is below this, or once below
 * max(RC_STALL, 1e3 eps max|Phi/kappa|) when a full step no longer halves it (the rounding
 * floor of u = Phi/kappa - log Z). */
#define RC_TOL_NEWTON 2e-15
#define RC_STALL 1e-10
/* Widest panel anywhere: keeps the far field (negligible mass) represented. */
#define RC_MAX_WIDTH 0.3

static const double PI = 3.14159265358979323846;

/* ---------------------------------------------------------------------------------- */
/* Gauss-Legendre rule on [-1, 1] by Newton on the three-term recurrence. */
static void gauss_legendre(int p, double *x, double *w)
{
    for (int i = 0; i < p; i++) {
        double z = cos(PI * (i + 0.75) / (p + 0.5)), dp = 0.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= p; k++) {
                double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = p * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-16) break;
        }
        {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= p; k++) {
                double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = p * (z * p1 - p0) / (z * z - 1.0);
        }
        x[i] = -z;
        w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
}

/* Legendre P_k at x. */
static double legendre(int k, double x)
{
    if (k == 0) return 1.0;
    double p0 = 1.0, p1 = x;
    for (int j = 2; j <= k; j++) {
        double p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
    }
    return p1;
}

/* ---------------------------------------------------------------------------------- */
/* The angular factor G_mu(z) = E[e^{z c}] under c ~ w_{2mu+3}: log G_mu(z) - z. */

/* Power series of 0F1(; mu+1; z^2/4): all terms positive, so relative accuracy ~ eps times
 * the number of terms. Returns NAN if more than maxterms would be needed. */
static double lgs_series(double mu, double z, int maxterms)
{
    double q = 0.25 * z * z, term = 1.0, sum = 1.0;
    for (int k = 1; k <= maxterms; k++) {
        term *= q / (k * (mu + k));
        sum += term;
        if (term < 1e-17 * sum && q < 0.5 * k * (mu + k)) return log(sum) - z;
    }
    return NAN;
}

/* Hankel expansion e^{-z} I_mu(z) ~ (2 pi z)^{-1/2} sum_k (-1)^k a_k(mu) / z^k, used only
 * while its terms fall to 1e-17 before they start to grow (then the neglected e^{-2z}
 * part is also below that, as z >= 40). NAN otherwise. */
static double lgs_hankel(double mu, double z)
{
    double m4 = 4.0 * mu * mu, term = 1.0, sum = 1.0, prev = 1.0;
    for (int k = 1; k < 200; k++) {
        term *= -(m4 - (double)(2 * k - 1) * (2 * k - 1)) / (8.0 * k * z);
        sum += term;
        if (fabs(term) < 1e-17 * fabs(sum)) {
            if (sum <= 0.0) return NAN;
            return lgamma(mu + 1.0) + mu * log(2.0 / z) + log(sum) - 0.5 * log(2.0 * PI * z);
        }
        if (fabs(term) > prev && k > 1) return NAN;
        prev = fabs(term);
    }
    return NAN;
}

/* log int_0^pi e^{z (cos phi - 1)} sin^{2mu} phi dphi by panels one Gaussian width wide. */
static double log_int_quad(double mu, double z)
{
    /* c = cos phi: G_mu(z) = int_0^pi e^{z cos phi} sin^{2mu} phi dphi / (the same at z = 0);
     * the log integrand f is unimodal with peak at cos phi* solving z c^2 + 2 mu c - z = 0.
     * Panels one Gaussian width wide cover where f > f* - 80. */
    double x[16], w[16];
    gauss_legendre(16, x, w);
    double two_mu = 2.0 * mu;
    double cstar = z > 0.0 ? (-mu + sqrt(mu * mu + z * z)) / z : (mu > 0.0 ? 0.0 : 1.0);
    double phis = acos(fmin(1.0, fmax(-1.0, cstar)));
    double sn = sin(phis);
    double curv = z * cstar + (sn > 0.0 ? two_mu / (sn * sn) : 0.0);
    double h = curv > 16.0 ? 1.0 / sqrt(curv) : 0.25;
    int npan = (int)ceil(PI / h);
    h = PI / npan;
    /* log sum exp over all panels, skipping those wholly below the cut */
    double acc = 0.0, ref = 0.0;
    int have = 0;
    for (int pnl = 0; pnl < npan; pnl++) {
        double a = pnl * h, b = a + h;
        /* unimodal: the panel maximum is at the end nearer phi* (or phi* itself) */
        double pm = phis < a ? a : (phis > b ? b : phis);
        double fm = z * (cos(pm) - 1.0) + (two_mu > 0.0 ? two_mu * log(fmax(sin(pm), 1e-300)) : 0.0);
        if (have && fm < ref - 80.0) continue;
        for (int q = 0; q < 16; q++) {
            double ph = 0.5 * (a + b) + 0.5 * h * x[q];
            double f = z * (cos(ph) - 1.0) + (two_mu > 0.0 ? two_mu * log(sin(ph)) : 0.0) + log(0.5 * h * w[q]);
            if (!have) {
                ref = f;
                acc = 1.0;
                have = 1;
            } else if (f > ref) {
                acc = acc * exp(ref - f) + 1.0;
                ref = f;
            } else {
                acc += exp(f - ref);
            }
        }
    }
    return ref + log(acc);
}

double ref_cluster_log_G_scaled_quad(double mu, double z)
{
    /* normalised by the same rule at z = 0 (not by Gamma functions, whose logarithms lose
     * ~eps |lgamma| ~ 1e-12 absolute at mu ~ 2000) */
    return log_int_quad(mu, z) - log_int_quad(mu, 0.0);
}

double ref_cluster_log_G_scaled(double mu, double z)
{
    if (mu < 0.0) return log1p(exp(-2.0 * z)) - log(2.0); /* d = 2: cosh z */
    if (z <= 0.0) return 0.0;
    /* series while it needs at most a few hundred terms: its terms peak at k* with
     * k* (mu + k*) = z^2 / 4 */
    double kstar = 0.5 * (sqrt(mu * mu + z * z) - mu);
    if (kstar + 12.0 * sqrt(kstar) + 30.0 <= 400.0 && z <= 600.0) {
        double v = lgs_series(mu, z, 500);
        if (isfinite(v)) return v;
    }
    if (z >= 40.0) {
        double v = lgs_hankel(mu, z);
        if (isfinite(v)) return v;
    }
    return ref_cluster_log_G_scaled_quad(mu, z);
}

double ref_cluster_kappa1(int model, int d, double beta)
{
    double nu = 0.5 * d - 1.0;
    if (beta == 0.0) return 1.0 / d;
    double g1 = ref_cluster_log_G_scaled(nu + 1.0, beta);
    if (model == REF_CLUSTER_SA) return exp(g1 - ref_cluster_log_G_scaled(nu, beta)) / (2.0 * (nu + 1.0));
    return exp(g1 + beta) / (2.0 * (nu + 1.0));
}

/* ---------------------------------------------------------------------------------- */
/* Grid: panels [a_k, a_{k+1}] of [0, pi] with p Gauss-Legendre nodes each. */

typedef struct {
    int np, p, n;
    double *edge;  /* np + 1 */
    double *th, *logW, *ct, *omc, *s2; /* theta, log weight, cos, 1 - cos, sin^2 */
} grid;

static void grid_free(grid *g)
{
    free(g->edge);
    free(g->th);
    free(g->logW);
    free(g->ct);
    free(g->omc);
    free(g->s2);
    memset(g, 0, sizeof *g);
}

static int grid_build(grid *g, const double *edge, int np, int p, int d)
{
    double x[32], w[32];
    gauss_legendre(p, x, w);
    g->np = np;
    g->p = p;
    g->n = np * p;
    g->edge = malloc((size_t)(np + 1) * sizeof(double));
    g->th = malloc((size_t)g->n * sizeof(double));
    g->logW = malloc((size_t)g->n * sizeof(double));
    g->ct = malloc((size_t)g->n * sizeof(double));
    g->omc = malloc((size_t)g->n * sizeof(double));
    g->s2 = malloc((size_t)g->n * sizeof(double));
    if (!g->edge || !g->th || !g->logW || !g->ct || !g->omc || !g->s2) return -1;
    memcpy(g->edge, edge, (size_t)(np + 1) * sizeof(double));
    /* zonal measure in theta: sin^{d-2} theta dtheta / B, B = sqrt(pi) Gamma((d-1)/2) / Gamma(d/2) */
    double logB = 0.5 * log(PI) + lgamma(0.5 * (d - 1)) - lgamma(0.5 * d);
    for (int k = 0; k < np; k++) {
        double a = edge[k], b = edge[k + 1];
        for (int q = 0; q < p; q++) {
            int j = k * p + q;
            double th = 0.5 * (a + b) + 0.5 * (b - a) * x[q];
            double sh = sin(0.5 * th);
            g->th[j] = th;
            g->ct[j] = cos(th);
            g->omc[j] = 2.0 * sh * sh;
            g->s2[j] = sin(th) * sin(th);
            g->logW[j] = log(0.5 * (b - a) * w[q]) + (d - 2) * log(sin(th)) - logB;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* The problem and the Nystrom map u -> T(u) = Phi[rho]/kappa - log Z. */

typedef struct {
    int model, d;
    double beta, kappa, mu;
} problem;

static double lse(const double *v, int n)
{
    double m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    if (!isfinite(m)) return m;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += exp(v[i] - m);
    return m + log(s);
}

/* Log kernel between target angle ti and source angle sj: beta cos(ti - sj) + log G - z;
 * written with the angle difference so that beta t s + z never cancels. */
static double log_kernel(const problem *pr, double ti, double sj)
{
    double z = pr->beta * sin(ti) * sin(sj);
    if (z < 0.0) z = 0.0;
    return pr->beta * cos(ti - sj) + ref_cluster_log_G_scaled(pr->mu, z);
}

/* Source grid data needed to evaluate Phi anywhere. */
typedef struct {
    const problem *pr;
    const grid *g;
    const double *u;
    double lognorm;   /* log sum W e^u */
    double m;         /* first moment (beta = 0) */
} source;

static void source_init(source *s, const problem *pr, const grid *g, const double *u, double *work)
{
    s->pr = pr;
    s->g = g;
    s->u = u;
    for (int j = 0; j < g->n; j++) work[j] = u[j] + g->logW[j];
    s->lognorm = lse(work, g->n);
    double m = 0.0;
    for (int j = 0; j < g->n; j++) m += g->ct[j] * exp(work[j] - s->lognorm);
    s->m = m;
}

/* v = Phi/kappa (up to a constant) at target angles th[0..nt-1], from the source; lk is
 * the nt x n log-kernel matrix (NULL at beta = 0). L returns log K rho_hat (normalised rho). */
static void eval_v(const source *s, const double *lk, const double *th, int nt, double *v, double *L, double *work)
{
    const problem *pr = s->pr;
    const grid *g = s->g;
    int n = g->n;
    for (int i = 0; i < nt; i++) {
        if (pr->beta == 0.0) {
            v[i] = cos(th[i]) * s->m / pr->kappa;
            if (L) L[i] = 0.0;
            continue;
        }
        const double *row = lk + (size_t)i * n;
        for (int j = 0; j < n; j++) work[j] = row[j] + s->u[j] + g->logW[j];
        double Li = lse(work, n) - s->lognorm;
        if (L) L[i] = Li;
        if (pr->model == REF_CLUSTER_SA)
            v[i] = Li / (pr->kappa * pr->beta);
        else
            v[i] = exp(Li) / (pr->kappa * pr->beta);
    }
}

static int build_kernel(const problem *pr, const double *th, int nt, const grid *g, double **out)
{
    *out = NULL;
    if (pr->beta == 0.0) return 0;
    double *lk = malloc((size_t)nt * g->n * sizeof(double));
    if (!lk) return -1;
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < g->n; j++) lk[(size_t)i * g->n + j] = log_kernel(pr, th[i], g->th[j]);
    *out = lk;
    return 0;
}

/* Residual F = u - T(u) on grid g with kernel lk (n x n). Also v, L and p (normalised
 * weights of the new density exp(T) W). */
static void residual(const problem *pr, const grid *g, const double *lk, const double *u, double *F, double *v,
                     double *L, double *pw, double *work)
{
    int n = g->n;
    source s;
    source_init(&s, pr, g, u, work);
    eval_v(&s, lk, g->th, n, v, L, work);
    for (int i = 0; i < n; i++) work[i] = v[i] + g->logW[i];
    double lz = lse(work, n);
    for (int i = 0; i < n; i++) {
        F[i] = u[i] - (v[i] - lz);
        if (pw) pw[i] = exp(work[i] - lz);
    }
}

static double resid_norm(const double *F, const double *u, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; i++) {
        double e = fabs(F[i]) / (1.0 + fabs(u[i]));
        if (e > m || isnan(e)) m = isnan(e) ? INFINITY : e;
    }
    return m;
}

static void observe(const problem *pr, const grid *g, const double *u, double *r, double *omr, double *S, double *omS);

/* Residual of the bordered system in r-mode (omr_fix > 0): F(u) and E = (1 - r(u)) - omr_fix,
 * the latter scaled by 1/omr_fix so both are relative. */
static double constraint(const grid *g, const double *u, double omr_fix, double *work)
{
    for (int j = 0; j < g->n; j++) work[j] = u[j] + g->logW[j];
    double ln = lse(work, g->n), omr = 0.0;
    for (int j = 0; j < g->n; j++) omr += g->omc[j] * exp(work[j] - ln);
    return (omr - omr_fix) / omr_fix;
}

/* Damped Newton on F(u) = 0 with the analytic Jacobian J = I - (I - 1 p^T) Dv. With
 * omr_fix > 0 (r-mode), log kappa is an extra unknown and 1 - r(u) = omr_fix an extra
 * equation (the branch parameterised by r; both coexisting clusters are reachable). */
static int newton(problem *pr, const grid *g, const double *lk, double *u, double omr_fix, int *iters, double *res,
                  char *msg, size_t msglen)
{
    int n = g->n, rmode = omr_fix > 0.0, m = n + rmode;
    double *F = malloc((size_t)m * sizeof(double)), *v = malloc((size_t)n * sizeof(double));
    double *L = malloc((size_t)n * sizeof(double)), *pw = malloc((size_t)n * sizeof(double));
    double *work = malloc((size_t)n * sizeof(double)), *ut = malloc((size_t)n * sizeof(double));
    double *Ft = malloc((size_t)m * sizeof(double)), *q = malloc((size_t)n * sizeof(double));
    double *J = malloc((size_t)m * m * sizeof(double)), *cs = malloc((size_t)n * sizeof(double));
    double *dx = malloc((size_t)m * sizeof(double));
    lapack_int *ipiv = malloc((size_t)m * sizeof(lapack_int));
    int rc = -1, it = 0;
    double nf = INFINITY;
    if (!F || !v || !L || !pw || !work || !ut || !Ft || !q || !J || !cs || !dx || !ipiv) {
        snprintf(msg, msglen, "out of memory (n = %d)", n);
        goto done;
    }
    residual(pr, g, lk, u, F, v, L, pw, work);
    if (rmode) F[n] = constraint(g, u, omr_fix, work);
    nf = resid_norm(F, u, n);
    if (rmode && fabs(F[n]) > nf) nf = fabs(F[n]);
    for (it = 0; it < RC_MAX_NEWTON; it++) {
        if (getenv("RC_DEBUG")) {
            double r, omr, S, omS;
            observe(pr, g, u, &r, &omr, &S, &omS);
            fprintf(stderr, "  newton n=%d it=%d res=%.3e r=%.15f kappa=%.15g\n", n, it, nf, r, pr->kappa);
        }
        if (nf < RC_TOL_NEWTON) {
            rc = 0;
            break;
        }
        /* Dv_ij = dv_i/du_j, then dF/du = I - (Dv - 1 (p^T Dv)); row-major with stride m */
        source s;
        source_init(&s, pr, g, u, work);
        for (int j = 0; j < n; j++) q[j] = exp(u[j] + g->logW[j] - s.lognorm);
        double kb = pr->kappa * pr->beta;
        for (int i = 0; i < n; i++) {
            double *Ji = J + (size_t)i * m;
            if (pr->beta == 0.0) {
                for (int j = 0; j < n; j++) Ji[j] = g->ct[i] * (g->ct[j] - s.m) * q[j] / pr->kappa;
            } else {
                const double *row = lk + (size_t)i * n;
                double fac = pr->model == REF_CLUSTER_SA ? 1.0 / kb : exp(L[i]) / kb;
                for (int j = 0; j < n; j++) {
                    double a = exp(row[j] + u[j] + g->logW[j] - s.lognorm - L[i]);
                    Ji[j] = fac * (a - q[j]);
                }
            }
        }
        for (int j = 0; j < n; j++) cs[j] = 0.0;
        for (int i = 0; i < n; i++) {
            const double *Ji = J + (size_t)i * m;
            for (int j = 0; j < n; j++) cs[j] += pw[i] * Ji[j];
        }
        for (int i = 0; i < n; i++) {
            double *Ji = J + (size_t)i * m;
            for (int j = 0; j < n; j++) Ji[j] = -(Ji[j] - cs[j]);
            Ji[i] += 1.0;
        }
        if (rmode) {
            /* dF_i/dlog kappa = v_i - sum_k p_k v_k (v is proportional to 1/kappa);
             * dE/du_j = q_j (omc_j - omr) / omr_fix */
            double pv = 0.0, omr = 0.0;
            for (int k = 0; k < n; k++) pv += pw[k] * v[k];
            for (int i = 0; i < n; i++) J[(size_t)i * m + n] = v[i] - pv;
            for (int j = 0; j < n; j++) omr += q[j] * g->omc[j];
            for (int j = 0; j < n; j++) J[(size_t)n * m + j] = q[j] * (g->omc[j] - omr) / omr_fix;
            J[(size_t)n * m + n] = 0.0;
        }
        for (int i = 0; i < m; i++) dx[i] = -F[i];
        if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, m, 1, J, m, ipiv, dx, 1) != 0) {
            snprintf(msg, msglen, "singular Newton matrix (n = %d, iteration %d)", n, it);
            goto done;
        }
        double lam = 1.0, nt = INFINITY, k0 = pr->kappa;
        if (rmode && fabs(dx[n]) > 0.5) lam = 0.5 / fabs(dx[n]); /* kappa changes by at most e^0.5 a step */
        for (int ls = 0; ls < 30; ls++, lam *= 0.5) {
            for (int i = 0; i < n; i++) ut[i] = u[i] + lam * dx[i];
            if (rmode) pr->kappa = k0 * exp(lam * dx[n]);
            residual(pr, g, lk, ut, Ft, v, L, pw, work);
            nt = resid_norm(Ft, ut, n);
            if (rmode) {
                Ft[n] = constraint(g, ut, omr_fix, work);
                if (fabs(Ft[n]) > nt) nt = fabs(Ft[n]);
            }
            if (nt < nf) break;
        }
        /* the achievable residual: rounding of v = Phi/kappa + const, ~eps max|v| */
        double vscale = 0.0;
        for (int i = 0; i < n; i++) vscale = fmax(vscale, fabs(v[i]));
        double stall = fmax(RC_STALL, 1e3 * 2.2e-16 * vscale);
        if (nf < stall && !(nt < 0.5 * nf)) {
            /* rounding floor: a full step no longer halves the residual */
            if (nt < nf) {
                memcpy(u, ut, (size_t)n * sizeof(double));
                nf = nt;
            } else {
                pr->kappa = k0;
            }
            rc = 0;
            it++;
            break;
        }
        if (!(nt < nf)) {
            pr->kappa = k0;
            snprintf(msg, msglen, "Newton line search failed at residual %.3g (n = %d)", nf, n);
            goto done;
        }
        memcpy(u, ut, (size_t)n * sizeof(double));
        memcpy(F, Ft, (size_t)m * sizeof(double));
        nf = nt;
    }
    if (rc != 0 && it >= RC_MAX_NEWTON) snprintf(msg, msglen, "Newton did not converge (residual %.3g)", nf);
done:
    *iters = it;
    *res = nf;
    free(F);
    free(v);
    free(L);
    free(pw);
    free(work);
    free(ut);
    free(Ft);
    free(q);
    free(J);
    free(cs);
    free(dx);
    free(ipiv);
    return rc;
}

/* Nystrom interpolation: u on grid gn from the state u on grid g. */
static int interpolate(const problem *pr, const grid *g, const double *u, const grid *gn, double *un)
{
    double *lk = NULL;
    double *work = malloc((size_t)(g->n > gn->n ? g->n : gn->n) * sizeof(double));
    if (!work || build_kernel(pr, gn->th, gn->n, g, &lk)) {
        free(work);
        return -1;
    }
    source s;
    source_init(&s, pr, g, u, work);
    eval_v(&s, lk, gn->th, gn->n, un, NULL, work);
    for (int i = 0; i < gn->n; i++) work[i] = un[i] + gn->logW[i];
    double lz = lse(work, gn->n);
    for (int i = 0; i < gn->n; i++) un[i] -= lz;
    free(lk);
    free(work);
    return 0;
}

/* Panels to split: for each panel, the top two Legendre coefficients (times the half
 * width, i.e. as a share of the integral) of (a) the kernel integrand of K rho at every
 * target node, weighted by the effect of a relative error of K rho there on u (SA
 * 1/(kappa beta), USA K rho/(kappa beta)) times the target's mass, and (b) the mass
 * integrands rho and (1 - t) rho / (1 - r). Coefficients are not asked to fall below the
 * noise of u itself (du, the absolute Newton residual, ~eps max|Phi| / kappa) times the
 * panel's share. Returns the number flagged. */
static int flag_panels(const problem *pr, const grid *g, const double *lk, const double *u, double du, int *flag)
{
    int n = g->n, p = g->p, np = g->np, nflag = 0;
    double x[32], w[32], P1[32], P2[32];
    gauss_legendre(p, x, w);
    for (int qd = 0; qd < p; qd++) {
        P1[qd] = 0.5 * (2 * p - 1) * legendre(p - 1, x[qd]) * w[qd];
        P2[qd] = 0.5 * (2 * p - 3) * legendre(p - 2, x[qd]) * w[qd];
    }
    double *work = malloc((size_t)n * sizeof(double)), *q = malloc((size_t)n * sizeof(double));
    double *a = malloc((size_t)n * sizeof(double));
    if (!work || !q || !a) {
        free(work);
        free(q);
        free(a);
        return -1;
    }
    source s;
    source_init(&s, pr, g, u, work);
    double noise = RC_NOISE * 2 * p * (1e-16 + du);
    double omr = 0.0;
    for (int j = 0; j < n; j++) {
        q[j] = exp(u[j] + g->logW[j] - s.lognorm);
        omr += q[j] * g->omc[j];
    }
    for (int k = 0; k < np; k++) flag[k] = 0;
    /* the coefficient c_k of f on a panel times h/2 is sum_q (2k+1)/2 P_k(x_q) w_q f_q h/2,
     * and w_q f_q h/2 is the node's share (a_j = A_ij or q_j): divide out w_q */
    for (int k = 0; k < np; k++) {
        double c1 = 0.0, c2 = 0.0, d1 = 0.0, d2 = 0.0, sm = 0.0, smo = 0.0;
        for (int qd = 0; qd < p; qd++) {
            int j = k * p + qd;
            double mq = q[j] / w[qd];
            c1 += P1[qd] * mq;
            c2 += P2[qd] * mq;
            d1 += P1[qd] * mq * g->omc[j];
            d2 += P2[qd] * mq * g->omc[j];
            sm += q[j];
            smo += q[j] * g->omc[j];
        }
        double t1 = fmax(fabs(c1), fabs(c2)), t2 = fmax(fabs(d1), fabs(d2)) / omr;
        if (t1 > fmax(RC_TOL_PANEL, noise * sm) || t2 > fmax(RC_TOL_PANEL, noise * smo / omr))
            flag[k] = 1;
    }
    if (pr->beta > 0.0) {
        for (int i = 0; i < n; i++) {
            if (q[i] < 1e-300) continue;
            const double *row = lk + (size_t)i * n;
            for (int j = 0; j < n; j++) work[j] = row[j] + u[j] + g->logW[j];
            double Li = lse(work, n);
            double sens = pr->model == REF_CLUSTER_SA ? 1.0 / (pr->kappa * pr->beta)
                                                      : exp(Li - s.lognorm) / (pr->kappa * pr->beta);
            double wt = sens * q[i];
            for (int j = 0; j < n; j++) a[j] = exp(work[j] - Li);
            for (int k = 0; k < np; k++) {
                if (flag[k]) continue;
                double c1 = 0.0, c2 = 0.0, sm = 0.0;
                for (int qd = 0; qd < p; qd++) {
                    int j = k * p + qd;
                    c1 += P1[qd] * a[j] / w[qd];
                    c2 += P2[qd] * a[j] / w[qd];
                    sm += a[j];
                }
                double t = fmax(fabs(c1), fabs(c2));
                if (t > fmax(RC_TOL_PANEL / wt, noise * sm)) flag[k] = 1;
            }
        }
    }
    for (int k = 0; k < np; k++) {
        if (g->edge[k + 1] - g->edge[k] > RC_MAX_WIDTH) flag[k] = 1;
        nflag += flag[k];
    }
    free(work);
    free(q);
    free(a);
    return nflag;
}

/* Observables of the state u on g. */
static void observe(const problem *pr, const grid *g, const double *u, double *r, double *omr, double *S, double *omS)
{
    double *work = calloc((size_t)g->n, sizeof(double));
    if (!work) {
        *r = *omr = *S = *omS = NAN;
        return;
    }
    for (int j = 0; j < g->n; j++) work[j] = u[j] + g->logW[j];
    double ln = lse(work, g->n);
    double a = 0.0, b = 0.0, c = 0.0, e = 0.0;
    int d = pr->d;
    for (int j = 0; j < g->n; j++) {
        double qj = exp(work[j] - ln);
        a += qj * g->ct[j];
        b += qj * g->omc[j];
        c += qj * (d * g->ct[j] * g->ct[j] - 1.0) / (d - 1);
        e += qj * d * g->s2[j] / (d - 1);
    }
    *r = a;
    *omr = b;
    *S = c;
    *omS = e;
    free(work);
}

/* <t> under e^{alpha t} w_d(t): I_{d/2}(alpha) / I_{d/2-1}(alpha), by the continued fraction
 * (backward recurrence) while alpha is moderate, else its large-alpha expansion. */
static double langevin(int d, double alpha)
{
    double nu = 0.5 * d - 1.0;
    if (alpha > 1e5) return 1.0 - (d - 1) / (2.0 * alpha) + (d - 1) * (d - 3) / (8.0 * alpha * alpha);
    int depth = (int)(2.0 * alpha + 4.0 * fabs(nu) + 200.0);
    double f = 0.0;
    for (int k = depth; k >= 1; k--) f = 1.0 / (2.0 * (nu + k) / alpha + f);
    return f;
}

/* The alpha of the guess e^{alpha (t - 1)} with <t> = r (bisection in log alpha). */
static double alpha_of_r(int d, double r)
{
    double lo = log(1e-8), hi = log(1e15);
    for (int it = 0; it < 100; it++) {
        double mid = 0.5 * (lo + hi);
        if (langevin(d, exp(mid)) < r)
            lo = mid;
        else
            hi = mid;
    }
    return exp(0.5 * (lo + hi));
}

/* Initial panels: width a0 (one Gaussian width of the guess) on theta_p +- 20 a0, where
 * the guess carries all but e^{-200} of its mass, growing by 1.5 per panel on both sides
 * up to RC_MAX_WIDTH. */
static int initial_edges(double a0, double thp, double **edge, int *np)
{
    double lo = fmax(0.0, thp - 20.0 * a0), hi = fmin(PI, thp + 20.0 * a0);
    int cap = 64, k = 0;
    double *e = malloc((size_t)cap * sizeof(double));
    if (!e) return -1;
    /* below lo, built downwards then reversed into place */
    double h = a0, x = lo;
    e[k++] = lo;
    while (x > 0.0) {
        h = fmin(h * 1.5, RC_MAX_WIDTH);
        x = fmax(0.0, x - h);
        if (x < 0.3 * h) x = 0.0;
        if (k + 2 > cap) {
            double *t = realloc(e, (size_t)(cap *= 2) * sizeof(double));
            if (!t) return free(e), -1;
            e = t;
        }
        e[k++] = x;
    }
    for (int i = 0; i < k / 2; i++) {
        double t = e[i];
        e[i] = e[k - 1 - i];
        e[k - 1 - i] = t;
    }
    x = lo;
    h = a0;
    while (x < PI) {
        if (x >= hi - 1e-12 * a0) h = fmin(h * 1.5, RC_MAX_WIDTH);
        x = fmin(PI, x + h);
        if (PI - x < 0.3 * h) x = PI;
        if (k + 2 > cap) {
            double *t = realloc(e, (size_t)(cap *= 2) * sizeof(double));
            if (!t) return free(e), -1;
            e = t;
        }
        e[k++] = x;
    }
    *edge = e;
    *np = k - 1;
    return 0;
}

/* Where e^{alpha (cos theta - 1)} sin^{d-2} theta peaks: alpha (1 - c^2) = (d - 2) c. */
static double theta_peak(double alpha, int d)
{
    if (d <= 2) return 0.0;
    double dd = d - 2.0, c = 2.0 * alpha / (dd + sqrt(dd * dd + 4.0 * alpha * alpha));
    return acos(fmin(1.0, c));
}

/* A grid adapted to the profile e^{alpha (t - 1)} and the kernel width beta^{-1/2}. */
static int grid_for(double alpha, int d, double beta, grid *g)
{
    double a0 = fmin(0.5, fmin(1.0 / sqrt(alpha), beta > 0.0 ? 1.0 / sqrt(beta) : 1.0));
    double *edge;
    int np;
    if (initial_edges(a0, theta_peak(alpha, d), &edge, &np)) return -1;
    int rc = grid_build(g, edge, np, RC_P, d);
    free(edge);
    return rc;
}

static int split_edges(const grid *g, const int *flag, double **edge, int *np)
{
    int n2 = g->np;
    for (int k = 0; k < g->np; k++) n2 += flag[k];
    double *e = malloc((size_t)(n2 + 1) * sizeof(double));
    if (!e) return -1;
    int m = 0;
    e[0] = 0.0;
    for (int k = 0; k < g->np; k++) {
        if (flag[k]) e[++m] = 0.5 * (g->edge[k] + g->edge[k + 1]);
        e[++m] = g->edge[k + 1];
    }
    *edge = e;
    *np = n2;
    return 0;
}

/* r-mode start: the kappa at which one Picard step from u keeps 1 - r = omr_fix (v is
 * proportional to 1/kappa, so one kernel evaluation and a bisection in log kappa). */
static int kappa_for_r(problem *pr, const grid *g, const double *u, double omr_fix)
{
    int n = g->n;
    double *lk = NULL, *v = malloc((size_t)n * sizeof(double)), *work = malloc((size_t)n * sizeof(double));
    if (!v || !work || build_kernel(pr, g->th, n, g, &lk)) {
        free(v);
        free(work);
        return 0;
    }
    source s;
    source_init(&s, pr, g, u, work);
    eval_v(&s, lk, g->th, n, v, NULL, work);
    for (int i = 0; i < n; i++) v[i] *= pr->kappa;
    double lo = log(pr->kappa) - 40.0, hi = log(pr->kappa) + 40.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), k = exp(mid);
        for (int i = 0; i < n; i++) work[i] = v[i] / k + g->logW[i];
        double ln = lse(work, n), omr = 0.0;
        for (int i = 0; i < n; i++) omr += g->omc[i] * exp(work[i] - ln);
        if (omr < omr_fix)
            lo = mid; /* too sharp: more noise */
        else
            hi = mid;
    }
    pr->kappa = exp(0.5 * (lo + hi));
    free(lk);
    free(v);
    free(work);
    return 1;
}

/* Lead the guess onto the cluster selected by r_guess: solve the branch at fixed r (kappa
 * unknown), then secant in x = log(1 - r) on log kappa(r) = log kappa_target, each solve
 * warm-started; when Newton fails on a grid made for another r, re-grid for the new r and
 * interpolate the last converged state. Leaves pr->kappa at the target; *g and *u may be
 * replaced. Returns 1 on success. */
static int prestep_r(problem *pr, grid *g, double **u, double r_guess, char *msg, size_t msglen)
{
    double kt = pr->kappa, lkt = log(kt);
    double *lk = NULL, *ulast = NULL, klast;
    int iters, ok = 0, regrids = 0;
    double res;
    if (!kappa_for_r(pr, g, *u, 1.0 - r_guess) || build_kernel(pr, g->th, g->n, g, &lk)) {
        pr->kappa = kt;
        snprintf(msg, msglen, "out of memory");
        return 0;
    }
    klast = pr->kappa;
    double x0 = log(1.0 - r_guess), y0 = 0.0, x = x0, xlast = x0;
    int halvings = 0;
    for (int k = 0; k < 60; k++) {
        free(ulast);
        ulast = malloc((size_t)g->n * sizeof(double));
        if (!ulast) break;
        memcpy(ulast, *u, (size_t)g->n * sizeof(double));
        double kbefore = pr->kappa;
        if (newton(pr, g, lk, *u, exp(x), &iters, &res, msg, msglen)) {
            if (k > 0 && halvings < 6) {
                /* a shorter step in r from the last converged state */
                halvings++;
                x = 0.5 * (x + xlast);
                memcpy(*u, ulast, (size_t)g->n * sizeof(double));
                pr->kappa = kbefore;
                k--;
                msg[0] = 0;
                continue;
            }
            /* re-grid for this r from the last converged state, and retry */
            grid gn = {0};
            double *un = NULL;
            if (regrids++ >= 8 || grid_for(alpha_of_r(pr->d, 1.0 - exp(x)), pr->d, pr->beta, &gn) ||
                !(un = malloc((size_t)gn.n * sizeof(double)))) {
                grid_free(&gn);
                break;
            }
            pr->kappa = klast;
            if (interpolate(pr, g, ulast, &gn, un)) {
                free(un);
                grid_free(&gn);
                break;
            }
            free(*u);
            *u = un;
            grid_free(g);
            *g = gn;
            free(lk);
            lk = NULL;
            if (build_kernel(pr, g->th, g->n, g, &lk)) break;
            pr->kappa = kbefore;
            k--;
            msg[0] = 0;
            continue;
        }
        klast = pr->kappa;
        xlast = x;
        halvings = 0;
        double y = log(pr->kappa) - lkt;
        if (getenv("RC_DEBUG")) fprintf(stderr, "  prestep r = %.15f kappa = %.15g\n", 1.0 - exp(x), pr->kappa);
        if (fabs(y) < 1e-8) {
            ok = 1;
            break;
        }
        double xn;
        if (k == 0) {
            /* first step from the small-kappa law 1 - r ~ c kappa */
            xn = x - fmax(-0.5, fmin(0.5, y));
        } else {
            double sl = (y - y0) / (x - x0);
            xn = x - y / sl;
            if (!isfinite(xn) || sl == 0.0) xn = x - fmax(-0.5, fmin(0.5, y));
        }
        if (xn > x + 0.3) xn = x + 0.3;
        if (xn < x - 0.3) xn = x - 0.3;
        if (xn > -1e-9) xn = 0.5 * (x - 1e-9); /* keep r > 0 */
        x0 = x;
        y0 = y;
        x = xn;
    }
    pr->kappa = kt;
    free(lk);
    free(ulast);
    if (!ok && msg[0] == 0) snprintf(msg, msglen, "the secant on kappa(r) did not converge");
    return ok;
}

static int fail(ref_cluster_result *out, int status, const char *msg)
{
    out->status = status;
    snprintf(out->message, sizeof out->message, "%s", msg);
    return status;
}

/* Both entry points: kappa given (r_fix = 0) or r given (r_fix in (0, 1), kappa unknown,
 * started at the given kappa). */
static int solve(int model, int d, double beta, double kappa, double r_guess, double r_fix,
                 const ref_cluster_options *opt, ref_cluster_result *out)
{
    memset(out, 0, sizeof *out);
    out->r = out->S = out->kappa = NAN;
    int extra_split = opt ? opt->extra_split : 0;
    double omr_fix = r_fix > 0.0 ? 1.0 - r_fix : 0.0;
    if (r_fix > 0.0) r_guess = r_fix;
    if (model != REF_CLUSTER_SA && model != REF_CLUSTER_USA) return fail(out, 1, "model must be 0 (SA) or 1 (USA)");
    if (d < 2) return fail(out, 1, "d must be >= 2");
    if (!(beta >= 0.0) || !isfinite(beta)) return fail(out, 1, "beta must be finite and >= 0");
    if (!(kappa > 0.0) || !isfinite(kappa)) return fail(out, 1, "kappa must be finite and > 0");
    problem pr = {model, d, beta, kappa, 0.5 * (d - 3)};
    char msg[200] = "";

    /* the guess: alpha from r_guess, or the sharp-cluster default */
    double alpha;
    if (r_guess > 0.0 && r_guess < 1.0)
        alpha = alpha_of_r(d, r_guess);
    else
        alpha = model == REF_CLUSTER_SA || beta == 0.0 ? 1.0 / kappa : exp(fmin(beta, 600.0)) / kappa;

    grid g = {0};
    double *edge = NULL, *u = NULL, *lk = NULL;
    int iters = 0, status = 0;
    double res = 0.0;
    int *flag = NULL;
    if (grid_for(alpha, d, beta, &g)) return fail(out, 1, "out of memory");
    u = malloc((size_t)g.n * sizeof(double));
    if (!u) return fail(out, 1, "out of memory");
    for (int j = 0; j < g.n; j++) u[j] = -alpha * g.omc[j];
    if (omr_fix > 0.0 && !kappa_for_r(&pr, &g, u, omr_fix)) {
        free(u);
        grid_free(&g);
        return fail(out, 1, "out of memory");
    }
    if (omr_fix == 0.0 && r_guess > 0.0 && r_guess < 1.0 && !prestep_r(&pr, &g, &u, r_guess, msg, sizeof msg)) {
        char m2[256];
        snprintf(m2, sizeof m2, "no cluster near r = %g: %s", r_guess, msg);
        free(u);
        grid_free(&g);
        return fail(out, 2, m2);
    }

    for (int pass = 0;; pass++) {
        if (build_kernel(&pr, g.th, g.n, &g, &lk)) {
            status = fail(out, 1, "out of memory");
            break;
        }
        if (newton(&pr, &g, lk, u, omr_fix, &iters, &res, msg, sizeof msg)) {
            char m2[256];
            snprintf(m2, sizeof m2, "%s on %d points", msg, g.n);
            status = fail(out, 2, m2);
            break;
        }
        free(flag);
        flag = malloc((size_t)g.np * sizeof(int));
        if (!flag) {
            status = fail(out, 1, "out of memory");
            break;
        }
        double du = 0.0;
        {
            double *F = malloc((size_t)g.n * 5 * sizeof(double));
            if (!F) {
                status = fail(out, 1, "out of memory");
                break;
            }
            residual(&pr, &g, lk, u, F, F + g.n, F + 2 * g.n, F + 3 * g.n, F + 4 * g.n);
            for (int j = 0; j < g.n; j++)
                if (u[j] + g.logW[j] > -700.0 && fabs(F[j]) > du) du = fabs(F[j]);
            free(F);
        }
        int nf = flag_panels(&pr, &g, lk, u, du, flag);
        if (getenv("RC_DEBUG")) fprintf(stderr, "  refine: %d of %d panels flagged, du = %.3g\n", nf, g.np, du);
        if (nf < 0) {
            status = fail(out, 1, "out of memory");
            break;
        }
        if (nf == 0) break;
        if (pass >= RC_MAX_REFINE || g.n + nf * RC_P > RC_MAX_POINTS) {
            char m2[256];
            snprintf(m2, sizeof m2, "resolution not reached: %d of %d panels still under-resolved at %d points", nf, g.np,
                     g.n);
            status = fail(out, 3, m2);
            break;
        }
        grid gn = {0};
        int npn;
        double *un;
        if (split_edges(&g, flag, &edge, &npn) || grid_build(&gn, edge, npn, RC_P, d) ||
            !(un = malloc((size_t)gn.n * sizeof(double))) || interpolate(&pr, &g, u, &gn, un)) {
            status = fail(out, 1, "out of memory");
            break;
        }
        free(edge);
        edge = NULL;
        free(lk);
        lk = NULL;
        free(u);
        u = un;
        grid_free(&g);
        g = gn;
    }
    free(flag);
    free(lk);
    lk = NULL;
    if (status) {
        free(u);
        grid_free(&g);
        return status;
    }
    for (int k = 0; k < extra_split && !status; k++) {
        /* an independent panel layout for checking: every panel halved, then re-solved */
        grid gn = {0};
        int npn;
        double *un = NULL;
        int *all = malloc((size_t)g.np * sizeof(int));
        for (int j = 0; all && j < g.np; j++) all[j] = 1;
        if (!all || split_edges(&g, all, &edge, &npn) || grid_build(&gn, edge, npn, RC_P, d) ||
            !(un = malloc((size_t)gn.n * sizeof(double))) || interpolate(&pr, &g, u, &gn, un) ||
            build_kernel(&pr, gn.th, gn.n, &gn, &lk)) {
            status = fail(out, 1, "out of memory");
        } else if (newton(&pr, &gn, lk, un, omr_fix, &iters, &res, msg, sizeof msg)) {
            status = fail(out, 2, msg);
        }
        free(all);
        free(edge);
        edge = NULL;
        free(lk);
        lk = NULL;
        free(u);
        u = un;
        grid_free(&g);
        g = gn;
    }
    if (status) {
        free(u);
        grid_free(&g);
        return status;
    }
    double r1, omr1, S1, omS1, k1 = pr.kappa;
    observe(&pr, &g, u, &r1, &omr1, &S1, &omS1);

    /* the checking resolution: same panels, RC_P_CHECK nodes each */
    grid g2 = {0};
    double *u2 = NULL;
    if (grid_build(&g2, g.edge, g.np, RC_P_CHECK, d) || !(u2 = malloc((size_t)g2.n * sizeof(double))) ||
        interpolate(&pr, &g, u, &g2, u2) || build_kernel(&pr, g2.th, g2.n, &g2, &lk)) {
        status = fail(out, 1, "out of memory");
    } else if (newton(&pr, &g2, lk, u2, omr_fix, &iters, &res, msg, sizeof msg)) {
        char m2[256];
        snprintf(m2, sizeof m2, "%s on the checking grid (%d points)", msg, g2.n);
        status = fail(out, 2, m2);
    }
    if (!status) {
        double r2, omr2, S2, omS2;
        observe(&pr, &g2, u2, &r2, &omr2, &S2, &omS2);
        out->r = r2;
        out->one_minus_r = omr2;
        out->S = S2;
        out->one_minus_S = omS2;
        out->err_r = fabs(r2 - r1);
        out->err_one_minus_r = fabs(omr2 - omr1);
        out->err_S = fabs(S2 - S1);
        out->kappa = pr.kappa;
        out->err_kappa = fabs(pr.kappa - k1);
        out->points = g2.n;
        out->panels = g2.np;
        out->newton_iterations = iters;
        out->residual = res;
        /* mass-weighted residual */
        double *F = malloc((size_t)g2.n * 5 * sizeof(double));
        if (F) {
            residual(&pr, &g2, lk, u2, F, F + g2.n, F + 2 * g2.n, F + 3 * g2.n, F + 4 * g2.n);
            double mr = 0.0;
            for (int j = 0; j < g2.n; j++) mr += exp(u2[j] + g2.logW[j]) * fabs(F[j]);
            out->mass_residual = mr;
            free(F);
        }
        /* a 1-cluster about the pole has log rho decreasing in theta; a converged state
         * that is not (e.g. mass gathering at the antipode when kappa beta > 1) is refused */
        int mono = 1;
        for (int j = 0; j + 1 < g2.n; j++)
            if (u2[j + 1] > u2[j] + 1e-9 * (1.0 + fabs(u2[j]))) mono = 0;
        if (!(r2 > 1e-8))
            status = fail(out, 4, "the state found is (close to) uniform, not a cluster");
        else if (!mono)
            status = fail(out, 4, "the state found is not a 1-cluster (log rho not decreasing away from the pole)");
    }
    free(lk);
    free(u2);
    free(u);
    grid_free(&g2);
    grid_free(&g);
    out->status = status;
    return status;
}

int ref_cluster_r(int model, int d, double beta, double kappa, double r_guess, ref_cluster_result *out)
{
    return solve(model, d, beta, kappa, r_guess, 0.0, NULL, out);
}

int ref_cluster_r_opts(int model, int d, double beta, double kappa, double r_guess, const ref_cluster_options *opt,
                       ref_cluster_result *out)
{
    return solve(model, d, beta, kappa, r_guess, 0.0, opt, out);
}

int ref_cluster_at_r(int model, int d, double beta, double r, double kappa_guess, ref_cluster_result *out)
{
    if (!(r > 0.0 && r < 1.0)) {
        memset(out, 0, sizeof *out);
        return fail(out, 1, "r must lie in (0, 1)");
    }
    if (!(kappa_guess > 0.0)) kappa_guess = 2.0 * (1.0 - r) / (d > 2 ? d - 1 : 1);
    return solve(model, d, beta, kappa_guess, r, r, NULL, out);
}
