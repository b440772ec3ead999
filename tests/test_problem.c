/* The problem object, Newton and the continuation object on a toy problem with a continuous
 * symmetry: F(u; p) = (|u|^2 - p) u / |u| on R^2 \ {0} is rotation-invariant, its solutions
 * |u|^2 = p form circles, and the Jacobian is singular along them (the rotation generator g = (-u1,
 * u0) spans its kernel). Only the phase condition <g(u_ref), u - u_ref> = 0 makes the
 * solution isolated: exactly u = sqrt(p) u_ref / |u_ref|, which the tests check. */
#include "attnbif/cont.h"
#include "attnbif/problem.h"
#include "attnbif/solve.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double p, q;   /* parameters ("p", and "q" which F ignores) */
    double lin[2]; /* the point of the last linearisation */
    double w[2];
    int set_calls;
} ring;

static const char *const names[] = {"p", "q"};

static ab_status ring_set(void *ctx, const double *params, ab_error *err)
{
    ring *r = ctx;
    if (!(params[0] > 0.0)) return ab_error_set(err, AB_EINVAL, "p must be > 0");
    r->p = params[0];
    r->q = params[1];
    r->set_calls++;
    return AB_OK;
}

static ab_status ring_residual(void *ctx, const double *u, double *F, ab_error *err)
{
    (void)err;
    const ring *r = ctx;
    const double rr = hypot(u[0], u[1]), s = (u[0] * u[0] + u[1] * u[1] - r->p) / rr;
    F[0] = s * u[0];
    F[1] = s * u[1];
    return AB_OK;
}

static ab_status ring_linearize(void *ctx, const double *u, ab_error *err)
{
    (void)err;
    ring *r = ctx;
    r->lin[0] = u[0];
    r->lin[1] = u[1];
    return AB_OK;
}

/* With n = u / |u| and s = |u|^2 - p: J = 2 |u| n n^T + (s / |u|) (I - n n^T), symmetric. */
static void ring_jac(const ring *r, double J[4])
{
    const double *u = r->lin, rr = hypot(u[0], u[1]), s = u[0] * u[0] + u[1] * u[1] - r->p;
    const double n[2] = {u[0] / rr, u[1] / rr};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) J[i + 2 * j] = 2.0 * rr * n[i] * n[j] + (s / rr) * ((i == j) - n[i] * n[j]);
}

static ab_status ring_apply(void *ctx, const double *v, double *y, ab_error *err)
{
    (void)err;
    double J[4];
    ring_jac(ctx, J);
    y[0] = J[0] * v[0] + J[2] * v[1];
    y[1] = J[1] * v[0] + J[3] * v[1];
    return AB_OK;
}

static ab_status ring_matrix(void *ctx, double *J, size_t ld, ab_error *err)
{
    (void)err;
    double A[4];
    ring_jac(ctx, A);
    J[0] = A[0];
    J[1] = A[1];
    J[ld] = A[2];
    J[ld + 1] = A[3];
    return AB_OK;
}

static ab_status ring_dparam(void *ctx, const double *u, int which, double *dF, ab_error *err)
{
    (void)ctx;
    (void)err;
    const double rr = hypot(u[0], u[1]);
    dF[0] = which == 0 ? -u[0] / rr : 0.0;
    dF[1] = which == 0 ? -u[1] / rr : 0.0;
    return AB_OK;
}

static const double *ring_weights(void *ctx) { return ((ring *)ctx)->w; }
static double ring_tolerance(void *ctx, double tol)
{
    (void)ctx;
    return tol;
}

static ab_status ring_symmetry(void *ctx, const double *u, int k, double *g, ab_error *err)
{
    (void)ctx;
    (void)k;
    (void)err;
    g[0] = -u[1];
    g[1] = u[0];
    return AB_OK;
}

static const ab_problem_ops ring_ops = {
    .name = "ring",
    .n_params = 2,
    .param_names = names,
    .set_params = ring_set,
    .residual = ring_residual,
    .linearize = ring_linearize,
    .jac_apply = ring_apply,
    .jac_apply_transpose = ring_apply,
    .jac_matrix = ring_matrix,
    .dparam = ring_dparam,
    .weights = ring_weights,
    .tolerance = ring_tolerance,
    .n_symmetries = 1,
    .symmetry = ring_symmetry,
};

