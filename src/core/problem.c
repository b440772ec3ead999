/* The problem object: parameters (named, some free), the Jacobian operator of the last
 * linearisation, and the phase conditions built from the symmetry generators, over the
 * operations a concrete problem supplies (docs/library.md, "Problems"). */
#include "attnbif/problem.h"

#include "core/problem_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ab_problem {
    const ab_problem_ops *ops;
    void *ctx;
    size_t dim;
    double params[AB_PROBLEM_MAX_PARAMS];
    int n_free, free_params[AB_PROBLEM_MAX_PARAMS];
    ab_linop jac;
    int n_phase;
    double *phase; /* n_symmetries generators at the reference, then the reference itself */
    int have_reference;
};

ab_status ab_problem_create(const ab_problem_ops *ops, void *ctx, size_t dim, const double *params, ab_problem **out,
                            ab_error *err)
{
    *out = NULL;
    if (!ops || !ops->residual || !ops->linearize || !ops->jac_apply || !ops->dparam || !ops->weights || !ops->set_params)
        return ab_error_set(err, AB_EINVAL, "a problem needs set_params, residual, linearize, jac_apply, dparam and weights");
    if (ops->n_params < 1 || ops->n_params > AB_PROBLEM_MAX_PARAMS)
        return ab_error_set(err, AB_EINVAL, "a problem has 1 to %d parameters (got %d)", AB_PROBLEM_MAX_PARAMS, ops->n_params);
    if (ops->n_symmetries < 0 || ops->n_symmetries > AB_PROBLEM_MAX_SYMMETRIES || (ops->n_symmetries && !ops->symmetry))
        return ab_error_set(err, AB_EINVAL, "a problem has 0 to %d symmetry generators, each with its function",
                            AB_PROBLEM_MAX_SYMMETRIES);
    /* the problem starts at the given parameters, whatever its implementation held */
    ab_status st = ops->set_params(ctx, params, err);
    if (st) return st;
    ab_problem *p = calloc(1, sizeof *p);
    if (!p) return ab_error_set(err, AB_ENOMEM, "out of memory");
    p->ops = ops;
    p->ctx = ctx;
    p->dim = dim;
    memcpy(p->params, params, sizeof(double) * (size_t)ops->n_params);
    p->n_free = 1;
    p->free_params[0] = 0;
    p->jac = (ab_linop){dim, ops->jac_apply, ops->jac_apply_transpose, ops->jac_matrix, ctx};
    if (ops->n_symmetries > 0) {
        p->phase = malloc(sizeof(double) * dim * (size_t)(ops->n_symmetries + 1));
        if (!p->phase) { free(p); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    }
    *out = p;
    return AB_OK;
}

void ab_problem_destroy(ab_problem *p)
{
    if (!p) return;
    free(p->phase);
    free(p);
}

const char *ab_problem_name(const ab_problem *p) { return p->ops->name ? p->ops->name : "problem"; }
size_t ab_problem_dim(const ab_problem *p) { return p->dim; }
int ab_problem_n_params(const ab_problem *p) { return p->ops->n_params; }

const char *ab_problem_param_name(const ab_problem *p, int i)
{
    return (i >= 0 && i < p->ops->n_params && p->ops->param_names) ? p->ops->param_names[i] : "?";
}

int ab_problem_param_index(const ab_problem *p, const char *name)
{
    for (int i = 0; i < p->ops->n_params; i++)
        if (p->ops->param_names && strcmp(p->ops->param_names[i], name) == 0) return i;
    return -1;
}

double ab_problem_param(const ab_problem *p, int i) { return (i >= 0 && i < p->ops->n_params) ? p->params[i] : NAN; }

ab_status ab_problem_set_param(ab_problem *p, int i, double value, ab_error *err)
{
    if (i < 0 || i >= p->ops->n_params) return ab_error_set(err, AB_EINVAL, "parameter %d does not exist", i);
    if (p->params[i] == value) return AB_OK;
    double trial[AB_PROBLEM_MAX_PARAMS];
    memcpy(trial, p->params, sizeof trial);
    trial[i] = value;
    ab_status st = p->ops->set_params(p->ctx, trial, err);
    if (st) return st;
    p->params[i] = value;
    return AB_OK;
}

void ab_problem_sync_params(ab_problem *p, const double *params)
{
    memcpy(p->params, params, sizeof(double) * (size_t)p->ops->n_params);
}

ab_status ab_problem_set_free(ab_problem *p, int n_free, const int *which, ab_error *err)
{
    if (n_free < 0 || n_free > p->ops->n_params) return ab_error_set(err, AB_EINVAL, "%d free parameters of %d", n_free, p->ops->n_params);
    for (int k = 0; k < n_free; k++) {
        if (which[k] < 0 || which[k] >= p->ops->n_params) return ab_error_set(err, AB_EINVAL, "parameter %d does not exist", which[k]);
        for (int q = 0; q < k; q++)
            if (which[q] == which[k]) return ab_error_set(err, AB_EINVAL, "parameter %s is free twice", ab_problem_param_name(p, which[k]));
    }
    p->n_free = n_free;
    memcpy(p->free_params, which, sizeof(int) * (size_t)n_free);
    return AB_OK;
}

int ab_problem_n_free(const ab_problem *p) { return p->n_free; }
int ab_problem_free_param(const ab_problem *p, int k) { return (k >= 0 && k < p->n_free) ? p->free_params[k] : -1; }

ab_status ab_problem_residual(ab_problem *p, const double *u, double *F, ab_error *err)
{
    return p->ops->residual(p->ctx, u, F, err);
}

ab_status ab_problem_linearize(ab_problem *p, const double *u, ab_error *err) { return p->ops->linearize(p->ctx, u, err); }
const ab_linop *ab_problem_jacobian(ab_problem *p) { return &p->jac; }
int ab_problem_has_matrix(const ab_problem *p) { return p->ops->jac_matrix != NULL; }

int ab_problem_precond(ab_problem *p, ab_precond *pc)
{
    if (!p->ops->precond_apply) return 0;
    *pc = (ab_precond){NULL, p->ops->precond_apply, p->ctx};
    return 1;
}

void ab_problem_install_precond(ab_problem *p, ab_linsol *ls, ab_block_precond *storage)
{
    ab_precond inner, pc;
    if (ab_linsol_type_of(ls) != AB_LINSOL_GMRES || !ab_linsol_params_of(ls)->precondition ||
        !ab_problem_precond(p, &inner))
        return;
    ab_block_precond_init(storage, &inner, p->dim, &pc);
    ab_linsol_set_precond(ls, &pc);
}

ab_status ab_problem_dparam(ab_problem *p, const double *u, int which, double *dF, ab_error *err)
{
    if (which < 0 || which >= p->ops->n_params) return ab_error_set(err, AB_EINVAL, "parameter %d does not exist", which);
    return p->ops->dparam(p->ctx, u, which, dF, err);
}

const double *ab_problem_weights(ab_problem *p) { return p->ops->weights(p->ctx); }

double ab_problem_dot(ab_problem *p, const double *x, const double *y)
{
    const double *w = p->ops->weights(p->ctx);
    double s = 0.0;
    for (size_t i = 0; i < p->dim; i++) s += w[i] * x[i] * y[i];
    return s;
}

double ab_problem_tolerance(ab_problem *p, double tol) { return p->ops->tolerance ? p->ops->tolerance(p->ctx, tol) : tol; }

int ab_problem_n_symmetries(const ab_problem *p) { return p->ops->n_symmetries; }

ab_status ab_problem_symmetry(ab_problem *p, const double *u, int k, double *g, ab_error *err)
{
    if (k < 0 || k >= p->ops->n_symmetries) return ab_error_set(err, AB_EINVAL, "symmetry generator %d does not exist", k);
    return p->ops->symmetry(p->ctx, u, k, g, err);
}

ab_status ab_problem_set_phase_reference(ab_problem *p, const double *u_ref, ab_error *err)
{
    const int ns = p->ops->n_symmetries;
    p->n_phase = 0;
    p->have_reference = 0;
    if (ns == 0) return AB_OK;
    /* Generators that vanish at u_ref (a state symmetric under that rotation) or depend on
     * the others give no condition: they are dropped, the rest orthonormalised in the
     * problem's inner product (the conditions they express are unchanged). */
    const double *w = p->ops->weights(p->ctx);
    double top = 0.0;
    int kept = 0;
    for (int k = 0; k < ns; k++) {
        double *g = p->phase + (size_t)kept * p->dim;
        ab_status st = p->ops->symmetry(p->ctx, u_ref, k, g, err);
        if (st) return st;
        double n0 = 0.0;
        for (size_t i = 0; i < p->dim; i++) n0 += w[i] * g[i] * g[i];
        n0 = sqrt(n0);
        top = fmax(top, n0);
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < kept; j++) {
                const double *h = p->phase + (size_t)j * p->dim;
                double d = 0.0;
                for (size_t i = 0; i < p->dim; i++) d += w[i] * g[i] * h[i];
                for (size_t i = 0; i < p->dim; i++) g[i] -= d * h[i];
            }
        double n1 = 0.0;
        for (size_t i = 0; i < p->dim; i++) n1 += w[i] * g[i] * g[i];
        n1 = sqrt(n1);
        if (!(n1 > AB_PHASE_DEPENDENT_TOL * top) || !(n1 > 0.0)) continue;
        for (size_t i = 0; i < p->dim; i++) g[i] /= n1;
        kept++;
    }
    memcpy(p->phase + (size_t)ns * p->dim, u_ref, sizeof(double) * p->dim);
    p->n_phase = kept;
    p->have_reference = 1;
    return AB_OK;
}

int ab_problem_n_phase(const ab_problem *p) { return p->n_phase; }

const double *ab_problem_phase_vector(const ab_problem *p, int k)
{
    return (p->have_reference && k >= 0 && k < p->n_phase) ? p->phase + (size_t)k * p->dim : NULL;
}

const double *ab_problem_phase_reference(const ab_problem *p)
{
    return p->have_reference ? p->phase + (size_t)p->ops->n_symmetries * p->dim : NULL;
}
