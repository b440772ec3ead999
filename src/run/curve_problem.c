/* The minimally augmented system of a fold or a symmetric branch point as a problem that
 * wraps a discretisation's problem, so that the ordinary continuation object follows the
 * curve (docs/curves.md, "The extended system"). */
#include "attnbif/curves.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Step of the central differences of J that give the derivatives of g, relative to the
 * size of the direction: near the cube root of the rounding unit, so that truncation
 * (h^2) and rounding (eps / h) are both ~1e-11 (docs/curves.md, "Tolerances"). Newton on the
 * curve converges with any Jacobian this accurate; the points themselves are exact. */
#define AB_CURVE_FD_STEP 5e-6
/* The u-gradient of a sector's test function costs 2 n sector operators; it is reused while
 * the state and the parameters have moved by less than this (relative, max-norm) since it
 * was taken. It only enters Newton's Jacobian (a chord step in that row), not the points. */
#define AB_CURVE_GRAD_REUSE 1e-2
#define AB_CURVE_FD_STEP_FORWARD 1e-7

struct ab_curve_problem {
    ab_disc *disc;
    ab_problem *base;
    ab_problem *self;
    ab_problem_ops ops;
    const char *names[AB_PROBLEM_MAX_PARAMS];
    ab_curve_space space;
    int pu, pc;            /* the unknown and the continuation parameter (indices in base) */
    size_t n;              /* base dimension */
    double params[AB_PROBLEM_MAX_PARAMS];
    double *b, *c;         /* borders (n) */
    double *us, *tmp, *tmp2; /* projected state, scratch (n + 1) */
    double *J0, *J1;       /* n x n Jacobians */
    double *M;             /* (n+1) x (n+1) extended Jacobian */
    double *B;             /* (n+1) x (n+1) bordered matrix, LU-factored */
    lapack_int *ipiv;
    double *v, *w;         /* bordered solutions (n + 1): [v; g], [w; g'] */
    double *grad;          /* dg/du (n) */
    double *weights;       /* n + 1 */
    double *Fp;            /* n */
    double g_pu, g_pc;     /* dg/dp */
    int have_lin;
    int maxwell;           /* g is the free energy relative to the uniform state (a Maxwell curve) */
    int sector;            /* > 0: g tests the operator of this symmetry sector (a branch point that breaks the
                              axial symmetry), not J */
    size_t nd;             /* size of the tested operator (n, or the sector's basis size) */
    int nsym;              /* symmetry (Goldstone) vectors of the sector operator bordered off (0 or 1) */
    double *sym;           /* that vector (n) */
    size_t nb;             /* size of the bordered matrix: nd + nsym + 1; g is its last unknown */
    double *grad_u;        /* sector mode: the state (n) and parameters where grad was taken */
    double grad_p[2];
    int grad_valid;
};

/* The free energy of the state us relative to the uniform state at the base's parameters. */
static ab_status free_energy(ab_curve_problem *cp, double *fe, ab_error *err)
{
    ab_observables obs;
    ab_status st = ab_disc_observables(cp->disc, cp->us, &obs, err);
    if (!st && !isfinite(obs.free_energy))
        st = ab_error_set(err, AB_EINVAL, "a Maxwell curve needs a free energy (a gradient model: USA)");
    *fe = obs.free_energy;
    return st;
}

/* dFE/dp_which at us by a central difference in the parameter. */
static ab_status dfe_dparam(ab_curve_problem *cp, int which, double *out, ab_error *err)
{
    const double p0 = ab_problem_param(cp->base, which), h = AB_CURVE_FD_STEP * fmax(1.0, fabs(p0));
    double plus = 0.0, minus = 0.0;
    ab_status st = ab_problem_set_param(cp->base, which, p0 + h, err);
    if (!st) st = free_energy(cp, &plus, err);
    if (!st) st = ab_problem_set_param(cp->base, which, p0 - h, err);
    if (!st) st = free_energy(cp, &minus, err);
    ab_status st2 = ab_problem_set_param(cp->base, which, p0, err);
    if (!st) st = st2;
    *out = (plus - minus) / (2.0 * h);
    return st;
}

/* ---- projection onto the space ---------------------------------------------------------- */

static void project(ab_curve_problem *cp, const double *u, double *out)
{
    const size_t n = cp->n;
    if (cp->space == AB_CURVE_SPACE_ALL) {
        if (out != u) memcpy(out, u, sizeof(double) * n);
    } else if (cp->space == AB_CURVE_SPACE_MIRROR) {
        ab_disc_reflect(cp->disc, u, cp->tmp2);
        for (size_t i = 0; i < n; i++) out[i] = 0.5 * (u[i] + cp->tmp2[i]);
    } else {
        /* the mean in the problem's inner product (a Euclidean mean would not annihilate
         * the harmonics of degree >= 1 at the nodes) */
        const double *W = ab_problem_weights(cp->base);
        double mean = 0.0, wsum = 0.0;
        for (size_t i = 0; i < n; i++) {
            mean += W[i] * u[i];
            wsum += W[i];
        }
        mean /= wsum;
        for (size_t i = 0; i < n; i++) out[i] = mean;
    }
}