static void check_api(ab_tally *t)
{
    ring r = {.w = {1.0, 1.0}};
    ab_problem *p = NULL;
    ab_error err = {0};
    const double params[2] = {1.0, 7.0};
    ab_check(t, ab_problem_create(&ring_ops, &r, 2, params, &p, &err) == AB_OK, "problem created");
    ab_check(t, ab_problem_n_params(p) == 2 && strcmp(ab_problem_param_name(p, 1), "q") == 0, "parameter names");
    ab_check(t, ab_problem_param_index(p, "p") == 0 && ab_problem_param_index(p, "kappa") == -1, "parameter lookup by name");
    ab_check(t, ab_problem_set_param(p, 0, 2.5, &err) == AB_OK && r.p == 2.5 && r.q == 7.0 && ab_problem_param(p, 0) == 2.5,
             "set_param passes every value to the problem");
    ab_check(t, ab_problem_set_param(p, 0, -1.0, &err) == AB_EINVAL && ab_problem_param(p, 0) == 2.5,
             "a refused value leaves the parameter as it was: %s", err.msg);
    const int two[2] = {0, 1}, dup[2] = {1, 1}, bad[1] = {5};
    ab_check(t, ab_problem_set_free(p, 2, two, &err) == AB_OK && ab_problem_n_free(p) == 2 && ab_problem_free_param(p, 1) == 1,
             "two free parameters");
    ab_check(t, ab_problem_set_free(p, 2, dup, &err) == AB_EINVAL, "a parameter free twice is refused: %s", err.msg);
    ab_check(t, ab_problem_set_free(p, 1, bad, &err) == AB_EINVAL, "an unknown free parameter is refused: %s", err.msg);
    const double u[2] = {0.3, -1.1}, v[2] = {0.7, 0.2};
    double y[2], J[4];
    ab_problem_linearize(p, u, &err);
    const ab_linop *op = ab_problem_jacobian(p);
    op->apply(op->ctx, v, y, &err);
    op->matrix(op->ctx, J, 2, &err);
    ab_check(t, fabs(y[0] - (J[0] * v[0] + J[2] * v[1])) < 1e-15 && fabs(y[1] - (J[1] * v[0] + J[3] * v[1])) < 1e-15,
             "Jacobian mat-vec and matrix agree");
    ab_check(t, fabs(ab_problem_dot(p, u, v) - (0.3 * 0.7 - 1.1 * 0.2)) < 1e-16, "inner product from the weights");
    ab_check(t, ab_problem_n_phase(p) == 0 && ab_problem_phase_vector(p, 0) == NULL, "no phase condition before a reference");
    ab_problem_destroy(p);
    ab_problem_ops no_residual = ring_ops;
    no_residual.residual = NULL;
    ab_check(t, ab_problem_create(&no_residual, &r, 2, params, &p, &err) == AB_EINVAL, "a problem without a residual is refused: %s",
             err.msg);
}

/* Newton with the phase condition lands on the one solution it allows, for both linear
 * solvers; the point is exact up to the tolerance. */
static void check_newton(ab_tally *t, ab_linsol_type type)
{
    ring r = {.w = {1.0, 1.0}};
    ab_problem *p = NULL;
    ab_newton *nw = NULL;
    ab_error err = {0};
    const double params[2] = {2.0, 0.0}, u_ref[2] = {1.3, 0.4};
    ab_problem_create(&ring_ops, &r, 2, params, &p, &err);
    ab_check(t, ab_problem_set_phase_reference(p, u_ref, &err) == AB_OK && ab_problem_n_phase(p) == 1, "phase reference set");
    ab_newton_create_with(2, type, NULL, &nw, &err);
    double u[2] = {1.3, 0.4};
    ab_newton_opts opts = {1e-14, 50, NULL, NULL};
    ab_newton_report rep;
    ab_status st = ab_newton_solve_problem(nw, p, u, &opts, &rep, &err);
    const double nref = hypot(u_ref[0], u_ref[1]), want0 = sqrt(2.0) * u_ref[0] / nref, want1 = sqrt(2.0) * u_ref[1] / nref;
    ab_check(t, st == AB_OK && rep.converged, "%s Newton with a phase condition converges (%d iterations): %s",
             ab_linsol_type_name(type), rep.iterations, err.msg);
    ab_check(t, fabs(u[0] - want0) < 1e-12 && fabs(u[1] - want1) < 1e-12,
             "%s Newton: u = (%.15f, %.15f), exact (%.15f, %.15f) to 1e-12", ab_linsol_type_name(type), u[0], u[1], want0,
             want1);
    /* from a guess off the reference ray, the phase condition still picks that ray */
    u[0] = 0.2;
    u[1] = 1.7;
    st = ab_newton_solve_problem(nw, p, u, &opts, &rep, &err);
    const double phase = -u_ref[1] * (u[0] - u_ref[0]) + u_ref[0] * (u[1] - u_ref[1]);
    ab_check(t, st == AB_OK && fabs(phase) < 1e-12 && fabs(u[0] * u[0] + u[1] * u[1] - 2.0) < 1e-12,
             "%s Newton from (0.2, 1.7): on the circle and on the phase line (phase %.1e)", ab_linsol_type_name(type), phase);
    ab_newton_destroy(nw);
    ab_problem_destroy(p);
}

