/* Pseudo-arclength continuation (tangent predictor, bordered Newton corrector, adaptive
 * steps), stability along branches, location of special points by Illinois iteration on
 * continuous test functions, Lyapunov-Schmidt classification and branch switching. */
#include "attnbif/continuation.h"

#include "attnbif/label.h"
#include "attnbif/results.h"
#include "attnbif/solve.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CORRECTOR_ITERS 10
#define MAX_EVENTS 16
/* nodes: auto: how many times a diagram may be computed again on a finer grid. */
#define AB_RUN_REFINEMENTS 2

/* Stability summary of one point, per monitored sector. */
typedef struct {
    int real_pos[AB_MAX_SECTORS]; /* real stability eigenvalues with re > err (slow ones, |re| <= err, */
    int cplx_pos[AB_MAX_SECTORS]; /* are not counted); complex ones with re > err (both of a pair) */
    long n_unstable;              /* with multiplicity, all sectors */
} stab_info;

/* A branch waiting to be followed from a branch point. */
typedef struct {
    double *x;   /* the branch point (u, p) */
    double *phi; /* kernel vector, unit norm */
    double q1, q2; /* predicted p - p* = q1 xi + q2 xi^2 along the new branch */
    int n_dirs, dirs[2];
    int special;
    int predicted_side; /* pitchforks: sign of p - p* where the new branch exists; 0 if none */
} pending;

typedef struct {
    ab_disc *disc;
    const ab_spec *spec;
    const ab_continuation_spec *cs;
    ab_diagram *diag;
    FILE *log;
    int par, n, np1;
    double tol;
    double *J, *B, *rhs, *F, *Fp, *row, *work, *work2, *work3, *work4;
    double *xs[6];   /* scratch points */
    double *xn, *taun; /* the step being taken in follow() */
    double *xb, *taub; /* the current point of the branch being followed */
    double *svd_u, *svd_vt, *svd_s, *svd_super;
    lapack_int *ipiv;
    ab_newton *newton;
    ab_eigensolver *eig;
    pending *queue;
    int n_queue, cap_queue;
    int label_count[6];
} cont;

/* ---- parameters and basic evaluations ----------------------------------------- */

static double get_p(const cont *c)
{
    ab_params p = ab_disc_params(c->disc);
    return c->par == AB_PARAM_KAPPA ? p.kappa : p.beta;
}

static ab_status set_p(cont *c, double value, ab_error *err)
{
    ab_params p = ab_disc_params(c->disc);
    if (c->par == AB_PARAM_KAPPA) p.kappa = value;
    else p.beta = value;
    return ab_disc_set_params(c->disc, p, err);
}

static double max_abs(const double *x, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* Weight of the state in the arclength: u = log rho grows like 1/kappa, so an unweighted
 * norm would spend all the arclength on u at small noise and crawl in the parameter. */
#define STATE_WEIGHT 1e-3

/* Arclength inner product: the discretisation's on u (weighted), plain on p. */
static double xdot(const cont *c, const double *x, const double *y)
{
    return STATE_WEIGHT * ab_disc_dot(c->disc, x, y) + x[c->n] * y[c->n];
}

static double xnorm(const cont *c, const double *x) { return sqrt(xdot(c, x, x)); }

static ab_status residual_at(cont *c, const double *x, double *F, ab_error *err)
{
    ab_status st = set_p(c, x[c->n], err);
    return st ? st : ab_disc_residual(c->disc, x, F, err);
}

/* c->J = F_u and c->Fp = F_p at x (column-major, n x n). */
static ab_status jacobian_at(cont *c, const double *x, ab_error *err)
{
    ab_status st = set_p(c, x[c->n], err);
    if (!st) st = ab_disc_jacobian(c->disc, x, c->J, err);
    if (!st) st = ab_disc_dparam(c->disc, x, (ab_param_id)c->par, c->Fp, err);
    return st;
}

/* Row r with r . v = <tau_u, v> for the bordered systems. */
static void weighted_row(cont *c, const double *tau_u, double *r)
{
    for (int j = 0; j < c->n; j++) {
        memset(c->work4, 0, sizeof(double) * c->n);
        c->work4[j] = 1.0;
        r[j] = STATE_WEIGHT * ab_disc_dot(c->disc, tau_u, c->work4);
    }
}

/* Solve [J Fp; r^T rp] z = rhs (size n+1, overwritten with z). */
static ab_status bordered_solve(cont *c, const double *r, double rp, double *rhs, ab_error *err)
{
    const int n = c->n, m = c->np1;
    for (int j = 0; j < n; j++) {
        memcpy(c->B + (size_t)j * m, c->J + (size_t)j * n, sizeof(double) * n);
        c->B[n + (size_t)j * m] = r[j];
    }
    memcpy(c->B + (size_t)n * m, c->Fp, sizeof(double) * n);
    c->B[n + (size_t)n * m] = rp;
    lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, m, 1, c->B, m, c->ipiv, rhs, m);
    if (info != 0) return ab_error_set(err, AB_ELINALG, "the bordered continuation system is singular (dgesv info %d)", (int)info);
    return AB_OK;
}

/* Unit tangent at x, oriented along tau_prev. */
static ab_status tangent_at(cont *c, const double *x, const double *tau_prev, double *tau, ab_error *err)
{
    ab_status st = jacobian_at(c, x, err);
    if (st) return st;
    weighted_row(c, tau_prev, c->row);
    memset(tau, 0, sizeof(double) * c->np1);
    tau[c->n] = 1.0;
    if ((st = bordered_solve(c, c->row, tau_prev[c->n], tau, err))) return st;
    double nrm = xnorm(c, tau);
    for (int i = 0; i < c->np1; i++) tau[i] /= nrm;
    if (xdot(c, tau, tau_prev) < 0.0)
        for (int i = 0; i < c->np1; i++) tau[i] = -tau[i];
    return AB_OK;
}

/* Newton on [F(x); <normal, x - xpred>] = 0 from xpred. */
static ab_status correct(cont *c, const double *xpred, const double *normal, double *x, int *iters, ab_error *err)
{
    memcpy(x, xpred, sizeof(double) * c->np1);
    weighted_row(c, normal, c->row);
    double res0 = INFINITY;
    for (int it = 0; it <= MAX_CORRECTOR_ITERS; it++) {
        ab_status st = residual_at(c, x, c->F, err);
        if (st) return st;
        double res = max_abs(c->F, c->n);
        double tol = ab_newton_tolerance(c->disc, c->tol);
        /* (at it = 0 the constraint holds exactly: the predictor may already be a solution,
         * and iterating on a nearly singular system would only amplify rounding) */
        if (res <= tol) { *iters = it; return AB_OK; }
        if (it == MAX_CORRECTOR_ITERS || !(res < 1e3 * res0 + 1.0)) break;
        res0 = fmin(res0, res);
        if ((st = jacobian_at(c, x, err))) return st;
        for (int i = 0; i < c->np1; i++) c->work[i] = x[i] - xpred[i];
        for (int i = 0; i < c->n; i++) c->rhs[i] = -c->F[i];
        c->rhs[c->n] = -xdot(c, normal, c->work);
        if ((st = bordered_solve(c, c->row, normal[c->n], c->rhs, err))) return st;
        for (int i = 0; i < c->np1; i++) x[i] += c->rhs[i];
        if (!isfinite(x[c->n])) break;
        if (c->par == AB_PARAM_KAPPA && !(x[c->n] > 0.0)) break;
        if (c->par == AB_PARAM_BETA && !(x[c->n] >= 0.0)) break;
    }
    return ab_error_set(err, AB_ENOCONV, "corrector did not converge");
}

/* ---- stability ---------------------------------------------------------------- */

