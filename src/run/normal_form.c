/* Normal forms at branch points (Lyapunov-Schmidt reduction): kernel vectors, the
 * quadratic and cubic coefficients of the reduced equation by finite differences of F,
 * criticality and the predictor of the bifurcating branch (docs/continuation.md). */
#include "run/builder.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double max_abs(const double *x, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* F_uu[a, a] by a centred second difference (h = fd_step_second ~ 1e-4: error ~1e-8 relative). */
static ab_status d2(ab_builder *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    double h = c->prm.fd_step_second / fmax(1.0, max_abs(a, n)), *xp = c->xs[3], *Fp = c->work2;
    memcpy(xp, x, sizeof(double) * c->np1);
    ab_status st = ab_builder_residual_at(c, x, out, err);
    for (int i = 0; i < n; i++) out[i] *= -2.0;
    for (int sgn = -1; sgn <= 1 && !st; sgn += 2) {
        for (int i = 0; i < n; i++) xp[i] = x[i] + sgn * h * a[i];
        st = ab_builder_residual_at(c, xp, Fp, err);
        for (int i = 0; i < n && !st; i++) out[i] += Fp[i];
    }
    for (int i = 0; i < n; i++) out[i] /= h * h;
    return st;
}

/* F_uu[a, b] by polarisation: (F_uu[a+b, a+b] - F_uu[a-b, a-b]) / 4. */
static ab_status d2_mixed(ab_builder *c, const double *x, const double *a, const double *b, double *out, ab_error *err)
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

/* F_uuu[a, a, a] by a centred third difference (h = fd_step_third ~ 1e-3). */
static ab_status d3(ab_builder *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    const double h = c->prm.fd_step_third / fmax(1.0, max_abs(a, n)), coef[4] = {-1.0, 2.0, -2.0, 1.0}, shift[4] = {-2, -1, 1, 2};
    double *xp = c->xs[3], *Fp = c->work2;
    memset(out, 0, sizeof(double) * n);
    memcpy(xp, x, sizeof(double) * c->np1);
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < n; i++) xp[i] = x[i] + shift[k] * h * a[i];
        ab_status st = ab_builder_residual_at(c, xp, Fp, err);
        if (st) return st;
        for (int i = 0; i < n; i++) out[i] += coef[k] * Fp[i];
    }
    for (int i = 0; i < n; i++) out[i] /= 2.0 * h * h * h;
    return AB_OK;
}

/* F_up a = d/dp (F_u a) by a mixed centred difference. */
static ab_status dup(ab_builder *c, const double *x, const double *a, double *out, ab_error *err)
{
    const int n = c->n;
    const double hu = c->prm.fd_step_second / fmax(1.0, max_abs(a, n)),
                 hp = c->prm.fd_step_second * fmax(c->prm.fd_param_floor, fabs(x[n]));
    double *xp = c->xs[3], *Fp = c->work2;
    memset(out, 0, sizeof(double) * n);
    for (int su = -1; su <= 1; su += 2)
        for (int sp = -1; sp <= 1; sp += 2) {
            for (int i = 0; i < n; i++) xp[i] = x[i] + su * hu * a[i];
            xp[n] = x[n] + sp * hp;
            ab_status st = ab_builder_residual_at(c, xp, Fp, err);
            if (st) return st;
            for (int i = 0; i < n; i++) out[i] += su * sp * Fp[i];
        }
    for (int i = 0; i < n; i++) out[i] /= 4.0 * hu * hp;
    return ab_builder_set_p(c, x[n], err);
}

/* Solve [J psi; phi^T 0] [z; mu] = [rhs; 0] (nonsingular at a simple branch point) through
 * the linear-solver interface, J from the last linearisation; rhs has n + 1 entries. */