/* P^T u: P is symmetric for ALL and MIRROR (R is a permutation that is its own inverse);
 * for UNIFORM, P = 1 w^T with w = W / sum W, so P^T u = w (1^T u). */
static void project_transpose(ab_curve_problem *cp, const double *u, double *out)
{
    if (cp->space != AB_CURVE_SPACE_UNIFORM) {
        project(cp, u, out);
        return;
    }
    const size_t n = cp->n;
    const double *W = ab_problem_weights(cp->base);
    double sum = 0.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += u[i];
        wsum += W[i];
    }
    for (size_t i = 0; i < n; i++) out[i] = W[i] / wsum * sum;
}

/* ---- base evaluations ---------------------------------------------------------------- */

static ab_status set_base(ab_curve_problem *cp, double p_unknown, double p_cont, ab_error *err)
{
    ab_status st = AB_OK;
    if (ab_problem_param(cp->base, cp->pu) != p_unknown) st = ab_problem_set_param(cp->base, cp->pu, p_unknown, err);
    if (!st && ab_problem_param(cp->base, cp->pc) != p_cont) st = ab_problem_set_param(cp->base, cp->pc, p_cont, err);
    return st;
}

/* J (n x n, column-major) of the base at u and the current base parameters. */
static ab_status base_jacobian(ab_curve_problem *cp, const double *u, double *J, ab_error *err)
{
    ab_status st = ab_problem_linearize(cp->base, u, err);
    if (st) return st;
    const ab_linop *op = ab_problem_jacobian(cp->base);
    return op->matrix(op->ctx, J, cp->n, err);
}

/* The operator whose singularity g detects, at u, into J0 (size nd): J, or the sector's
 * operator with its Goldstone vector (docs/curves.md, "Symmetric branch points"). */
static ab_status test_operator(ab_curve_problem *cp, const double *u, ab_error *err)
{
    if (cp->sector <= 0) {
        cp->nd = cp->n;
        cp->nsym = 0;
        return base_jacobian(cp, u, cp->J0, err);
    }
    ab_sector_op op;
    ab_status st = ab_disc_sector_operator(cp->disc, u, cp->sector, &op, err);
    if (st) return st;
    if (!op.matrix || op.dim <= 0 || (size_t)op.dim > cp->n)
        return ab_error_set(err, AB_EINVAL, "sector %d has no assembled operator", cp->sector);
    cp->nd = (size_t)op.dim;
    memcpy(cp->J0, op.matrix, sizeof(double) * cp->nd * cp->nd);
    cp->nsym = op.n_symmetry > 0 ? 1 : 0;
    if (cp->nsym) {
        memcpy(cp->sym, op.symmetry, sizeof(double) * cp->nd);
        double s = 0.0;
        for (size_t i = 0; i < cp->nd; i++) s += cp->sym[i] * cp->sym[i];
        for (size_t i = 0; i < cp->nd; i++) cp->sym[i] /= sqrt(s);
    }
    return AB_OK;
}

/* Factor [A s b; s^T 0 0; c^T 0 0] (A in cp->J0, s the Goldstone vector if any) and solve for
 * [v; sigma; g] and [w; sigma'; g'] = the last unit vector: g vanishes where A is singular
 * on the complement of s. */
static ab_status bordered(ab_curve_problem *cp, ab_error *err)
{
    const size_t n = cp->nd, m = n + 1 + (size_t)cp->nsym;
    cp->nb = m;
    memset(cp->B, 0, sizeof(double) * m * m);
    for (size_t j = 0; j < n; j++) {
        memcpy(cp->B + j * m, cp->J0 + j * n, sizeof(double) * n);
        cp->B[m - 1 + j * m] = cp->c[j];
        if (cp->nsym) {
            cp->B[n + j * m] = cp->sym[j];
            cp->B[j + n * m] = cp->sym[j];
        }
    }
    memcpy(cp->B + (m - 1) * m, cp->b, sizeof(double) * n);
    lapack_int info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)m, cp->B, (lapack_int)m, cp->ipiv);
    if (info != 0)
        return ab_error_set(err, AB_ELINALG, "the bordered system of the curve's test function is singular (dgetrf %d)",
                            (int)info);
    memset(cp->v, 0, sizeof(double) * m);
    memset(cp->w, 0, sizeof(double) * m);
    cp->v[m - 1] = 1.0;
    cp->w[m - 1] = 1.0;
    LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', (lapack_int)m, 1, cp->B, (lapack_int)m, cp->ipiv, cp->v, (lapack_int)m);
    LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'T', (lapack_int)m, 1, cp->B, (lapack_int)m, cp->ipiv, cp->w, (lapack_int)m);
    return AB_OK;
}