static ab_status stability_at(cont *c, const double *x, const int *sectors, int n_sectors, stab_info *info,
                              ab_spectrum *keep, ab_error *err)
{
    ab_status st = set_p(c, x[c->n], err);
    ab_spectrum sp;
    if (!st) st = ab_spectrum_compute(c->eig, c->disc, x, sectors, n_sectors, &sp, err);
    if (st) return st;
    memset(info, 0, sizeof *info);
    for (int i = 0; i < sp.count; i++) {
        const ab_eigenvalue *e = &sp.values[i];
        if (e->kind != AB_EIG_STABILITY || !(e->re > e->err)) continue;
        int k = 0;
        while (k < n_sectors && sectors[k] != e->sector) k++;
        if (e->im == 0.0) info->real_pos[k]++;
        else info->cplx_pos[k]++;
        info->n_unstable += e->multiplicity;
    }
    if (keep) *keep = sp;
    else ab_spectrum_free(&sp);
    return AB_OK;
}

typedef enum { EV_FOLD, EV_REAL, EV_HOPF } ev_kind;

/* Continuous test function of an event at x: the tangent's p-component (fold), or the
 * rank-th largest real eigenvalue of the sector (branch point) or real part of a complex
 * one (Hopf), where rank is the larger of the two unstable counts across the step: that
 * eigenvalue changes sign exactly where the count changes. Slow eigenvalues (|re| <= err)
 * are ranked with the stability ones, so the rank-th is the same eigenvalue on both sides
 * when one enters or leaves the band of undetermined sign. *psi_err (if not NULL) is the
 * eigenvalue's error estimate (0 for folds). */
static ab_status test_function(cont *c, const double *x, const double *tau_prev, ev_kind kind, int sector, int rank,
                               double *psi, double *psi_err, ab_error *err)
{
    if (psi_err) *psi_err = 0.0;
    if (kind == EV_FOLD) {
        double *tau = c->xs[5];
        (void)rank;
        ab_status st = tangent_at(c, x, tau_prev, tau, err);
        *psi = tau[c->n];
        return st;
    }
    ab_status st = set_p(c, x[c->n], err);
    ab_spectrum sp;
    if (!st) st = ab_spectrum_compute(c->eig, c->disc, x, &sector, 1, &sp, err);
    if (st) return st;
    double best = NAN, best_err = 0.0;
    int seen = 0;
    for (int i = 0; i < sp.count && seen < rank; i++) { /* values are sorted by re, descending */
        const ab_eigenvalue *e = &sp.values[i];
        if ((e->kind != AB_EIG_STABILITY && e->kind != AB_EIG_SLOW) || (kind == EV_REAL) != (e->im == 0.0)) continue;
        if (++seen == rank) { best = e->re; best_err = e->err; }
    }
    ab_spectrum_free(&sp);
    *psi = best;
    if (psi_err) *psi_err = best_err;
    return isfinite(best) ? AB_OK : ab_error_set(err, AB_ENAN, "no eigenvalue of rank %d for the test function in sector %d", rank, sector);
}

/* Point at arclength s from xk along tauk (corrected onto the branch) into x. */
static ab_status point_at(cont *c, const double *xk, const double *tauk, double s, double *x, ab_error *err)
{
    double *pred = c->xs[4];
    for (int i = 0; i < c->np1; i++) pred[i] = xk[i] + s * tauk[i];
    int it;
    return correct(c, pred, tauk, x, &it, err);
}

/* Locate the zero of the test function between s = 0 (xk) and s = s_hi (x1) by the
 * Illinois variant of regula falsi, to ~1e-13 relative in the parameter. The located
 * point goes to xout. Returns psi at both ends for the caller (slope). */
static ab_status locate(cont *c, const double *xk, const double *tauk, const double *x1, double s_hi, ev_kind kind,
                        int sector, int rank, double f0, double f1, double *xout, ab_error *err)
{
    (void)err; /* failures inside only stop the iteration early */
    double a = 0.0, b = s_hi, fa = f0, fb = f1, pa = xk[c->n], pb = x1[c->n];
    memcpy(xout, x1, sizeof(double) * c->np1);
    double *x = c->xs[3];
    for (int it = 0; it < 100; it++) {
        if (fb == 0.0 || fabs(pb - pa) <= 1e-12 * fmax(1.0, fabs(pb))) break;
        double s = (fb != fa) ? b - fb * (b - a) / (fb - fa) : 0.5 * (a + b);
        if (!(s > fmin(a, b) && s < fmax(a, b))) s = 0.5 * (a + b);
        ab_error scratch = {0};
        ab_status st = point_at(c, xk, tauk, s, x, &scratch);
        double fs;
        if (!st) st = test_function(c, x, tauk, kind, sector, rank, &fs, NULL, &scratch);
        if (st) break; /* keep the best point so far: the bracket is already small */
        if ((fs > 0) != (fb > 0)) { a = b; fa = fb; pa = pb; }
        else fa *= 0.5;
        b = s; fb = fs; pb = x[c->n];
        memcpy(xout, x, sizeof(double) * c->np1);
    }
    return AB_OK;
}

/* ---- Lyapunov-Schmidt reduction at a zonal branch point -------------------------- */

/* F_uu[a, a] by a centred second difference (h ~ 1e-4: error ~1e-8 relative). */
static ab_status d2(cont *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    double h = 1e-4 / fmax(1.0, max_abs(a, n)), *xp = c->xs[3], *Fp = c->work2;
    memcpy(xp, x, sizeof(double) * c->np1);
    ab_status st = residual_at(c, x, out, err);
    for (int i = 0; i < n; i++) out[i] *= -2.0;
    for (int sgn = -1; sgn <= 1 && !st; sgn += 2) {
        for (int i = 0; i < n; i++) xp[i] = x[i] + sgn * h * a[i];
        st = residual_at(c, xp, Fp, err);
        for (int i = 0; i < n && !st; i++) out[i] += Fp[i];
    }
    for (int i = 0; i < n; i++) out[i] /= h * h;
    return st;
}

/* F_uu[a, b] by polarisation: (F_uu[a+b, a+b] - F_uu[a-b, a-b]) / 4. */
static ab_status d2_mixed(cont *c, const double *x, const double *a, const double *b, double *out, ab_error *err)
{
    const int n = c->n;
    double *sum = c->xs[2], *tmp = c->work3;
    for (int i = 0; i < n; i++) sum[i] = a[i] + b[i];
    ab_status st = d2(c, x, sum, out, err);
    for (int i = 0; i < n; i++) sum[i] = a[i] - b[i];
    if (!st) st = d2(c, x, sum, tmp, err);
    for (int i = 0; i < n; i++) out[i] = 0.25 * (out[i] - tmp[i]);
    return st;
}

/* F_uuu[a, a, a] by a centred third difference (h ~ 1e-3). */
static ab_status d3(cont *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    const double h = 1e-3 / fmax(1.0, max_abs(a, n)), coef[4] = {-1.0, 2.0, -2.0, 1.0}, shift[4] = {-2, -1, 1, 2};
    double *xp = c->xs[3], *Fp = c->work2;
    memset(out, 0, sizeof(double) * n);
    memcpy(xp, x, sizeof(double) * c->np1);
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < n; i++) xp[i] = x[i] + shift[k] * h * a[i];
        ab_status st = residual_at(c, xp, Fp, err);
        if (st) return st;
        for (int i = 0; i < n; i++) out[i] += coef[k] * Fp[i];
    }
    for (int i = 0; i < n; i++) out[i] /= 2.0 * h * h * h;
    return AB_OK;
}

/* F_up a = d/dp (F_u a) by a mixed centred difference. */
static ab_status dup(cont *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    const double hu = 1e-4 / fmax(1.0, max_abs(a, n)), hp = 1e-4 * fmax(1e-2, fabs(x[n]));
    double *xp = c->xs[3], *Fp = c->work2;
    memset(out, 0, sizeof(double) * n);
    for (int su = -1; su <= 1; su += 2)
        for (int sp = -1; sp <= 1; sp += 2) {
            for (int i = 0; i < n; i++) xp[i] = x[i] + su * hu * a[i];
            xp[n] = x[n] + sp * hp;
            ab_status st = residual_at(c, xp, Fp, err);
            if (st) return st;
            for (int i = 0; i < n; i++) out[i] += su * sp * Fp[i];
        }
    for (int i = 0; i < n; i++) out[i] /= 4.0 * hu * hp;
    return set_p(c, x[n], err);
}