static ab_status singular_bordered(ab_builder *c, const double *phi, const double *psi, double *rhs, ab_error *err)
{
    const double zero = 0.0;
    if (max_abs(rhs, c->n) <= c->prm.zero_vector_tol) {
        /* a right-hand side that is rounding noise (F_p at a uniform state) has the solution
         * 0; solving for it would ask GMRES to resolve noise along the kernel directions a
         * multiple branch point leaves outside phi */
        memset(rhs, 0, sizeof(double) * ((size_t)c->n + 1));
        return AB_OK;
    }
    ab_bordered bo = {ab_problem_jacobian(c->problem), 1, psi, phi, &zero};
    ab_linop op;
    ab_bordered_linop(&bo, &op);
    rhs[c->n] = 0.0;
    ab_error scratch = {0};
    ab_status st = ab_linsol_setup(c->ls, &op, &scratch);
    if (!st) st = ab_linsol_solve(c->ls, rhs, rhs, &scratch);
    if (st == AB_ELINALG) return ab_error_set(err, st, "branch point is not simple (bordered system singular)");
    return st ? ab_error_set(err, st, "%s", scratch.msg) : AB_OK;
}

/* J = F_u (linearised) and Fp = F_p at x. */
static ab_status linearize_at(ab_builder *c, const double *x, double *Fp, ab_error *err)
{
    ab_status st = ab_builder_set_p(c, x[c->n], err);
    if (!st) st = ab_problem_linearize(c->problem, x, err);
    if (!st && Fp) st = ab_problem_dparam(c->problem, x, c->par, Fp, err);
    return st;
}

/* The kernel vectors of J at a branch point: phi (right) and psi (left), the singular
 * vectors of its smallest singular value (LAPACK dgesvd on the assembled matrix; the
 * workspace is allocated here, at branch points only), or without a matrix by bordered
 * inverse iteration (ab_problem_kernel_vectors). */
static ab_status kernel_vectors(ab_builder *c, double *phi, double *psi, ab_error *err)
{
    const int n = c->n;
    if (!ab_problem_has_matrix(c->problem)) {
        /* matrix-free: bordered inverse iteration (its scratch: two continuation points) */
        return ab_problem_kernel_vectors(c->problem, c->ls, phi, psi, c->work2, err);
    }
    const size_t nn = (size_t)n * n;
    double *A = malloc(sizeof(double) * nn), *U = malloc(sizeof(double) * nn), *VT = malloc(sizeof(double) * nn),
           *sv = malloc(sizeof(double) * n), *super = malloc(sizeof(double) * n);
    ab_status st = AB_OK;
    if (!A || !U || !VT || !sv || !super) {
        st = ab_error_set(err, AB_ENOMEM, "out of memory for the SVD at a branch point (n = %d)", n);
    } else if ((st = ab_problem_jacobian(c->problem)->matrix(ab_problem_jacobian(c->problem)->ctx, A, (size_t)n, err)) == AB_OK) {
        lapack_int info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'A', 'A', n, n, A, n, sv, U, n, VT, n, super);
        if (info) {
            st = ab_error_set(err, AB_ELINALG, "SVD at the branch point failed (info %d)", (int)info);
        } else {
            for (int j = 0; j < n; j++) phi[j] = VT[(n - 1) + (size_t)j * n];
            for (int i = 0; i < n; i++) psi[i] = U[i + (size_t)(n - 1) * n];
        }
    }
    free(A); free(U); free(VT); free(sv); free(super);
    return st;
}

static double vdot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Classify a branch point at x and prepare the switch: kernel vectors from the SVD
 * of F_u, quadratic coefficient a (pitchfork if it vanishes), a_lambda and, for
 * pitchforks, the cubic coefficient c3 of the reduced equation
 *   g(xi, lambda) = a_lambda lambda xi + (a/2) xi^2 + (c3/6) xi^3. */
ab_status ab_builder_reduce(ab_builder *c, const double *x, double dmu_dp, ab_special_point *sp, ab_pending *pd, ab_error *err)
{
    return ab_builder_reduce_along(c, x, dmu_dp, NULL, -1, NULL, sp, pd, err);
}