/* Continuation in p along the circle family with the phase condition: every point is
 * exactly on the reference ray with |u|^2 = p. */
static void check_continuation(ab_tally *t, ab_linsol_type type)
{
    ring r = {.w = {1.0, 1.0}};
    ab_problem *p = NULL;
    ab_linsol *ls = NULL;
    ab_cont *c = NULL;
    ab_error err = {0};
    const double params[2] = {1.0, 0.0}, u_ref[2] = {0.6, 0.8};
    ab_problem_create(&ring_ops, &r, 2, params, &p, &err);
    ab_problem_set_phase_reference(p, u_ref, &err);
    ab_linsol_create(type, 2 + 1 + 1, NULL, &ls, &err);
    ab_cont_params prm;
    ab_cont_params_default(&prm);
    prm.state_weight = 1.0;
    prm.newton_tol = 1e-13;
    ab_check(t, ab_cont_alloc(p, ls, &prm, &c, &err) == AB_OK, "continuation object allocated: %s", err.msg);
    const double x0[3] = {0.6, 0.8, 1.0};
    ab_check(t, ab_cont_set(c, x0, NULL, +1, &err) == AB_OK && ab_cont_tangent(c)[2] > 0.0, "start with p increasing");
    double worst_circle = 0.0, worst_phase = 0.0, last_p = 1.0;
    int ok = 1, steps = 0;
    for (; steps < 40 && ok; steps++) {
        ab_cont_step_info info;
        ok = ab_cont_step(c, &info, &err) == AB_OK;
        const double *x = ab_cont_point(c);
        worst_circle = fmax(worst_circle, fabs(x[0] * x[0] + x[1] * x[1] - x[2]));
        worst_phase = fmax(worst_phase, fabs(-u_ref[1] * (x[0] - u_ref[0]) + u_ref[0] * (x[1] - u_ref[1])));
        ok = ok && x[2] > last_p;
        last_p = x[2];
    }
    ab_check(t, ok, "%s: 40 steps, p increasing to %.4f: %s", ab_linsol_type_name(type), last_p, err.msg);
    ab_check(t, worst_circle < 1e-12, "%s: |u|^2 = p on every point to 1e-12 (worst %.1e)", ab_linsol_type_name(type),
             worst_circle);
    ab_check(t, worst_phase < 1e-12, "%s: every point on the phase line to 1e-12 (worst %.1e)", ab_linsol_type_name(type),
             worst_phase);
    const double *prev = ab_cont_previous(c), *cur = ab_cont_point(c);
    ab_check(t, prev[2] < cur[2] && ab_cont_ds(c) <= prm.ds_max, "previous point kept, step within ds_max");
    ab_cont_free(c);
    ab_linsol_destroy(ls);
    ab_problem_destroy(p);
}

static void check_params(ab_tally *t)
{
    ab_cont_params prm;
    ab_error err = {0};
    ab_cont_params_default(&prm);
    ab_check(t, ab_cont_params_check(&prm, &err) == AB_OK, "the default tolerances are consistent");
    prm.ds = 1.0;
    ab_check(t, ab_cont_params_check(&prm, &err) == AB_EINVAL && strstr(err.msg, "ds_max"), "ds > ds_max refused: %s", err.msg);
    ab_cont_params_default(&prm);
    prm.step_shrink = 1.5;
    ab_check(t, ab_cont_params_check(&prm, &err) == AB_EINVAL && strstr(err.msg, "step_shrink"), "step_shrink >= 1 refused: %s",
             err.msg);
    ab_cont_params_default(&prm);
    prm.locate_tol = 0.0;
    ab_check(t, ab_cont_params_check(&prm, &err) == AB_EINVAL && strstr(err.msg, "locate_tol"), "locate_tol 0 refused: %s",
             err.msg);
}