/* Solve [J psi; phi^T 0] [z; mu] = [rhs; 0] (nonsingular at a simple branch point). */
static ab_status singular_bordered(cont *c, const double *phi, const double *psi, double *rhs, ab_error *err)
{
    const int n = c->n, m = c->np1;
    for (int j = 0; j < n; j++) {
        memcpy(c->B + (size_t)j * m, c->J + (size_t)j * n, sizeof(double) * n);
        c->B[n + (size_t)j * m] = phi[j];
    }
    memcpy(c->B + (size_t)n * m, psi, sizeof(double) * n);
    c->B[n + (size_t)n * m] = 0.0;
    rhs[n] = 0.0;
    lapack_int info = LAPACKE_dgesv(LAPACK_COL_MAJOR, m, 1, c->B, m, c->ipiv, rhs, m);
    return info ? ab_error_set(err, AB_ELINALG, "branch point is not simple (bordered system singular)") : AB_OK;
}

static double vdot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Classify a zonal branch point at x and prepare the switch: kernel vectors from the SVD
 * of F_u, quadratic coefficient a (pitchfork if it vanishes), a_lambda and, for
 * pitchforks, the cubic coefficient c3 of the reduced equation
 *   g(xi, lambda) = a_lambda lambda xi + (a/2) xi^2 + (c3/6) xi^3. */
static ab_status reduce(cont *c, const double *x, double dmu_dp, ab_special_point *sp, pending *pd, ab_error *err)
{
    const int n = c->n;
    ab_status st = jacobian_at(c, x, err);
    if (st) return st;
    memcpy(c->B, c->J, sizeof(double) * (size_t)n * n);
    lapack_int info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'A', 'A', n, n, c->B, n, c->svd_s, c->svd_u, n, c->svd_vt, n, c->svd_super);
    if (info) return ab_error_set(err, AB_ELINALG, "SVD at the branch point failed (info %d)", (int)info);
    double *phi = pd->phi;
    for (int j = 0; j < n; j++) phi[j] = c->svd_vt[(n - 1) + (size_t)j * n];
    double *psi_v = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * (n + 1)),
           *w = malloc(sizeof(double) * (n + 1)), *q = malloc(sizeof(double) * n), *q2 = malloc(sizeof(double) * n);
    if (!psi_v || !v || !w || !q || !q2) {
        free(psi_v); free(v); free(w); free(q); free(q2);
        return ab_error_set(err, AB_ENOMEM, "out of memory at a branch point");
    }
    for (int i = 0; i < n; i++) psi_v[i] = c->svd_u[i + (size_t)(n - 1) * n];
    double nphi = sqrt(ab_disc_dot(c->disc, phi, phi));
    for (int i = 0; i < n; i++) phi[i] /= nphi;
    /* quadratic coefficient */
    st = d2(c, x, phi, q, err);
    double a = st ? 0.0 : vdot(psi_v, q, n), qn = sqrt(vdot(q, q, n));
    int pitchfork = fabs(a) <= 1e-6 * fmax(qn, 1e-300);
    /* a_lambda = psi . (F_up phi + F_uu[phi, v]),  J v = -F_p (v perpendicular to phi) */
    if (!st) st = jacobian_at(c, x, err);
    if (!st) {
        for (int i = 0; i < n; i++) v[i] = -c->Fp[i];
        st = singular_bordered(c, phi, psi_v, v, err);
    }
    if (!st) st = dup(c, x, phi, q2, err);
    double a_lam = 0.0;
    if (!st) {
        a_lam = vdot(psi_v, q2, n);
        if (max_abs(v, n) > 1e-12) {
            st = d2_mixed(c, x, phi, v, q2, err);
            if (!st) a_lam += vdot(psi_v, q2, n);
        }
    }
    pd->q1 = pd->q2 = 0.0;
    pd->predicted_side = 0;
    if (!st && pitchfork) {
        sp->type = AB_SP_PITCHFORK;
        /* c3 = psi . (F_uuu[phi,phi,phi] + 3 F_uu[phi, w]),  J w = -F_uu[phi, phi] */
        if (!st) st = jacobian_at(c, x, err);
        if (!st) {
            for (int i = 0; i < n; i++) w[i] = -q[i];
            st = singular_bordered(c, phi, psi_v, w, err);
        }
        double c3 = 0.0, c3_scale = 0.0;
        if (!st) st = d3(c, x, phi, q2, err);
        if (!st) {
            c3 = vdot(psi_v, q2, n);
            c3_scale = sqrt(vdot(q2, q2, n));
            st = d2_mixed(c, x, phi, w, q2, err);
            if (!st) { c3 += 3.0 * vdot(psi_v, q2, n); c3_scale += 3.0 * sqrt(vdot(q2, q2, n)); }
        }
        if (!st) {
            if (fabs(c3) <= 1e-6 * c3_scale || a_lam == 0.0) {
                sp->criticality = AB_CRIT_DEGENERATE;
            } else {
                int side = (a_lam * c3 > 0) ? -1 : 1; /* xi^2 = -6 a_lam lambda / c3 > 0 */
                int unstable_side = dmu_dp > 0 ? 1 : -1;
                sp->criticality = side == unstable_side ? AB_CRIT_SUPERCRITICAL : AB_CRIT_SUBCRITICAL;
                pd->q2 = -c3 / (6.0 * a_lam);
                pd->predicted_side = side;
            }
        }
    } else if (!st) {
        sp->type = AB_SP_TRANSCRITICAL;
        sp->criticality = AB_CRIT_NONE;
        if (a_lam != 0.0) pd->q1 = -a / (2.0 * a_lam);
    }
    /* Directions: +xi, and -xi unless the two are mirror images (an even state with an odd
     * kernel vector: the reflection t -> -t maps one onto the other). */
    double *refl = q;
    ab_disc_reflect(c->disc, x, refl);
    double uscale = 1.0 + max_abs(x, n), asym = 0.0;
    for (int i = 0; i < n; i++) asym = fmax(asym, fabs(refl[i] - x[i]));
    ab_disc_reflect(c->disc, phi, refl);
    double odd = 0.0;
    for (int i = 0; i < n; i++) odd = fmax(odd, fabs(refl[i] + phi[i]));
    int mirror = asym <= 1e-9 * uscale && odd <= 1e-6 * max_abs(phi, n);
    pd->n_dirs = (sp->type == AB_SP_PITCHFORK && mirror) ? 1 : 2;
    pd->dirs[0] = 1;
    pd->dirs[1] = -1;
    free(psi_v); free(v); free(w); free(q); free(q2);
    return st;
}

/* ---- diagram bookkeeping -------------------------------------------------------- */

static void observe(cont *c, const double *x, const stab_info *si, ab_branch_point *bp)
{
    ab_observables obs;
    ab_error scratch = {0};
    memset(bp, 0, sizeof *bp);
    set_p(c, x[c->n], &scratch);
    ab_disc_observables(c->disc, x, &obs, &scratch);
    ab_params p = ab_disc_params(c->disc);
    bp->kappa = p.kappa;
    bp->beta = p.beta;
    bp->r = obs.r;
    bp->S = obs.S;
    bp->entropy = obs.entropy;
    bp->free_energy = obs.free_energy;
    bp->n_unstable = si ? si->n_unstable : -1;
    bp->label = AB_SP_NONE;
    bp->special = -1;
    bp->nodes = c->n;
}

static int is_uniform(const ab_branch_point *bp) { return fabs(bp->r) < 1e-8 && fabs(bp->S) < 1e-8; }

static int uniform_end(cont *c, const double *x)
{
    ab_branch_point bp;
    observe(c, x, NULL, &bp);
    return is_uniform(&bp);
}