/* w^T J1 v with J1 = J at (u, current base parameters). */
static ab_status wJv(ab_curve_problem *cp, const double *u, double *out, ab_error *err)
{
    ab_status st = base_jacobian(cp, u, cp->J1, err);
    if (st) return st;
    const size_t n = cp->n;
    double s = 0.0;
    for (size_t j = 0; j < n; j++) {
        double col = 0.0;
        for (size_t i = 0; i < n; i++) col += cp->w[i] * cp->J1[i + j * n];
        s += col * cp->v[j];
    }
    *out = s;
    return AB_OK;
}

/* dg/dp_which = -w^T J_p v by a central difference in the parameter. */
static ab_status dg_dparam(ab_curve_problem *cp, int which, double *out, ab_error *err)
{
    const double p0 = ab_problem_param(cp->base, which), h = AB_CURVE_FD_STEP * fmax(1.0, fabs(p0));
    double plus = 0.0, minus = 0.0;
    ab_status st = ab_problem_set_param(cp->base, which, p0 + h, err);
    if (!st) st = wJv(cp, cp->us, &plus, err);
    if (!st) st = ab_problem_set_param(cp->base, which, p0 - h, err);
    if (!st) st = wJv(cp, cp->us, &minus, err);
    ab_status st2 = ab_problem_set_param(cp->base, which, p0, err);
    if (!st) st = st2;
    *out = -(plus - minus) / (2.0 * h);
    return st;
}

/* g at the state u and the current base parameters with the current borders (sector mode). */
static ab_status g_at(ab_curve_problem *cp, const double *u, double *g, ab_error *err)
{
    ab_status st = test_operator(cp, u, err);
    if (!st) st = bordered(cp, err);
    if (!st) *g = cp->v[cp->nb - 1];
    return st;
}

static ab_status sector_gradient(ab_curve_problem *cp, ab_error *err)
{
    /* forward differences (one sector operator per unknown) with the step near the square
     * root of the rounding unit: ~1e-8 relative, plenty for a Jacobian row */
    const size_t n = cp->n;
    double g0 = 0.0;
    ab_status st = g_at(cp, cp->us, &g0, err);
    memcpy(cp->tmp, cp->us, sizeof(double) * n);
    for (size_t j = 0; j < n && !st; j++) {
        const double h = AB_CURVE_FD_STEP_FORWARD * fmax(1.0, fabs(cp->us[j]));
        double plus = 0.0;
        cp->tmp[j] = cp->us[j] + h;
        st = g_at(cp, cp->tmp, &plus, err);
        cp->tmp[j] = cp->us[j];
        cp->grad[j] = (plus - g0) / h;
    }
    if (!st) st = g_at(cp, cp->us, &g0, err); /* v, w as at us */
    return st;
}

static ab_status sector_dparam(ab_curve_problem *cp, int which, double *out, ab_error *err)
{
    const double p0 = ab_problem_param(cp->base, which), h = AB_CURVE_FD_STEP * fmax(1.0, fabs(p0));
    double plus = 0.0, minus = 0.0;
    ab_status st = ab_problem_set_param(cp->base, which, p0 + h, err);
    if (!st) st = g_at(cp, cp->us, &plus, err);
    if (!st) st = ab_problem_set_param(cp->base, which, p0 - h, err);
    if (!st) st = g_at(cp, cp->us, &minus, err);
    ab_status st2 = ab_problem_set_param(cp->base, which, p0, err);
    if (!st) st = st2;
    *out = (plus - minus) / (2.0 * h);
    double g0;
    if (!st) st = g_at(cp, cp->us, &g0, err); /* v, w as at p0 */
    return st;
}

/* ---- problem operations --------------------------------------------------------------- */

static ab_status op_set_params(void *ctx, const double *params, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    memcpy(cp->params, params, sizeof(double) * (size_t)ab_problem_n_params(cp->base));
    cp->have_lin = 0;
    (void)err;
    return AB_OK;
}

static ab_status op_residual(void *ctx, const double *y, double *F, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    const size_t n = cp->n;
    ab_status st = set_base(cp, y[n], cp->params[cp->pc], err);
    if (st) return st;
    project(cp, y, cp->us);
    if ((st = ab_problem_residual(cp->base, cp->us, F, err))) return st;
    for (size_t i = 0; i < n; i++) F[i] += y[i] - cp->us[i];
    cp->have_lin = 0;
    if (cp->maxwell) return free_energy(cp, &F[n], err);
    if ((st = test_operator(cp, cp->us, err))) return st;
    if ((st = bordered(cp, err))) return st;
    F[n] = cp->v[cp->nb - 1];
    cp->have_lin = 0; /* the base is linearised at us, but M is not built */
    return AB_OK;
}