/* Kernel vectors without a matrix (bordered inverse iteration) against the exact kernel of
 * the ring's Jacobian at a solution (the rotation generator) and against the SVD of the
 * zonal Jacobian at the uniform state at kappa_1 (a branch point), both linear solvers. */
static void check_kernel_vectors(ab_tally *t, ab_linsol_type type)
{
    const char *ln = ab_linsol_type_name(type);
    ab_error err = {0};
    {
        ring r = {.w = {1.0, 1.0}};
        ab_problem *p = NULL;
        ab_linsol *ls = NULL;
        const double params[2] = {2.0, 0.0}, u[2] = {1.0, 1.0};
        double phi[2], psi[2], work[6];
        ab_problem_create(&ring_ops, &r, 2, params, &p, &err);
        ab_linsol_create(type, 3, NULL, &ls, &err);
        ab_problem_linearize(p, u, &err);
        ab_status st = ab_problem_kernel_vectors(p, ls, phi, psi, work, &err);
        const double s = 1.0 / sqrt(2.0);
        ab_check(t, st == AB_OK && fabs(fabs(phi[0] * -s + phi[1] * s) - 1.0) < 1e-12 && fabs(fabs(psi[0] * -s + psi[1] * s) - 1.0) < 1e-12,
                 "%s: ring kernel vectors are the rotation generator (phi = (%.3f, %.3f)): %s", ln, phi[0], phi[1], err.msg);
        ab_linsol_destroy(ls);
        ab_problem_destroy(p);
    }
    char yaml[256];
    const double kappa1 = ab_kappa_l(AB_MODEL_SA, 3, 4.0, 1);
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\ndiscretization: {nodes: 48}\n", kappa1);
    ab_spec spec;
    ab_disc *disc = NULL;
    if (!ab_check(t, ab_spec_parse_string(yaml, "kernel.yaml", &spec, &err) == AB_OK &&
                         ab_disc_create_from_spec(&spec, &disc, &err) == AB_OK,
                  "zonal problem at kappa_1: %s", err.msg))
        return;
    const int n = (int)ab_disc_dim(disc);
    double *u = calloc((size_t)n, sizeof(double)), *J = malloc(sizeof(double) * n * n), *U = malloc(sizeof(double) * n * n),
           *VT = malloc(sizeof(double) * n * n), *sv = malloc(sizeof(double) * n), *sup = malloc(sizeof(double) * n),
           *phi = malloc(sizeof(double) * n), *psi = malloc(sizeof(double) * n), *work = malloc(sizeof(double) * 2 * (n + 1));
    ab_disc_jacobian(disc, u, J, &err);
    LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'A', 'A', n, n, J, n, sv, U, n, VT, n, sup);
    ab_linsol *ls = NULL;
    ab_linsol_create(type, (size_t)n + 1, NULL, &ls, &err);
    ab_problem *p = ab_disc_problem(disc);
    ab_problem_linearize(p, u, &err);
    ab_status st = ab_problem_kernel_vectors(p, ls, phi, psi, work, &err);
    double dphi = 0.0, dpsi = 0.0;
    for (int i = 0; i < n; i++) {
        dphi += phi[i] * VT[(n - 1) + (size_t)i * n];
        dpsi += psi[i] * U[i + (size_t)(n - 1) * n];
    }
    ab_check(t, st == AB_OK && 1.0 - fabs(dphi) < 1e-12 && 1.0 - fabs(dpsi) < 1e-12,
             "%s: zonal kernel vectors at kappa_1 = the SVD's to 1e-12 (1 - |<phi, v>| = %.1e, 1 - |<psi, w>| = %.1e; "
             "singular values %.1e, %.1e): %s",
             ln, 1.0 - fabs(dphi), 1.0 - fabs(dpsi), sv[n - 1], sv[n - 2], err.msg);
    ab_linsol_destroy(ls);
    ab_disc_destroy(disc);
    free(u); free(J); free(U); free(VT); free(sv); free(sup); free(phi); free(psi); free(work);
}

int main(void)
{
    ab_tally t = {0};
    check_api(&t);
    check_newton(&t, AB_LINSOL_DENSE);
    check_newton(&t, AB_LINSOL_GMRES);
    check_continuation(&t, AB_LINSOL_DENSE);
    check_continuation(&t, AB_LINSOL_GMRES);
    check_params(&t);
    check_kernel_vectors(&t, AB_LINSOL_DENSE);
    check_kernel_vectors(&t, AB_LINSOL_GMRES);
    return ab_finish(&t);
}