static void warn(cont *c, const char *fmt, double a, int b)
{
    if (c->diag->n_warnings >= 8) return;
    snprintf(c->diag->warnings[c->diag->n_warnings], sizeof c->diag->warnings[0], fmt, a, b);
    if (c->log) fprintf(c->log, "attnbif run: warning: %s\n", c->diag->warnings[c->diag->n_warnings]);
    c->diag->n_warnings++;
}

/* What a restart from sp needs (labels/, docs/output-run.md): the point, and the unit
 * tangent of the branch there oriented along the branch being followed (c->taub, its
 * tangent at the last accepted point). At a zonal branch point (sp->null_vector set) the
 * bordered system for the tangent is singular and its solution is off along the kernel
 * vector (by up to 2e-3 on the default problem), enough to pull a restarted branch off the
 * uniform state; there the tangent at the last regular point, within a step, is stored
 * (exact on a trivial branch). A tangent that cannot be computed is left out. */
static ab_status store_restart(cont *c, const double *x, ab_special_point *sp, ab_error *err)
{
    sp->dim = (size_t)c->n;
    sp->x = malloc(sizeof(double) * c->np1);
    sp->tangent = malloc(sizeof(double) * c->np1);
    if (!sp->x || !sp->tangent) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(sp->x, x, sizeof(double) * c->np1);
    ab_error scratch = {0};
    if (sp->null_vector) memcpy(sp->tangent, c->taub, sizeof(double) * c->np1);
    else if (tangent_at(c, x, c->taub, sp->tangent, &scratch) != AB_OK) { free(sp->tangent); sp->tangent = NULL; }
    return AB_OK;
}

/* Record special point sp at state x as a new row of branch b; returns its index. */
static int add_special(cont *c, ab_branch *b, const double *x, ab_special_point *sp, const stab_info *si, ab_error *err)
{
    if (store_restart(c, x, sp, err)) { free(sp->x); free(sp->tangent); free(sp->null_vector); return -1; }
    ab_branch_point bp;
    observe(c, x, si, &bp);
    sp->kappa = bp.kappa;
    sp->beta = bp.beta;
    sp->r = bp.r;
    sp->S = bp.S;
    sp->branch = b->id;
    sp->point = b->n_points;
    /* numbered per label (both kinds of branch point are BP) */
    static const int label_slot[] = {0, 1, 2, 2, 3, 4};
    snprintf(sp->profile, sizeof sp->profile, "%s%d.csv", ab_special_label(sp->type), ++c->label_count[label_slot[sp->type]]);
    ab_profile fine;
    ab_error scratch = {0};
    if (ab_disc_profile(c->disc, x, 2, &sp->nodes, &fine, &scratch) == AB_OK) ab_profile_free(&fine);
    else sp->profile[0] = '\0';
    int idx = ab_diagram_add_special(c->diag, sp);
    if (idx < 0) {
        ab_profile_free(&sp->nodes);
        free(sp->x); free(sp->tangent); free(sp->null_vector);
        ab_error_set(err, AB_ENOMEM, "out of memory");
        return -1;
    }
    bp.label = sp->type;
    bp.special = idx;
    if (ab_branch_add_point(b, &bp, err)) return -1;
    if (c->log) {
        const ab_special_point *s = &c->diag->special[idx];
        fprintf(c->log, "attnbif run: %s (%s%s%s) on branch %d at %s = %.12g, r = %.6g, S = %.6g%s%s\n",
                ab_special_label(s->type), ab_special_type_name(s->type), s->criticality ? ", " : "",
                ab_criticality_name(s->criticality), b->id, c->par ? "beta" : "kappa", c->par ? s->beta : s->kappa, s->r,
                s->S, s->note[0] ? "; " : "", s->note);
    }
    return idx;
}

static ab_status end_branch(cont *c, ab_branch *b, const double *x, const stab_info *si, const char *why, ab_error *err)
{
    snprintf(b->end_reason, sizeof b->end_reason, "%s", why);
    ab_special_point sp;
    memset(&sp, 0, sizeof sp);
    sp.type = AB_SP_END;
    sp.sector = sp.l = -1;
    snprintf(sp.note, sizeof sp.note, "%s", why);
    /* the end point replaces an unlabelled last row, else is appended */
    if (b->n_points > 0 && b->points[b->n_points - 1].label == AB_SP_NONE) b->n_points--;
    return add_special(c, b, x, &sp, si, err) < 0 ? AB_ENOMEM : AB_OK;
}

static ab_status push_pending(cont *c, const double *x, pending *pd, ab_error *err)
{
    if (c->n_queue == c->cap_queue) {
        int cap = c->cap_queue ? 2 * c->cap_queue : 8;
        pending *q = realloc(c->queue, sizeof *q * (size_t)cap);
        if (!q) return ab_error_set(err, AB_ENOMEM, "out of memory");
        c->queue = q;
        c->cap_queue = cap;
    }
    pd->x = malloc(sizeof(double) * c->np1);
    if (!pd->x) return ab_error_set(err, AB_ENOMEM, "out of memory");
    memcpy(pd->x, x, sizeof(double) * c->np1);
    c->queue[c->n_queue++] = *pd;
    return AB_OK;
}

/* Was this special point already found (on another branch through the same point)? */
static int known_special(const cont *c, const ab_special_point *sp)
{
    for (int i = 0; i < c->diag->n_special; i++) {
        const ab_special_point *o = &c->diag->special[i];
        if (o->type == AB_SP_END) continue;
        double dp = c->par ? fabs(o->beta - sp->beta) : fabs(o->kappa - sp->kappa);
        if (dp <= 1e-8 * fmax(1.0, c->par ? fabs(sp->beta) : fabs(sp->kappa)) && fabs(o->r - sp->r) < 1e-6 &&
            fabs(o->S - sp->S) < 1e-6)
            return 1;
    }
    return 0;
}

/* Is sp close to a branch point already in the diagram? Looser than known_special: a branch
 * that runs through a known branch point transversally is located there less precisely
 * (the extended system is singular at the point itself). */
static int near_known_branch_point(const cont *c, const ab_special_point *sp)
{
    for (int i = 0; i < c->diag->n_special; i++) {
        const ab_special_point *o = &c->diag->special[i];
        /* only points of other branches: one branch's own branch points (e.g. the uniform
         * branch's kappa_l) can lie close together */
        if (o == sp || o->branch == sp->branch || (o->type != AB_SP_PITCHFORK && o->type != AB_SP_TRANSCRITICAL)) continue;
        double po = c->par ? o->beta : o->kappa, ps = c->par ? sp->beta : sp->kappa;
        if (fabs(po - ps) <= 5e-3 * fmax(1.0, fabs(ps)) && fabs(o->r - sp->r) + fabs(o->S - sp->S) <= 0.05) return 1;
    }
    return 0;
}

/* Does the state with observables bp lie on an existing branch (up to symmetry: r and S
 * are invariant under rotations and reflections)? */
static int on_known_branch(const cont *c, const ab_branch_point *bp)
{
    for (int k = 0; k < c->diag->n_branches; k++) {
        const ab_branch *b = &c->diag->branches[k];
        for (int i = 0; i + 1 < b->n_points; i++) {
            const ab_branch_point *p0 = &b->points[i], *p1 = &b->points[i + 1];
            double v0 = c->par ? p0->beta : p0->kappa, v1 = c->par ? p1->beta : p1->kappa, v = c->par ? bp->beta : bp->kappa;
            if (v < fmin(v0, v1) || v > fmax(v0, v1) || v0 == v1) continue;
            double th = (v - v0) / (v1 - v0);
            double r = p0->r + th * (p1->r - p0->r), S = p0->S + th * (p1->S - p0->S);
            double tol = 1e-3 * (fabs(p1->r - p0->r) + fabs(p1->S - p0->S)) + 1e-7;
            if (fabs(r - bp->r) <= tol && fabs(S - bp->S) <= tol) return 1;
        }
    }
    return 0;
}