static ab_status op_linearize(void *ctx, const double *y, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    const size_t n = cp->n, m = n + 1;
    ab_status st = set_base(cp, y[n], cp->params[cp->pc], err);
    if (st) return st;
    project(cp, y, cp->us);
    if ((st = cp->maxwell ? base_jacobian(cp, cp->us, cp->J0, err) : test_operator(cp, cp->us, err))) return st;
    if (cp->maxwell) {
        /* dFE/du by central differences (one state evaluation each: cheap beside the
         * Jacobian). At a solution it is nearly zero (the free energy is stationary at a
         * stationary state), but not near the uniform state, where FE_p vanishes too. */
        memcpy(cp->tmp, cp->us, sizeof(double) * n);
        for (size_t j = 0; j < n && !st; j++) {
            const double h = AB_CURVE_FD_STEP * fmax(1.0, fabs(cp->us[j]));
            double plus = 0.0, minus = 0.0;
            cp->us[j] = cp->tmp[j] + h;
            st = free_energy(cp, &plus, err);
            cp->us[j] = cp->tmp[j] - h;
            if (!st) st = free_energy(cp, &minus, err);
            cp->us[j] = cp->tmp[j];
            cp->grad[j] = (plus - minus) / (2.0 * h);
        }
        if (!st) st = dfe_dparam(cp, cp->pu, &cp->g_pu, err);
    } else if ((st = bordered(cp, err))) {
        return st;
    } else if (cp->sector > 0) {
        /* the sector operator's dependence on u has no symmetric second derivative to use:
         * dg/du by central differences of g, one sector operator and one LU each */
        double moved = 0.0, size = 1.0;
        for (size_t i = 0; i < n && cp->grad_valid; i++) {
            moved = fmax(moved, fabs(cp->us[i] - cp->grad_u[i]));
            size = fmax(size, fabs(cp->us[i]));
        }
        const double pu = ab_problem_param(cp->base, cp->pu), pc = ab_problem_param(cp->base, cp->pc);
        const int reuse = cp->grad_valid && moved <= AB_CURVE_GRAD_REUSE * size &&
                          fabs(pu - cp->grad_p[0]) <= AB_CURVE_GRAD_REUSE * fmax(1.0, fabs(pu)) &&
                          fabs(pc - cp->grad_p[1]) <= AB_CURVE_GRAD_REUSE * fmax(1.0, fabs(pc));
        if (!reuse) {
            st = sector_gradient(cp, err);
            if (!st) st = sector_dparam(cp, cp->pu, &cp->g_pu, err);
            if (!st) {
                memcpy(cp->grad_u, cp->us, sizeof(double) * n);
                cp->grad_p[0] = pu;
                cp->grad_p[1] = pc;
                cp->grad_valid = 1;
            }
        }
    }
    /* dg/du = -w^T F_uu[v, .] = -(J(u + h v) - J(u - h v))^T w / (2 h) (F_uu is symmetric) */
    double vmax = 0.0;
    for (size_t i = 0; i < n; i++) vmax = fmax(vmax, fabs(cp->v[i]));
    const double h = AB_CURVE_FD_STEP / fmax(vmax, 1e-300);
    const int fu = !cp->maxwell && cp->sector <= 0; /* g tests J itself */
    if (fu) memset(cp->grad, 0, sizeof(double) * n);
    for (int sgn = 1; sgn >= -1 && !st && fu; sgn -= 2) {
        for (size_t i = 0; i < n; i++) cp->tmp[i] = cp->us[i] + sgn * h * cp->v[i];
        st = base_jacobian(cp, cp->tmp, cp->J1, err);
        for (size_t j = 0; j < n && !st; j++) {
            double col = 0.0;
            for (size_t i = 0; i < n; i++) col += cp->w[i] * cp->J1[i + j * n];
            cp->grad[j] -= sgn * col / (2.0 * h);
        }
    }
    if (!st && fu) st = dg_dparam(cp, cp->pu, &cp->g_pu, err);
    /* the matrix J of the state equations, for M (J0 held the tested operator) */
    if (!st && !fu && !cp->maxwell) st = base_jacobian(cp, cp->us, cp->J0, err);
    if (!st) st = ab_problem_linearize(cp->base, cp->us, err);
    if (!st) st = ab_problem_dparam(cp->base, cp->us, cp->pu, cp->Fp, err);
    if (st) return st;
    /* M = [J P + I - P, F_p; grad^T P, g_p] */
    for (size_t j = 0; j < n; j++) {
        memset(cp->tmp, 0, sizeof(double) * n);
        cp->tmp[j] = 1.0;
        project(cp, cp->tmp, cp->tmp);
        double *col = cp->M + j * m;
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++)
                if (cp->tmp[k] != 0.0) s += cp->J0[i + k * n] * cp->tmp[k];
            col[i] = s - cp->tmp[i] + (i == j ? 1.0 : 0.0);
        }
    }
    project_transpose(cp, cp->grad, cp->tmp);
    for (size_t j = 0; j < n; j++) cp->M[n + j * m] = cp->tmp[j];
    memcpy(cp->M + n * m, cp->Fp, sizeof(double) * n);
    cp->M[n + n * m] = cp->g_pu;
    cp->have_lin = 1;
    return AB_OK;
}