ab_status ab_builder_reduce_along(ab_builder *c, const double *x, double dmu_dp, const double *psi_given, int flip,
                                  const ab_kernel_clean *clean, ab_special_point *sp, ab_pending *pd, ab_error *err)
{
    const int n = c->n;
    double *phi = pd->phi, *psi_v = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * (n + 1)),
           *w = malloc(sizeof(double) * (n + 1)), *q = malloc(sizeof(double) * n), *q2 = malloc(sizeof(double) * n);
    if (!psi_v || !v || !w || !q || !q2) {
        free(psi_v); free(v); free(w); free(q); free(q2);
        return ab_error_set(err, AB_ENOMEM, "out of memory at a branch point");
    }
    ab_status st = linearize_at(c, x, NULL, err);
    if (!st && psi_given) memcpy(psi_v, psi_given, sizeof(double) * n);
    else if (!st) st = kernel_vectors(c, phi, psi_v, err);
    if (st) {
        free(psi_v); free(v); free(w); free(q); free(q2);
        return st;
    }
    double nphi = sqrt(ab_disc_dot(c->disc, phi, phi));
    for (int i = 0; i < n; i++) phi[i] /= nphi;
    /* quadratic coefficient */
    st = d2(c, x, phi, q, err);
    double a = st ? 0.0 : vdot(psi_v, q, n), qn = sqrt(vdot(q, q, n));
    int pitchfork = fabs(a) <= c->prm.pitchfork_tol * fmax(qn, DBL_MIN);
    /* a_lambda = psi . (F_up phi + F_uu[phi, v]),  J v = -F_p (v perpendicular to phi) */
    if (!st) st = linearize_at(c, x, v, err);
    if (!st) {
        for (int i = 0; i < n; i++) v[i] = -v[i];
        if (clean) st = clean->apply_rhs(clean->ctx, v, err);
        if (!st) st = singular_bordered(c, phi, psi_v, v, err);
        if (!st && clean) st = clean->apply(clean->ctx, v, err);
    }
    if (!st) st = dup(c, x, phi, q2, err);
    double a_lam = 0.0;
    if (!st) {
        a_lam = vdot(psi_v, q2, n);
        if (max_abs(v, n) > c->prm.zero_vector_tol) {
            st = d2_mixed(c, x, phi, v, q2, err);
            if (!st) a_lam += vdot(psi_v, q2, n);
        }
    }
    pd->q1 = pd->q2 = 0.0;
    pd->predicted_side = 0;
    if (!st && pitchfork) {
        sp->type = AB_SP_PITCHFORK;
        /* c3 = psi . (F_uuu[phi,phi,phi] + 3 F_uu[phi, w]),  J w = -F_uu[phi, phi] */
        if (!st) st = linearize_at(c, x, NULL, err);
        if (!st) {
            for (int i = 0; i < n; i++) w[i] = -q[i];
            if (clean) st = clean->apply_rhs(clean->ctx, w, err);
            if (!st) st = singular_bordered(c, phi, psi_v, w, err);
            if (!st && clean) st = clean->apply(clean->ctx, w, err);
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
            if (fabs(c3) <= c->prm.degenerate_tol * c3_scale || a_lam == 0.0) {
                sp->criticality = AB_CRIT_DEGENERATE;
            } else {
                int side = (a_lam * c3 > 0) ? -1 : 1; /* xi^2 = -6 a_lam lambda / c3 > 0 */
                int unstable_side = dmu_dp > 0 ? 1 : -1;
                /* without the crossing's slope (a restart at the point) the side is known,
                 * which side is unstable is not */
                sp->criticality = dmu_dp == 0.0                ? AB_CRIT_UNKNOWN
                                  : side == unstable_side ? AB_CRIT_SUPERCRITICAL
                                                          : AB_CRIT_SUBCRITICAL;
                pd->q2 = -c3 / (6.0 * a_lam);
                pd->predicted_side = side;
            }
        }
    } else if (!st) {
        sp->type = AB_SP_TRANSCRITICAL;
        sp->criticality = AB_CRIT_NONE;
        if (a_lam != 0.0) pd->q1 = -a / (2.0 * a_lam);
    }
    pd->dirs[0] = 1;
    pd->dirs[1] = -1;
    if (flip >= 0) {
        /* the caller knows whether a symmetry maps +phi onto -phi (symmetric branching) */
        pd->n_dirs = flip ? 1 : 2;
        free(psi_v); free(v); free(w); free(q); free(q2);
        return st;
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
    int mirror = asym <= c->prm.symmetric_state_tol * uscale && odd <= c->prm.mirror_tol * max_abs(phi, n);
    pd->n_dirs = (sp->type == AB_SP_PITCHFORK && mirror) ? 1 : 2;
    pd->dirs[0] = 1;
    pd->dirs[1] = -1;
    free(psi_v); free(v); free(w); free(q); free(q2);
    return st;
}