/* ---- following one branch ------------------------------------------------------ */

static void log_step(cont *c, const ab_branch *b, const ab_branch_point *bp, double ds)
{
    if (!c->log) return;
    fprintf(c->log, "  branch %d point %4d: %s = %.10f  r = %.6f  S = %.6f  unstable = %ld  ds = %.2e\n", b->id,
            b->n_points - 1, c->par ? "beta" : "kappa", c->par ? bp->beta : bp->kappa, bp->r, bp->S, bp->n_unstable, ds);
}

typedef struct {
    ev_kind kind;
    int sector, rank;
    double f0, f1, s_loc, p_loc;
    double *x;
    double e0, e1; /* error estimates of f0, f1 (eigenvalue test functions) */
} event;

/* Locate and record the special points between xk and x1. *stop_at is set to the index of
 * a branch point that was already in the diagram (the branch has reached a known part of
 * the diagram, e.g. closed a loop), or -1. */
static ab_status handle_events(cont *c, ab_branch *b, const double *xk, const double *tauk, const double *x1,
                               const double *tau1, double ds, const stab_info *s0, const stab_info *s1, int fold,
                               int *stop_at, ab_error *err)
{
    *stop_at = -1;
    const int *sectors = c->spec->sectors, ns = c->spec->n_sectors;
    event ev[MAX_EVENTS];
    int ne = 0;
    if (fold) ev[ne++] = (event){EV_FOLD, 0, 0, tauk[c->n], tau1[c->n], 0, 0, NULL, 0, 0};
    /* One event per eigenvalue that crossed: if a sector's count goes from c0 to c1, the
     * eigenvalues of rank min(c0,c1)+1 .. max(c0,c1) each changed sign once. */
    for (int k = 0; k < ns; k++) {
        int lo = s0->real_pos[k] < s1->real_pos[k] ? s0->real_pos[k] : s1->real_pos[k];
        int hi = s0->real_pos[k] + s1->real_pos[k] - lo;
        if (fold && sectors[k] == 0 && hi > lo) hi--; /* the fold accounts for one */
        for (int r = lo + 1; r <= hi && ne < MAX_EVENTS; r++) ev[ne++] = (event){EV_REAL, sectors[k], r, 0, 0, 0, 0, NULL, 0, 0};
        lo = s0->cplx_pos[k] < s1->cplx_pos[k] ? s0->cplx_pos[k] : s1->cplx_pos[k];
        hi = s0->cplx_pos[k] + s1->cplx_pos[k] - lo;
        for (int r = lo + 2; r <= hi && ne < MAX_EVENTS; r += 2) ev[ne++] = (event){EV_HOPF, sectors[k], r, 0, 0, 0, 0, NULL, 0, 0};
    }
    if (ne == 0) return AB_OK;
    /* Locate each event (sector 0 first, so that a degenerate crossing on the uniform
     * branch is represented by its zonal member). */
    ab_status st = AB_OK;
    for (int e = 0; e < ne && !st; e++) {
        ev[e].x = malloc(sizeof(double) * c->np1);
        if (!ev[e].x) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
        if (ev[e].kind != EV_FOLD) {
            st = test_function(c, xk, tauk, ev[e].kind, ev[e].sector, ev[e].rank, &ev[e].f0, &ev[e].e0, err);
            if (!st) st = test_function(c, x1, tauk, ev[e].kind, ev[e].sector, ev[e].rank, &ev[e].f1, &ev[e].e1, err);
        }
        if (st) break;
        if (ev[e].kind != EV_FOLD && ((ev[e].f0 > 0) == (ev[e].f1 > 0) || !(fabs(ev[e].f0) > ev[e].e0) ||
                                      !(fabs(ev[e].f1) > ev[e].e1))) {
            /* The eigenvalue does not change sign beyond its error at both ends: not a
             * crossing (typically the mass exchange between clusters, exponentially small
             * at small noise, entering or leaving the band of undetermined sign). */
            if (c->log)
                fprintf(c->log, "attnbif run: sector %d eigenvalue %d goes from %.3e (+-%.1e) to %.3e (+-%.1e) between "
                                "%s = %.10g and %.10g: not a crossing\n",
                        ev[e].sector, ev[e].rank, ev[e].f0, ev[e].e0, ev[e].f1, ev[e].e1, c->par ? "beta" : "kappa",
                        xk[c->n], x1[c->n]);
            free(ev[e].x);
            ev[e].x = NULL;
            continue;
        }
        if ((ev[e].f0 > 0) == (ev[e].f1 > 0)) {
            /* no sign change of the nearest eigenvalue: fall back to the end of the step */
            memcpy(ev[e].x, x1, sizeof(double) * c->np1);
        } else {
            st = locate(c, xk, tauk, x1, ds, ev[e].kind, ev[e].sector, ev[e].rank, ev[e].f0, ev[e].f1, ev[e].x, err);
        }
        ev[e].p_loc = ev[e].x[c->n];
        ev[e].s_loc = fabs(ev[e].p_loc - xk[c->n]);
    }
    /* Crossings located at the same parameter are one event (on the uniform branch a degree-l
     * crossing happens in every sector m <= l at once): keep the fold, else the lowest sector. */
    for (int e = 0; e < ne; e++)
        for (int k = 0; k < ne; k++) {
            if (k == e || !ev[e].x || !ev[k].x) continue;
            if (fabs(ev[e].p_loc - ev[k].p_loc) > 1e-8 * fmax(1.0, fabs(ev[e].p_loc))) continue;
            int e_wins = ev[e].kind == EV_FOLD || (ev[k].kind != EV_FOLD && ev[e].sector < ev[k].sector) ||
                         (ev[k].kind != EV_FOLD && ev[e].sector == ev[k].sector && e < k);
            if (e_wins) { free(ev[k].x); ev[k].x = NULL; }
        }
    /* Record in order along the step. */
    for (int done = 0; done < ne && !st; done++) {
        int e = -1;
        for (int k = 0; k < ne; k++)
            if (ev[k].x && (e < 0 || ev[k].s_loc < ev[e].s_loc)) e = k;
        if (e < 0) break;
        int merged = 0;
        for (int k = 0; k < b->n_points; k++) {
            const ab_branch_point *q = &b->points[k];
            if (q->label == AB_SP_NONE || q->label == AB_SP_END) continue;
            double pq = c->par ? q->beta : q->kappa;
            if (fabs(pq - ev[e].p_loc) <= 1e-9 * fmax(1.0, fabs(pq))) merged = 1;
        }
        ab_special_point sp;
        memset(&sp, 0, sizeof sp);
        sp.sector = ev[e].sector;
        sp.l = -1;
        stab_info si;
        if (!merged) {
            ab_branch_point bp;
            observe(c, ev[e].x, NULL, &bp);
            /* stability at the special point itself: that of the side we came from */
            si = *s0;
            if (ev[e].kind == EV_FOLD) {
                sp.type = AB_SP_FOLD;
            } else if (ev[e].kind == EV_HOPF) {
                sp.type = AB_SP_HOPF;
            } else if (is_uniform(&bp) || (uniform_end(c, xk) && uniform_end(c, x1))) {
                /* the O(d)-degenerate crossing of degree l, in every sector m <= l */
                const ab_model *m = ab_disc_model(c->disc);
                double best = INFINITY;
                for (int l = 1; l < c->n; l++) {
                    double kl = ab_kappa_l(m->kind, m->d, bp.beta, l);
                    if (fabs(kl - bp.kappa) < best) { best = fabs(kl - bp.kappa); sp.l = l; }
                }
            }
            if (ev[e].kind == EV_REAL) {
                if (ev[e].sector == 0) {
                    pending pd;
                    memset(&pd, 0, sizeof pd);
                    pd.phi = malloc(sizeof(double) * c->n);
                    if (!pd.phi) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
                    double dmu_dp = (ev[e].f1 - ev[e].f0) / (x1[c->n] - xk[c->n]);
                    ab_error scratch = {0};
                    if (reduce(c, ev[e].x, dmu_dp, &sp, &pd, &scratch) != AB_OK) {
                        sp.type = AB_SP_PITCHFORK;
                        sp.criticality = AB_CRIT_UNKNOWN;
                        snprintf(sp.note, sizeof sp.note, "classification failed: %.150s", scratch.msg);
                        free(pd.phi);
                        pd.phi = NULL;
                    } else if ((sp.null_vector = malloc(sizeof(double) * c->n))) {
                        memcpy(sp.null_vector, pd.phi, sizeof(double) * c->n); /* for labels/ */
                    } else {
                        free(pd.phi); st = ab_error_set(err, AB_ENOMEM, "out of memory"); break;
                    }
                    int idx = add_special(c, b, ev[e].x, &sp, &si, err);
                    if (idx < 0) { free(pd.phi); st = AB_ENOMEM; break; }
                    c->diag->n_special--; /* look for a repeat among the others */
                    int repeat = known_special(c, &c->diag->special[idx]);
                    c->diag->n_special++;
                    if ((repeat || near_known_branch_point(c, &c->diag->special[idx])) && *stop_at < 0) *stop_at = idx;
                    if (pd.phi && c->cs->switch_branches && !repeat) {
                        pd.special = idx;
                        if ((st = push_pending(c, ev[e].x, &pd, err))) { free(pd.phi); break; }
                    } else {
                        free(pd.phi);
                    }
                } else {
                    /* Crossing in sector m >= 1 on a non-uniform zonal state: the new branch
                     * is not axisymmetric; Y_m -> -Y_m makes it a pitchfork. */
                    sp.type = AB_SP_PITCHFORK;
                    sp.criticality = AB_CRIT_UNKNOWN;
                    snprintf(sp.note, sizeof sp.note, "bifurcating branch is not zonal (sector %d): not followed", ev[e].sector);
                    int idx = add_special(c, b, ev[e].x, &sp, &si, err);
                    if (idx < 0) { st = AB_ENOMEM; break; }
                    if (near_known_branch_point(c, &c->diag->special[idx]) && *stop_at < 0) *stop_at = idx;
                }
            } else {
                if (add_special(c, b, ev[e].x, &sp, &si, err) < 0) { st = AB_ENOMEM; break; }
            }
        }
        free(ev[e].x);
        ev[e].x = NULL;
    }
    for (int e = 0; e < ne; e++) free(ev[e].x);
    (void)s1;
    return st;
}