static ab_status need_lin(const ab_curve_problem *cp, ab_error *err)
{
    return cp->have_lin ? AB_OK : ab_error_set(err, AB_EINVAL, "the curve problem was not linearised");
}

static ab_status op_jac_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    ab_status st = need_lin(cp, err);
    if (st) return st;
    const size_t m = cp->n + 1;
    for (size_t i = 0; i < m; i++) y[i] = 0.0;
    for (size_t j = 0; j < m; j++)
        for (size_t i = 0; i < m; i++) y[i] += cp->M[i + j * m] * x[j];
    return AB_OK;
}

static ab_status op_jac_apply_t(void *ctx, const double *x, double *y, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    ab_status st = need_lin(cp, err);
    if (st) return st;
    const size_t m = cp->n + 1;
    for (size_t j = 0; j < m; j++) {
        double s = 0.0;
        for (size_t i = 0; i < m; i++) s += cp->M[i + j * m] * x[i];
        y[j] = s;
    }
    return AB_OK;
}

static ab_status op_jac_matrix(void *ctx, double *A, size_t lda, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    ab_status st = need_lin(cp, err);
    if (st) return st;
    const size_t m = cp->n + 1;
    for (size_t j = 0; j < m; j++) memcpy(A + j * lda, cp->M + j * m, sizeof(double) * m);
    return AB_OK;
}

/* dF/dp for the continuation parameter: (F_p(P u), g_p); for the unknown one, the column of
 * M. Called after linearize at the same point. */
static ab_status op_dparam(void *ctx, const double *y, int which, double *dF, ab_error *err)
{
    ab_curve_problem *cp = ctx;
    const size_t n = cp->n;
    ab_status st = set_base(cp, y[n], cp->params[cp->pc], err);
    if (st) return st;
    project(cp, y, cp->us);
    if (!cp->have_lin && (st = op_linearize(cp, y, err))) return st;
    if (which == cp->pu) {
        memcpy(dF, cp->Fp, sizeof(double) * n);
        dF[n] = cp->g_pu;
        return AB_OK;
    }
    if ((st = ab_problem_dparam(cp->base, cp->us, which, dF, err))) return st;
    if ((st = cp->maxwell         ? dfe_dparam(cp, which, &dF[n], err)
              : cp->sector > 0 ? sector_dparam(cp, which, &dF[n], err)
                               : dg_dparam(cp, which, &dF[n], err)))
        return st;
    /* leave the base linearised where it was */
    return ab_problem_linearize(cp->base, cp->us, err);
}

static const double *op_weights(void *ctx) { return ((ab_curve_problem *)ctx)->weights; }

static double op_tolerance(void *ctx, double tol)
{
    ab_curve_problem *cp = ctx;
    return ab_problem_tolerance(cp->base, tol);
}

/* ---- life cycle ------------------------------------------------------------------------ */