/* Follow a branch from x0 with unit tangent tau0 (both overwritten). The first row must
 * already be in b. */
static ab_status follow(cont *c, ab_branch *b, double *x, double *tau, stab_info *si, ab_error *err)
{
    const ab_continuation_spec *cs = c->cs;
    double ds = cs->ds, *xn = c->xn, *taun = c->taun;
    int warned = 0;
    for (int step = 1;; step++) {
        if (step > cs->max_steps) {
            char why[160];
            snprintf(why, sizeof why, "max_steps (%d) reached", cs->max_steps);
            return end_branch(c, b, x, si, why, err);
        }
        double *pred = c->xs[2];
        for (int i = 0; i < c->np1; i++) pred[i] = x[i] + ds * tau[i];
        double lo = cs->min, hi = cs->max;
        int edge = pred[c->n] > hi ? 1 : (pred[c->n] < lo ? -1 : 0);
        ab_error scratch = {0};
        if (edge) {
            /* Land exactly on the window edge with a natural-parameter solve. */
            double pe = edge > 0 ? hi : lo, th = (pe - x[c->n]) / (pred[c->n] - x[c->n]);
            for (int i = 0; i < c->n; i++) xn[i] = x[i] + th * (pred[i] - x[i]);
            xn[c->n] = pe;
            ab_newton_opts opts = {c->tol, 30, NULL, NULL};
            ab_newton_report rep;
            if (set_p(c, pe, &scratch) == AB_OK && ab_newton_solve(c->newton, c->disc, xn, &opts, &rep, &scratch) == AB_OK) {
                stab_info s1;
                ab_status st = stability_at(c, xn, c->spec->sectors, c->spec->n_sectors, &s1, NULL, &scratch);
                if (st) {
                    char why[200];
                    snprintf(why, sizeof why, "stability analysis failed at the window edge: %.120s", scratch.msg);
                    return end_branch(c, b, x, si, why, err);
                }
                int fold = 0;
                if (s1.n_unstable != si->n_unstable || memcmp(s1.real_pos, si->real_pos, sizeof s1.real_pos) ||
                    memcmp(s1.cplx_pos, si->cplx_pos, sizeof s1.cplx_pos)) {
                    int stop_at;
                    if ((st = handle_events(c, b, x, tau, xn, tau, fabs(th) * ds, si, &s1, fold, &stop_at, err))) return st;
                }
                char why[160];
                snprintf(why, sizeof why, "reached the window edge %s = %g", c->par ? "beta" : "kappa", pe);
                ab_branch_point bp;
                observe(c, xn, &s1, &bp);
                if ((st = ab_branch_add_point(b, &bp, err))) return st;
                return end_branch(c, b, xn, &s1, why, err);
            }
            ds *= 0.5;
            if (ds < cs->ds_min) {
                char why[200];
                snprintf(why, sizeof why, "could not reach the window edge (%.150s)", scratch.msg);
                return end_branch(c, b, x, si, why, err);
            }
            continue;
        }
        int iters;
        ab_status st = correct(c, pred, tau, xn, &iters, &scratch);
        if (st == AB_OK) st = tangent_at(c, xn, tau, taun, &scratch);
        if (st == AB_OK && xdot(c, tau, taun) < 0.8 && ds > 4 * cs->ds_min) st = AB_ENOCONV; /* too sharp a turn */
        if (st == AB_OK && ds > 4 * cs->ds_min) {
            /* The corrector must not move the state much further than the predictor did:
             * a large correction means it jumped to a neighbouring branch. */
            double *d1 = c->work, *d2v = c->work2;
            for (int i = 0; i < c->n; i++) { d1[i] = pred[i] - x[i]; d2v[i] = xn[i] - pred[i]; }
            double dpred = sqrt(ab_disc_dot(c->disc, d1, d1)), dcorr = sqrt(ab_disc_dot(c->disc, d2v, d2v));
            double unorm = sqrt(ab_disc_dot(c->disc, x, x));
            if (dcorr > 0.5 * dpred + 1e-3 * (1.0 + unorm)) st = AB_ENOCONV;
        }
        if (st != AB_OK) {
            ds *= 0.5;
            if (ds < cs->ds_min) {
                char why[200];
                snprintf(why, sizeof why, "step size fell below ds_min = %g at %s = %.10g: %.100s", cs->ds_min,
                         c->par ? "beta" : "kappa", x[c->n], scratch.msg[0] ? scratch.msg : "the branch turns too sharply");
                return end_branch(c, b, x, si, why, err);
            }
            continue;
        }
        stab_info s1;
        int fold = (tau[c->n] > 0) != (taun[c->n] > 0), stop_at = -1;
        st = stability_at(c, xn, c->spec->sectors, c->spec->n_sectors, &s1, NULL, &scratch);
        if (!st) {
            int changed = s1.n_unstable != si->n_unstable || memcmp(s1.real_pos, si->real_pos, sizeof s1.real_pos) ||
                          memcmp(s1.cplx_pos, si->cplx_pos, sizeof s1.cplx_pos);
            if (fold || changed) st = handle_events(c, b, x, tau, xn, taun, ds, si, &s1, fold, &stop_at, &scratch);
        }
        if (st == AB_ENOMEM) return ab_error_set(err, st, "%s", scratch.msg);
        if (st) {
            char why[200];
            snprintf(why, sizeof why, "stability analysis failed at %s = %.10g: %.120s", c->par ? "beta" : "kappa", xn[c->n],
                     scratch.msg);
            return end_branch(c, b, x, si, why, err);
        }
        if (stop_at >= 0) {
            /* The branch has run into a branch point that is already in the diagram (a loop
             * closing, or a branch met from its other end): what lies beyond is known. */
            const ab_special_point *sp = &c->diag->special[stop_at];
            char why[200];
            snprintf(why, sizeof why, "reached a known branch point at %s = %.10g: the continuation beyond it is already in the diagram",
                     c->par ? "beta" : "kappa", c->par ? sp->beta : sp->kappa);
            snprintf(b->end_reason, sizeof b->end_reason, "%s", why);
            return AB_OK;
        }
        ab_branch_point bp;
        observe(c, xn, &s1, &bp);
        if ((st = ab_branch_add_point(b, &bp, err))) return st;
        log_step(c, b, &bp, ds);
        {
            /* A point beyond the resolution limit ends the branch: its numbers would not be
             * trustworthy (docs/theory.md, "Adaptive resolution"). */
            double tail;
            int need;
            if (ab_disc_resolution(c->disc, xn, &tail, &need, &scratch) == AB_OK && tail > AB_RESOLUTION_TAIL_MAX) {
                char why[256];
                snprintf(why, sizeof why,
                         "not resolved with %d nodes at %s = %.6g (density modes at the top degree %.1e of the largest, "
                         "limit %.0e): about %d nodes are needed (discretization.nodes)",
                         c->n, c->par ? "beta" : "kappa", xn[c->n], tail, AB_RESOLUTION_TAIL_MAX, need);
                (void)warned;
                if (need > c->diag->nodes_needed) c->diag->nodes_needed = need;
                return end_branch(c, b, x, si, why, err); /* at the last resolved point */
            }
        }
        memcpy(x, xn, sizeof(double) * c->np1);
        memcpy(tau, taun, sizeof(double) * c->np1);
        *si = s1;
        if (iters <= 2) ds = fmin(cs->ds_max, 1.5 * ds);
        else if (iters >= 6) ds = fmax(cs->ds_min, 0.6 * ds);
    }
}