ab_status ab_curve_problem_create(ab_disc *disc, ab_curve_space space, int unknown_param, int cont_param,
                                  ab_curve_problem **out, ab_error *err)
{
    *out = NULL;
    ab_problem *base = ab_disc_problem(disc);
    const int np = ab_problem_n_params(base);
    if (unknown_param < 0 || unknown_param >= np || cont_param < 0 || cont_param >= np || unknown_param == cont_param)
        return ab_error_set(err, AB_EINVAL, "a curve needs two different parameters of the problem");
    if (!ab_problem_has_matrix(base) || ab_problem_n_symmetries(base) > 0)
        return ab_error_set(err, AB_EINVAL,
                            "curves of folds and branch points need an assembled Jacobian without rotation modes: "
                            "the %s discretisation is not supported yet (docs/curves.md)", ab_disc_kind(disc));
    ab_curve_problem *cp = calloc(1, sizeof *cp);
    if (!cp) return ab_error_set(err, AB_ENOMEM, "out of memory");
    const size_t n = ab_disc_dim(disc), m = n + 1;
    cp->disc = disc;
    cp->base = base;
    cp->space = space;
    cp->pu = unknown_param;
    cp->pc = cont_param;
    cp->n = n;
    cp->b = calloc(n, sizeof(double));
    cp->c = calloc(n, sizeof(double));
    cp->us = calloc(m, sizeof(double));
    cp->tmp = calloc(m, sizeof(double));
    cp->tmp2 = calloc(m, sizeof(double));
    cp->J0 = malloc(sizeof(double) * n * n);
    cp->J1 = malloc(sizeof(double) * n * n);
    cp->M = calloc(m * m, sizeof(double));
    cp->B = malloc(sizeof(double) * (m + 1) * (m + 1));
    cp->ipiv = malloc(sizeof(lapack_int) * (m + 1));
    cp->v = calloc(m + 1, sizeof(double));
    cp->w = calloc(m + 1, sizeof(double));
    cp->sym = calloc(n, sizeof(double));
    cp->grad_u = calloc(n, sizeof(double));
    cp->nd = n;
    cp->nb = m;
    cp->grad = calloc(n, sizeof(double));
    cp->weights = malloc(sizeof(double) * m);
    cp->Fp = calloc(n, sizeof(double));
    if (!cp->b || !cp->c || !cp->us || !cp->tmp || !cp->tmp2 || !cp->J0 || !cp->J1 || !cp->M || !cp->B || !cp->ipiv ||
        !cp->v || !cp->w || !cp->grad || !cp->weights || !cp->Fp || !cp->sym || !cp->grad_u) {
        ab_curve_problem_destroy(cp);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    /* the unknown parameter weighs in the arclength like the continuation parameter: its
     * weight cancels the continuation's state weight (ab_cont_params.state_weight) */
    memcpy(cp->weights, ab_problem_weights(base), sizeof(double) * n);
    cp->weights[n] = 1.0;
    for (int i = 0; i < np; i++) {
        cp->params[i] = ab_problem_param(base, i);
        cp->names[i] = ab_problem_param_name(base, i);
    }
    cp->ops = (ab_problem_ops){
        .name = space == AB_CURVE_SPACE_ALL ? "fold curve (minimally augmented)" : "branch-point curve (minimally augmented)",
        .n_params = np,
        .param_names = cp->names,
        .set_params = op_set_params,
        .residual = op_residual,
        .linearize = op_linearize,
        .jac_apply = op_jac_apply,
        .jac_apply_transpose = op_jac_apply_t,
        .jac_matrix = op_jac_matrix,
        .dparam = op_dparam,
        .weights = op_weights,
        .tolerance = op_tolerance,
    };
    ab_status st = ab_problem_create(&cp->ops, cp, m, cp->params, &cp->self, err);
    if (!st) st = ab_problem_set_free(cp->self, 1, &cp->pc, err);
    if (st) {
        ab_curve_problem_destroy(cp);
        return st;
    }
    *out = cp;
    return AB_OK;
}

void ab_curve_problem_destroy(ab_curve_problem *cp)
{
    if (!cp) return;
    ab_problem_destroy(cp->self);
    free(cp->b);
    free(cp->c);
    free(cp->us);
    free(cp->tmp);
    free(cp->tmp2);
    free(cp->J0);
    free(cp->J1);
    free(cp->M);
    free(cp->B);
    free(cp->ipiv);
    free(cp->v);
    free(cp->w);
    free(cp->grad);
    free(cp->weights);
    free(cp->Fp);
    free(cp->sym);
    free(cp->grad_u);
    free(cp);
}

ab_status ab_curve_problem_create_maxwell(ab_disc *disc, int unknown_param, int cont_param, ab_curve_problem **out,
                                          ab_error *err)
{
    if (ab_disc_model(disc)->kind != AB_MODEL_USA)
        return ab_error_set(err, AB_EINVAL, "a Maxwell curve needs a free energy: only USA (a gradient flow) has one");
    ab_status st = ab_curve_problem_create(disc, AB_CURVE_SPACE_ALL, unknown_param, cont_param, out, err);
    if (!st) {
        (*out)->maxwell = 1;
        (*out)->ops.name = "Maxwell curve (equal free energy)";
    }
    return st;
}

ab_status ab_curve_problem_create_sector(ab_disc *disc, int sector, int unknown_param, int cont_param,
                                         ab_curve_problem **out, ab_error *err)
{
    if (sector < 1 || sector > ab_disc_max_sector(disc))
        return ab_error_set(err, AB_EINVAL, "sector %d does not exist in this discretisation", sector);
    ab_status st = ab_curve_problem_create(disc, AB_CURVE_SPACE_ALL, unknown_param, cont_param, out, err);
    if (!st) {
        (*out)->sector = sector;
        (*out)->ops.name = "branch-point curve of a symmetry sector (minimally augmented)";
    }
    return st;
}

int ab_curve_problem_sector(const ab_curve_problem *cp) { return cp->sector; }

ab_problem *ab_curve_problem_get(ab_curve_problem *cp) { return cp->self; }
size_t ab_curve_problem_state_dim(const ab_curve_problem *cp) { return cp->n; }

static void unit(double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    s = sqrt(s);
    if (s > 0.0)
        for (size_t i = 0; i < n; i++) x[i] /= s;
}

/* J at y with the base parameters of y and the continuation parameter of the problem. */
static ab_status jacobian_at(ab_curve_problem *cp, const double *y, ab_error *err)
{
    const size_t n = cp->n;
    cp->params[cp->pc] = ab_problem_param(cp->self, cp->pc);
    ab_status st = set_base(cp, y[n], cp->params[cp->pc], err);
    if (st) return st;
    project(cp, y, cp->us);
    return cp->maxwell ? base_jacobian(cp, cp->us, cp->J0, err) : test_operator(cp, cp->us, err);
}

ab_status ab_curve_problem_borders_svd(ab_curve_problem *cp, const double *y, ab_error *err)
{
    ab_status st = jacobian_at(cp, y, err);
    if (st) return st;
    const size_t n = cp->nd;
    double *A = malloc(sizeof(double) * n * n), *U = malloc(sizeof(double) * n * n), *VT = malloc(sizeof(double) * n * n),
           *s = malloc(sizeof(double) * n), *superb = malloc(sizeof(double) * n);
    if (!A || !U || !VT || !s || !superb) {
        free(A), free(U), free(VT), free(s), free(superb);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    memcpy(A, cp->J0, sizeof(double) * n * n);
    lapack_int info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'A', 'A', (lapack_int)n, (lapack_int)n, A, (lapack_int)n, s, U,
                                     (lapack_int)n, VT, (lapack_int)n, superb);
    if (info == 0) {
        /* the smallest singular pair whose right vector lies in the breaking part: for a
         * symmetric branch point, the kernel is outside the symmetric space */
        int pick = (int)n - 1;
        if (cp->nsym) {
            /* not the Goldstone mode (a rotation: always in the kernel) */
            for (int k = (int)n - 1; k >= 0; k--) {
                double dot = 0.0;
                for (size_t i = 0; i < n; i++) dot += VT[(size_t)k + i * n] * cp->sym[i];
                if (fabs(dot) < 0.5) { pick = k; break; }
            }
        } else if (cp->space != AB_CURVE_SPACE_ALL) {
            for (int k = (int)n - 1; k >= 0; k--) {
                for (size_t i = 0; i < n; i++) cp->tmp[i] = VT[(size_t)k + i * n];
                project(cp, cp->tmp, cp->us);
                double sym = 0.0, all = 0.0;
                for (size_t i = 0; i < n; i++) {
                    sym += cp->us[i] * cp->us[i];
                    all += cp->tmp[i] * cp->tmp[i];
                }
                if (sym < 0.25 * all) { pick = k; break; }
            }
        }
        for (size_t i = 0; i < n; i++) {
            cp->c[i] = VT[(size_t)pick + i * n];
            cp->b[i] = U[i + (size_t)pick * n];
        }
    }
    free(A), free(U), free(VT), free(s), free(superb);
    if (info != 0) return ab_error_set(err, AB_ELINALG, "the SVD of the Jacobian failed (dgesvd %d)", (int)info);
    project(cp, y, cp->us); /* us was overwritten by the search */
    return AB_OK;
}

ab_status ab_curve_problem_refresh(ab_curve_problem *cp, const double *y, ab_error *err)
{
    if (cp->maxwell) return AB_OK;
    ab_status st = jacobian_at(cp, y, err);
    if (!st) st = bordered(cp, err);
    if (st) return st;
    memcpy(cp->c, cp->v, sizeof(double) * cp->nd);
    memcpy(cp->b, cp->w, sizeof(double) * cp->nd);
    unit(cp->c, cp->nd);
    unit(cp->b, cp->nd);
    cp->have_lin = 0;
    return AB_OK;
}

void ab_curve_problem_project(ab_curve_problem *cp, const double *y, double *u) { project(cp, y, u); }

ab_status ab_curve_problem_test(ab_curve_problem *cp, const double *y, double *g, ab_error *err)
{
    ab_status st = jacobian_at(cp, y, err);
    if (cp->maxwell) {
        cp->have_lin = 0;
        return st ? st : free_energy(cp, g, err);
    }
    if (!st) st = bordered(cp, err);
    if (!st) *g = cp->v[cp->nb - 1];
    cp->have_lin = 0;
    return st;
}

ab_status ab_curve_problem_kernel(ab_curve_problem *cp, const double *y, double *v, double *w, double *wv,
                                  ab_error *err)
{
    ab_status st = jacobian_at(cp, y, err);
    if (!st) st = bordered(cp, err);
    cp->have_lin = 0;
    if (st) return st;
    const size_t n = cp->nd;
    memcpy(v, cp->v, sizeof(double) * n);
    memcpy(w, cp->w, sizeof(double) * n);
    unit(v, n);
    unit(w, n);
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += v[i] * w[i];
    *wv = s;
    return AB_OK;
}

/* ---- normal-form coefficients ---------------------------------------------------------- */

/* Step of the differences of F along the kernel vector scaled to max-norm 1 (a change of
 * log rho of this size), halved twice for Richardson extrapolation: rounding ~eps |F| / h^3
 * and the remaining truncation ~h^6 balance near 1e-10 relative (docs/curves.md). */
#define AB_CURVE_NF_STEP 0.05

/* The second (order 2) or third (order 3) central difference of F at u along a, step h. */
static ab_status diff(ab_curve_problem *cp, int order, const double *a, double h, double *out, ab_error *err)
{
    const size_t n = cp->n;
    static const double c2[3] = {1.0, -2.0, 1.0}, s2[3] = {-1.0, 0.0, 1.0};
    static const double c3[4] = {-1.0, 2.0, -2.0, 1.0}, s3[4] = {-2.0, -1.0, 1.0, 2.0};
    const int k = order == 2 ? 3 : 4;
    const double *cf = order == 2 ? c2 : c3, *sh = order == 2 ? s2 : s3;
    const double scale = order == 2 ? h * h : 2.0 * h * h * h;
    memset(out, 0, sizeof(double) * n);
    for (int q = 0; q < k; q++) {
        for (size_t i = 0; i < n; i++) cp->tmp[i] = cp->us[i] + sh[q] * h * a[i];
        ab_status st = ab_problem_residual(cp->base, cp->tmp, cp->tmp2, err);
        if (st) return st;
        for (size_t i = 0; i < n; i++) out[i] += cf[q] * cp->tmp2[i];
    }
    for (size_t i = 0; i < n; i++) out[i] /= scale;
    return AB_OK;
}

/* <w, D(h)> extrapolated from h, h/2, h/4 (errors in h^2 and h^4). */
static ab_status diff_rich(ab_curve_problem *cp, int order, const double *a, const double *w, double *out,
                           double *vec, ab_error *err)
{
    const size_t n = cp->n;
    double d[3];
    double *acc = vec; /* the extrapolated vector, if asked */
    double *cur = malloc(sizeof(double) * n * 3);
    if (!cur) return ab_error_set(err, AB_ENOMEM, "out of memory");
    ab_status st = AB_OK;
    for (int q = 0; q < 3 && !st; q++) st = diff(cp, order, a, AB_CURVE_NF_STEP / (double)(1 << q), cur + (size_t)q * n, err);
    if (!st) {
        for (size_t i = 0; i < n; i++) {
            const double r1 = (4.0 * cur[i + n] - cur[i]) / 3.0, r2 = (4.0 * cur[i + 2 * n] - cur[i + n]) / 3.0;
            const double r = (16.0 * r2 - r1) / 15.0;
            if (acc) acc[i] = r;
            cur[i] = r;
        }
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += w[i] * cur[i];
        d[0] = s;
        *out = d[0];
    }
    free(cur);
    return st;
}

ab_status ab_curve_problem_normal_form(ab_curve_problem *cp, const double *y, double *c2, double *c3, ab_error *err)
{
    if (cp->sector > 0 || cp->maxwell) {
        /* the reduced equation of a sector's kernel is equivariant (docs/curves.md): not here */
        *c2 = *c3 = NAN;
        return AB_OK;
    }
    const size_t n = cp->n, m = n + 1;
    ab_status st = jacobian_at(cp, y, err);
    if (!st) st = bordered(cp, err);
    cp->have_lin = 0;
    if (st) return st;
    double *phi = malloc(sizeof(double) * n * 4);
    if (!phi) return ab_error_set(err, AB_ENOMEM, "out of memory");
    double *psi = phi + n, *f2 = phi + 2 * n, *h2 = phi + 3 * n;
    memcpy(phi, cp->v, sizeof(double) * n);
    memcpy(psi, cp->w, sizeof(double) * n);
    unit(phi, n);
    unit(psi, n);
    double amax = 0.0;
    for (size_t i = 0; i < n; i++) amax = fmax(amax, fabs(phi[i]));
    const double s = 1.0 / amax; /* phi scaled to max-norm 1 for the differences */
    for (size_t i = 0; i < n; i++) phi[i] *= s;
    double q2 = 0.0, q3 = 0.0, mixed[2] = {0.0, 0.0};
    st = diff_rich(cp, 2, phi, psi, &q2, f2, err);
    if (!st) {
        /* h2: [J b; c^T 0] [h2; t] = [-F_uu[phi, phi]; 0], with the factors of bordered() */
        double *rhs = malloc(sizeof(double) * m);
        if (!rhs) st = ab_error_set(err, AB_ENOMEM, "out of memory");
        else {
            for (size_t i = 0; i < n; i++) rhs[i] = -f2[i];
            rhs[n] = 0.0;
            LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', (lapack_int)m, 1, cp->B, (lapack_int)m, cp->ipiv, rhs, (lapack_int)m);
            memcpy(h2, rhs, sizeof(double) * n);
            free(rhs);
        }
    }
    if (!st) st = diff_rich(cp, 3, phi, psi, &q3, NULL, err);
    /* F_uu[phi, h2] = (F_uu[phi + h2, phi + h2] - F_uu[phi - h2, phi - h2]) / 4 */
    for (int sgn = 1; sgn >= -1 && !st; sgn -= 2) {
        for (size_t i = 0; i < n; i++) f2[i] = phi[i] + sgn * h2[i];
        st = diff_rich(cp, 2, f2, psi, &mixed[sgn > 0 ? 0 : 1], NULL, err);
    }
    free(phi);
    if (st) return st;
    *c2 = q2 / (s * s);
    *c3 = (q3 + 0.75 * (mixed[0] - mixed[1])) / (s * s * s);
    return AB_OK;
}