/* ---- branch switching ---------------------------------------------------------- */

static ab_status switch_branch(cont *c, pending *pd, int dir, ab_error *err)
{
    ab_diagram *d = c->diag;
    const int n = c->n;
    double *x = c->xb, *tau = c->taub, *pred = malloc(sizeof(double) * c->np1),
           *normal = malloc(sizeof(double) * c->np1), *x1 = malloc(sizeof(double) * c->np1);
    if (!pred || !normal || !x1) { free(pred); free(normal); free(x1); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    memset(normal, 0, sizeof(double) * c->np1);
    memcpy(normal, pd->phi, sizeof(double) * n);
    ab_status st = AB_ENOCONV;
    ab_error scratch = {0};
    /* Predictor from the reduced equation, corrector on the hyperplane <phi, u - u*> = xi. */
    for (double xi = c->cs->ds; xi >= 64 * c->cs->ds_min && st; xi *= 0.5) {
        double s = dir * xi;
        for (int i = 0; i < n; i++) pred[i] = pd->x[i] + s * pd->phi[i];
        pred[n] = pd->x[n] + pd->q1 * s + pd->q2 * s * s;
        int iters;
        st = correct(c, pred, normal, x1, &iters, &scratch);
        if (!st) {
            double du = 0.0;
            for (int i = 0; i < n; i++) du = fmax(du, fabs(x1[i] - pd->x[i]));
            if (du < 0.1 * xi) st = AB_ENOCONV; /* fell back onto the old branch */
        }
    }
    ab_special_point *sp = &d->special[pd->special];
    if (st) {
        char note[200];
        snprintf(note, sizeof note, "branch switching failed in direction %+d", dir);
        if (!sp->note[0]) snprintf(sp->note, sizeof sp->note, "%s", note);
        free(pred); free(normal); free(x1);
        return AB_OK;
    }
    stab_info si;
    if ((st = stability_at(c, x1, c->spec->sectors, c->spec->n_sectors, &si, NULL, err))) { free(pred); free(normal); free(x1); return st; }
    ab_branch_point bp1;
    observe(c, x1, &si, &bp1);
    if (on_known_branch(c, &bp1)) {
        if (c->log) fprintf(c->log, "attnbif run: the branch from %s in direction %+d is already known: not followed again\n",
                            sp->profile, dir);
        free(pred); free(normal); free(x1);
        return AB_OK;
    }
    if (d->n_branches >= c->cs->max_branches) {
        warn(c, "max_branches reached: a branch from the special point at %.10g (index %d) was not followed", pd->x[n], pd->special);
        free(pred); free(normal); free(x1);
        return AB_OK;
    }
    /* Which side the branch left to, against the normal form's prediction. */
    if (pd->predicted_side != 0) {
        int side = x1[n] > pd->x[n] ? 1 : -1;
        int check = side == pd->predicted_side ? 1 : -1;
        if (sp->criticality_checked >= 0) sp->criticality_checked = check;
        if (check < 0) warn(c, "criticality check failed at the branch point at %.10g (special %d)", pd->x[n], pd->special);
    }
    ab_branch *b = ab_diagram_add_branch(d, pd->special);
    if (!b) { free(pred); free(normal); free(x1); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    /* Row 0: the branch point itself, labelled as on the parent branch. */
    ab_branch_point bp0;
    observe(c, pd->x, NULL, &bp0);
    bp0.n_unstable = -1;
    bp0.label = sp->type;
    bp0.special = pd->special;
    if ((st = ab_branch_add_point(b, &bp0, err)) || (st = ab_branch_add_point(b, &bp1, err))) {
        free(pred); free(normal); free(x1);
        return st;
    }
    b->points[0].n_unstable = si.n_unstable;
    if (c->log) fprintf(c->log, "attnbif run: branch %d leaves %s in direction %+d\n", b->id, sp->profile, dir);
    for (int i = 0; i < c->np1; i++) tau[i] = x1[i] - pd->x[i];
    double nrm = xnorm(c, tau);
    for (int i = 0; i < c->np1; i++) tau[i] /= nrm;
    memcpy(x, x1, sizeof(double) * c->np1);
    /* start the tangent properly at x1 */
    memcpy(pred, tau, sizeof(double) * c->np1);
    if ((st = tangent_at(c, x, pred, tau, err))) { free(pred); free(normal); free(x1); return st; }
    free(pred); free(normal); free(x1);
    return follow(c, b, x, tau, &si, err);
}

/* ---- driver -------------------------------------------------------------------- */

static void cont_free(cont *c)
{
    double *arrs[] = {c->J, c->B, c->rhs, c->F, c->Fp, c->row, c->work, c->work2, c->work3, c->work4,
                      c->svd_u, c->svd_vt, c->svd_s, c->svd_super};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) free(arrs[i]);
    for (int i = 0; i < 6; i++) free(c->xs[i]);
    free(c->xn); free(c->taun); free(c->xb); free(c->taub);
    free(c->ipiv);
    for (int i = 0; i < c->n_queue; i++) { free(c->queue[i].x); free(c->queue[i].phi); }
    free(c->queue);
    ab_newton_destroy(c->newton);
    ab_eigensolver_destroy(c->eig);
    ab_disc_destroy(c->disc);
}

static ab_status cont_init(cont *c, const ab_spec *spec, int nodes, ab_diagram *diag, FILE *log, ab_error *err)
{
    memset(c, 0, sizeof *c);
    c->spec = spec;
    c->cs = &spec->continuation;
    c->diag = diag;
    c->log = log;
    c->par = spec->continuation.parameter;
    c->tol = spec->newton.tol;
    ab_status st = nodes == AB_NODES_AUTO ? ab_choose_run_nodes(spec, &nodes, err) : AB_OK;
    if (!st) st = ab_disc_create_with_nodes(spec, nodes, &c->disc, err);
    if (st) return st;
    const int n = (int)ab_disc_dim(c->disc), m = n + 1;
    c->n = n;
    c->np1 = m;
    size_t nn = (size_t)n * n, mm = (size_t)m * m;
    int ok;
    c->J = malloc(sizeof(double) * nn); c->B = malloc(sizeof(double) * (mm > nn ? mm : nn));
    c->rhs = malloc(sizeof(double) * m); c->F = malloc(sizeof(double) * n); c->Fp = malloc(sizeof(double) * n);
    c->row = malloc(sizeof(double) * m); c->work = malloc(sizeof(double) * m); c->work2 = malloc(sizeof(double) * m);
    c->work3 = malloc(sizeof(double) * m); c->work4 = malloc(sizeof(double) * m);
    c->svd_u = malloc(sizeof(double) * nn); c->svd_vt = malloc(sizeof(double) * nn);
    c->svd_s = malloc(sizeof(double) * n); c->svd_super = malloc(sizeof(double) * n);
    c->ipiv = malloc(sizeof(lapack_int) * m);
    for (int i = 0; i < 6; i++) c->xs[i] = malloc(sizeof(double) * m);
    c->xn = malloc(sizeof(double) * m); c->taun = malloc(sizeof(double) * m);
    c->xb = malloc(sizeof(double) * m); c->taub = malloc(sizeof(double) * m);
    ok = c->xn && c->taun && c->xb && c->taub;
    ok = ok && c->J && c->B && c->rhs && c->F && c->Fp && c->row && c->work && c->work2 && c->work3 && c->work4 &&
             c->svd_u && c->svd_vt && c->svd_s && c->svd_super && c->ipiv;
    for (int i = 0; i < 6; i++) ok = ok && c->xs[i];
    if (!ok) return ab_error_set(err, AB_ENOMEM, "out of memory for continuation (n = %d)", n);
    if ((st = ab_newton_create((size_t)n, &c->newton, err))) return st;
    return ab_eigensolver_create(n, &c->eig, err);
}

/* Restart from the spec's label (state type label, docs/spec.md; the spec must have been
 * given the label's parameters and node count by ab_spec_apply_label): its point, polished
 * by the corrector on the hyperplane through it normal to its tangent (regular at folds,
 * unlike Newton in u alone), and its tangent; without a stored tangent, the tangent there
 * in the spec's direction. */
static ab_status label_start(cont *c, double *x, double *tau, ab_special_type *type, ab_error *err)
{
    const ab_spec *spec = c->spec;
    ab_label lab;
    ab_status st = ab_label_read(spec->state.path, spec->state.label, &lab, err);
    if (st) return st;
    const double p = c->par == AB_PARAM_KAPPA ? spec->kappa : spec->model.beta;
    if (lab.dim != (size_t)c->n || (int)lab.parameter != c->par || lab.x[lab.dim] != p || lab.kappa != spec->kappa ||
        lab.model.beta != spec->model.beta)
        st = ab_error_set(err, AB_EINVAL, "label %s (%zu unknowns, kappa = %.17g, beta = %.17g) does not match the spec "
                          "(%d unknowns, kappa = %.17g, beta = %.17g): apply it to the spec first (ab_spec_apply_label)",
                          lab.name, lab.dim, lab.kappa, lab.model.beta, c->n, spec->kappa, spec->model.beta);
    *type = lab.type;
    if (!st) {
        memcpy(x, lab.x, sizeof(double) * c->np1);
        memset(c->xs[2], 0, sizeof(double) * c->np1);
        c->xs[2][c->n] = spec->continuation.direction;
        if (lab.tangent) {
            memcpy(tau, lab.tangent, sizeof(double) * c->np1);
            double nrm = xnorm(c, tau);
            for (int i = 0; i < c->np1; i++) tau[i] /= nrm;
        } else {
            st = tangent_at(c, x, c->xs[2], tau, err);
        }
    }
    ab_label_free(&lab);
    int iters;
    if (!st) memcpy(c->xs[1], x, sizeof(double) * c->np1);
    if (!st) st = correct(c, c->xs[1], tau, x, &iters, err);
    return st;
}

static ab_status run_once(const ab_spec *spec, int nodes, const ab_run_opts *opts, ab_diagram *diag, ab_error *err)
{
    ab_diagram_init(diag, spec, (ab_param_id)spec->continuation.parameter);
    if (!spec->continuation.present)
        return ab_error_set(err, AB_ESPEC, "%s: the spec has no `continuation` section (see docs/spec.md)", spec->path);
    cont c;
    ab_status st = cont_init(&c, spec, nodes, diag, opts ? opts->progress : NULL, err);
    if (st) { cont_free(&c); return st; }
    diag->nodes = c.n;
    /* The first state, by Newton at the spec's parameters, or a label's point and tangent. */
    double *x = c.xb, *tau = c.taub;
    ab_newton_opts nopts = {spec->newton.tol, spec->newton.max_iter, NULL, NULL};
    ab_newton_report rep;
    const int from_label = spec->state.type == AB_STATE_LABEL;
    ab_special_type start_type = AB_SP_NONE;
    if (from_label) st = label_start(&c, x, tau, &start_type, err);
    else if (!(st = ab_initial_state(c.disc, &spec->state, x, err))) st = ab_newton_solve(c.newton, c.disc, x, &nopts, &rep, err);
    if (st) {
        ab_error_prefix(err, "the starting state: ");
        cont_free(&c);
        return st;
    }
    if (!from_label) x[c.n] = get_p(&c);
    stab_info si;
    if ((st = stability_at(&c, x, spec->sectors, spec->n_sectors, &si, NULL, err))) { cont_free(&c); return st; }
    ab_branch *b = ab_diagram_add_branch(diag, -1);
    ab_branch_point bp;
    observe(&c, x, &si, &bp);
    /* a label's own event, met again in the first step, merges with this row (handle_events) */
    if (start_type != AB_SP_END) bp.label = start_type;
    if (!b || (st = ab_branch_add_point(b, &bp, err))) { cont_free(&c); return st ? st : AB_ENOMEM; }
    if (c.log) fprintf(c.log, "attnbif run: branch 1 from the %s state at %s = %g\n", ab_state_type_name(spec->state.type),
                       c.par ? "beta" : "kappa", x[c.n]);
    memset(c.xs[2], 0, sizeof(double) * c.np1);
    c.xs[2][c.n] = spec->continuation.direction;
    if (!from_label && (st = tangent_at(&c, x, c.xs[2], tau, err))) { cont_free(&c); return st; }
    if ((st = follow(&c, b, x, tau, &si, err))) { cont_free(&c); return st; }
    /* Branch switching, breadth first. */
    for (int q = 0; q < c.n_queue && !st; q++) {
        /* a copy: switch_branch can push onto (and so reallocate) c.queue */
        pending pd = c.queue[q];
        for (int k = 0; k < pd.n_dirs && !st; k++) st = switch_branch(&c, &pd, pd.dirs[k], err);
    }
    cont_free(&c);
    return st;
}

ab_status ab_run_diagram(const ab_spec *spec, const ab_run_opts *opts, ab_diagram *diag, ab_error *err)
{
    ab_status st = run_once(spec, spec->disc.nodes, opts, diag, err);
    /* nodes: auto: a branch that ran out of resolution means the whole diagram is computed
     * again on the grid it asked for (every point of a diagram on one grid), up to nodes_max. */
    for (int round = 0; !st && spec->disc.nodes == AB_NODES_AUTO && round < AB_RUN_REFINEMENTS; round++) {
        int need = (diag->nodes_needed + 7) / 8 * 8;
        if (need <= diag->nodes) break;
        if (need > spec->disc.nodes_max) need = spec->disc.nodes_max;
        if (need <= diag->nodes) break;
        if (opts && opts->progress)
            fprintf(opts->progress, "attnbif run: a branch needs %d nodes (the diagram used %d): computing it again\n", need,
                    diag->nodes);
        ab_diagram_free(diag);
        st = run_once(spec, need, opts, diag, err);
    }
    return st;
}
