/* Benchmark (issue 8): one Newton step and one continuation step with dense LU against
 * matrix-free GMRES at a given node count, plus the peak memory of each path in a process
 * of its own; bench/bench_linsol.sh runs it over N and docs/benchmarks.md has the results.
 *
 *   bench_linsol time CASE N REPS [STATEFILE]   times both paths (interleaved), writes u*
 *   bench_linsol mem CASE N WHAT STATEFILE      WHAT = base | newton-dense | newton-gmres |
 *                                               cont-dense | cont-gmres; prints ru_maxrss
 *   bench_linsol branch CASE N STEPS            follows the branch (kappa increasing) with
 *                                               both paths: GMRES mat-vecs per step, folds
 * CASE: a = SA d=3 beta=4 kappa=0.05 (Funk-Hecke kernel), b = SA d=3 beta=20 kappa=0.01
 * (log-domain kernel), c = USA d=3 beta=4 kappa=0.005, d = SA d=3 beta=4 kappa=1e-4 (the
 * sharpest states of the parameter-range benchmark), all the 1-cluster. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/cont.h"
#include "attnbif/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_REPS 9
#define NEWTON_PARAM_SHIFT 1e-2 /* the Newton step is the first one after kappa -> kappa (1 + this) */
#define SECTORS 4

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_REPS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void die(const char *what, const ab_error *err)
{
    fprintf(stderr, "bench_linsol: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* ---- a problem that forwards to the discretisation's and counts the Jacobian mat-vecs
 * (the GMRES iterations of every solve inside a continuation step) ---------------------- */

typedef struct {
    ab_problem *inner;
    long matvecs;
    const char *names[AB_PROBLEM_MAX_PARAMS];
    ab_problem_ops ops;
} counting;

static ab_status c_set_params(void *ctx, const double *params, ab_error *err)
{
    counting *c = ctx;
    for (int i = 0; i < ab_problem_n_params(c->inner); i++) {
        ab_status st = ab_problem_set_param(c->inner, i, params[i], err);
        if (st) return st;
    }
    return AB_OK;
}
static ab_status c_residual(void *ctx, const double *u, double *F, ab_error *err)
{
    return ab_problem_residual(((counting *)ctx)->inner, u, F, err);
}
static ab_status c_linearize(void *ctx, const double *u, ab_error *err)
{
    return ab_problem_linearize(((counting *)ctx)->inner, u, err);
}
static ab_status c_apply(void *ctx, const double *v, double *Jv, ab_error *err)
{
    counting *c = ctx;
    const ab_linop *J = ab_problem_jacobian(c->inner);
    c->matvecs++;
    return J->apply(J->ctx, v, Jv, err);
}
static ab_status c_apply_t(void *ctx, const double *v, double *Jv, ab_error *err)
{
    counting *c = ctx;
    const ab_linop *J = ab_problem_jacobian(c->inner);
    c->matvecs++;
    return J->apply_transpose(J->ctx, v, Jv, err);
}
static ab_status c_matrix(void *ctx, double *A, size_t ld, ab_error *err)
{
    const ab_linop *J = ab_problem_jacobian(((counting *)ctx)->inner);
    return J->matrix(J->ctx, A, ld, err);
}
static ab_status c_dparam(void *ctx, const double *u, int which, double *dF, ab_error *err)
{
    return ab_problem_dparam(((counting *)ctx)->inner, u, which, dF, err);
}
static const double *c_weights(void *ctx) { return ab_problem_weights(((counting *)ctx)->inner); }
static double c_tolerance(void *ctx, double tol) { return ab_problem_tolerance(((counting *)ctx)->inner, tol); }

static ab_problem *counting_problem(counting *c, ab_problem *inner)
{
    memset(c, 0, sizeof *c);
    c->inner = inner;
    const int np = ab_problem_n_params(inner);
    double params[AB_PROBLEM_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        c->names[i] = ab_problem_param_name(inner, i);
        params[i] = ab_problem_param(inner, i);
    }
    /* the zonal problem has no continuous symmetry (no phase conditions to forward) */
    if (ab_problem_n_symmetries(inner) != 0 || !ab_problem_has_matrix(inner)) die("counting wrapper", NULL);
    c->ops = (ab_problem_ops){.name = "counting",
                              .n_params = np,
                              .param_names = c->names,
                              .set_params = c_set_params,
                              .residual = c_residual,
                              .linearize = c_linearize,
                              .jac_apply = c_apply,
                              .jac_apply_transpose = c_apply_t,
                              .jac_matrix = c_matrix,
                              .dparam = c_dparam,
                              .weights = c_weights,
                              .tolerance = c_tolerance};
    ab_problem *p = NULL;
    ab_error err = {0};
    if (ab_problem_create(&c->ops, c, ab_problem_dim(inner), params, &p, &err)) die("counting wrapper", &err);
    return p;
}

/* ---- setup --------------------------------------------------------------------------- */

typedef struct {
    ab_spec spec;
    ab_disc *disc;
    counting cnt;
    ab_problem *problem;
    size_t n;
    double kappa;
    double *u; /* the converged state */
} bench;

static const char *case_yaml(char c)
{
    if (c == 'a') return "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\nstate: {type: cluster}\n";
    if (c == 'b') return "model: SA\nd: 3\nbeta: 20\nkappa: 0.01\nstate: {type: cluster}\n";
    /* the sharpest states of the parameter-range benchmark (1024 nodes there) */
    if (c == 'c') return "model: USA\nd: 3\nbeta: 4\nkappa: 0.005\nstate: {type: cluster}\n";
    if (c == 'd') return "model: SA\nd: 3\nbeta: 4\nkappa: 0.0001\nstate: {type: cluster}\n";
    fprintf(stderr, "bench_linsol: unknown case %c (a, b, c or d)\n", c);
    exit(2);
}

/* The discretisation at N nodes and the state: read from statefile if it exists, else by
 * Newton from the spec's guess (dense up to 1024 nodes, GMRES above: the quicker). */
static void bench_init(bench *b, char c, int nodes, const char *statefile, int verbose)
{
    ab_error err = {0};
    memset(b, 0, sizeof *b);
    if (ab_spec_parse_string(case_yaml(c), "bench.yaml", &b->spec, &err)) die("spec", &err);
    if (ab_disc_create_with_nodes(&b->spec, nodes, &b->disc, &err)) die("discretisation", &err);
    b->n = ab_disc_dim(b->disc);
    b->problem = counting_problem(&b->cnt, ab_disc_problem(b->disc));
    b->kappa = b->spec.kappa;
    b->u = malloc(sizeof(double) * b->n);
    FILE *f = statefile ? fopen(statefile, "rb") : NULL;
    if (f) {
        size_t got = fread(b->u, sizeof(double), b->n, f);
        fclose(f);
        if (got != b->n) die("state file has the wrong size", NULL);
        return;
    }
    if (ab_initial_state(b->disc, &b->spec.state, b->u, &err)) die("initial state", &err);
    ab_newton *nw = NULL;
    ab_linsol_type type = b->n <= 1024 ? AB_LINSOL_DENSE : AB_LINSOL_GMRES;
    if (ab_newton_create_with(b->n, type, NULL, &nw, &err)) die("newton", &err);
    ab_newton_opts opts = {b->spec.newton.tol, b->spec.newton.max_iter, NULL, NULL};
    ab_newton_report rep;
    double t0 = now();
    if (ab_newton_solve_problem(nw, b->problem, b->u, &opts, &rep, &err)) die("Newton for the state", &err);
    if (verbose)
        fprintf(stderr, "# case %c N %d: state by %s Newton in %d iterations, %.2f s, max|F| %.1e\n", c, nodes,
                ab_linsol_type_name(type), rep.iterations, now() - t0, rep.residual);
    ab_newton_destroy(nw);
    if (statefile && (f = fopen(statefile, "wb"))) {
        fwrite(b->u, sizeof(double), b->n, f);
        fclose(f);
    }
}

static void bench_free(bench *b)
{
    ab_problem_destroy(b->problem);
    ab_disc_destroy(b->disc);
    free(b->u);
}

/* ---- one Newton step: linearise, residual, setup (dense: assemble + LU), solve ---------- */

typedef struct {
    double t_eval, t_setup, t_solve; /* linearise + residual; setup; solve */
    int iterations;                  /* GMRES mat-vecs of the solve */
    double rel_residual;
} newton_time;

static void newton_step(bench *b, ab_linsol *ls, double *F, double *du, newton_time *t)
{
    ab_error err = {0};
    if (ab_problem_set_param(b->problem, AB_PARAM_KAPPA, b->kappa * (1.0 + NEWTON_PARAM_SHIFT), &err)) die("kappa", &err);
    double t0 = now();
    if (ab_problem_linearize(b->problem, b->u, &err) || ab_problem_residual(b->problem, b->u, F, &err))
        die("linearise", &err);
    for (size_t i = 0; i < b->n; i++) F[i] = -F[i];
    double t1 = now();
    if (ab_linsol_setup(ls, ab_problem_jacobian(b->problem), &err)) die("setup", &err);
    double t2 = now();
    if (ab_linsol_solve(ls, F, du, &err)) die("solve", &err);
    double t3 = now();
    t->t_eval = t1 - t0;
    t->t_setup = t2 - t1;
    t->t_solve = t3 - t2;
    t->iterations = ab_linsol_last_iterations(ls);
    t->rel_residual = ab_linsol_last_residual(ls);
    if (ab_problem_set_param(b->problem, AB_PARAM_KAPPA, b->kappa, &err)) die("kappa", &err);
}

/* ---- one continuation step from the converged point ------------------------------------ */

typedef struct {
    ab_linsol *ls;
    ab_cont *cont;
    double *x0, *tau0;
} cont_bench;

static void cont_init(bench *b, ab_linsol_type type, cont_bench *cb)
{
    ab_error err = {0};
    const int which = AB_PARAM_KAPPA;
    if (ab_problem_set_free(b->problem, 1, &which, &err)) die("free parameter", &err);
    ab_cont_params prm;
    ab_cont_params_default(&prm);
    if (ab_linsol_create(type, b->n + 1 + AB_PROBLEM_MAX_SYMMETRIES, NULL, &cb->ls, &err) ||
        ab_cont_alloc(b->problem, cb->ls, &prm, &cb->cont, &err))
        die("continuation", &err);
    cb->x0 = malloc(sizeof(double) * (b->n + 1));
    cb->tau0 = calloc(b->n + 1, sizeof(double));
    memcpy(cb->x0, b->u, sizeof(double) * b->n);
    cb->x0[b->n] = b->kappa;
}

static void cont_free(cont_bench *cb)
{
    ab_cont_free(cb->cont);
    ab_linsol_destroy(cb->ls);
    free(cb->x0);
    free(cb->tau0);
}

/* One step from (x0, tau0) with step ds; returns the status, *iters the corrector's. */
static ab_status cont_step(cont_bench *cb, double ds, int *iters, ab_error *err)
{
    if (ab_cont_set(cb->cont, cb->x0, cb->tau0, 0, err)) die("cont set", err);
    ab_cont_set_ds(cb->cont, ds);
    ab_cont_step_info info;
    ab_status st = ab_cont_step(cb->cont, &info, err);
    *iters = info.corrector_iterations;
    return st;
}

static double spectrum_time(bench *b, int *n_unstable)
{
    ab_error err = {0};
    ab_eigensolver *es = NULL;
    if (ab_eigensolver_create((int)b->n, &es, &err)) die("eigensolver", &err);
    const int sectors[SECTORS] = {0, 1, 2, 3};
    ab_spectrum sp;
    double t0 = now();
    if (ab_spectrum_compute(es, b->disc, b->u, sectors, SECTORS, &sp, &err)) die("spectrum", &err);
    double t = now() - t0;
    *n_unstable = (int)sp.n_unstable;
    ab_spectrum_free(&sp);
    ab_eigensolver_destroy(es);
    return t;
}

static int run_time(char c, int nodes, int reps, const char *statefile, int with_spectrum)
{
    bench b;
    ab_error err = {0};
    bench_init(&b, c, nodes, statefile, 1);
    const size_t n = b.n;
    const ab_linsol_type types[2] = {AB_LINSOL_DENSE, AB_LINSOL_GMRES};
    double *F = malloc(sizeof(double) * (n + 4)), *du[2];
    newton_time nt[2][MAX_REPS];
    ab_linsol *ls[2];
    for (int k = 0; k < 2; k++) {
        du[k] = malloc(sizeof(double) * (n + 4));
        if (ab_linsol_create(types[k], n + AB_PROBLEM_MAX_SYMMETRIES, NULL, &ls[k], &err)) die("linsol", &err);
    }
    /* interleaved, so that both paths see the same load of the shared machine */
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < 2; k++) newton_step(&b, ls[k], F, du[k], &nt[k][r]);
    double scale = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(du[0][i]));
        diff = fmax(diff, fabs(du[0][i] - du[1][i]));
    }
    for (int k = 0; k < 2; k++) ab_linsol_destroy(ls[k]);

    /* continuation: the tangent at the point (dense, untimed), then a step length the
     * corrector accepts (ds from the defaults, halved if need be; on the dense path, which
     * also warms its workspace as in a run, where it is reused step after step) */
    cont_bench cb[2];
    for (int k = 0; k < 2; k++) cont_init(&b, types[k], &cb[k]);
    {
        double *dir = calloc(n + 1, sizeof(double));
        dir[n] = 1.0;
        if (ab_cont_tangent_at(cb[0].cont, cb[0].x0, dir, cb[0].tau0, &err)) die("tangent", &err);
        memcpy(cb[1].tau0, cb[0].tau0, sizeof(double) * (n + 1));
        free(dir);
    }
    double ds = ab_cont_get_params(cb[0].cont)->ds;
    int iters = 0;
    while (cont_step(&cb[0], ds, &iters, &err) != AB_OK) {
        ds *= 0.5;
        if (ds < 1e-6) die("no accepted continuation step", &err);
    }
    double tc[2][MAX_REPS];
    int citer[2] = {0, 0};
    long cmv[2] = {0, 0};
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < 2; k++) {
            b.cnt.matvecs = 0;
            double t0 = now();
            if (cont_step(&cb[k], ds, &citer[k], &err)) die("continuation step", &err);
            tc[k][r] = now() - t0;
            cmv[k] = b.cnt.matvecs;
        }
    double cdiff = 0.0, cscale = 0.0;
    {
        const double *x0 = ab_cont_point(cb[0].cont), *x1 = ab_cont_point(cb[1].cont);
        for (size_t i = 0; i <= n; i++) {
            cscale = fmax(cscale, fabs(x0[i]));
            cdiff = fmax(cdiff, fabs(x0[i] - x1[i]));
        }
    }
    for (int k = 0; k < 2; k++) cont_free(&cb[k]);
    if (ab_problem_set_param(b.problem, AB_PARAM_KAPPA, b.kappa, &err)) die("kappa", &err);

    int n_unstable = -1;
    const double tspec = with_spectrum ? spectrum_time(&b, &n_unstable) : NAN;

    /* one line of key=value pairs per N (medians over reps) */
    double v[MAX_REPS];
    printf("case=%c N=%d reps=%d", c, nodes, reps);
    for (int k = 0; k < 2; k++) {
        const char *nm = ab_linsol_type_name(types[k]);
        for (int r = 0; r < reps; r++) v[r] = nt[k][r].t_eval;
        printf(" %s_eval=%.4g", nm, median(v, reps));
        for (int r = 0; r < reps; r++) v[r] = nt[k][r].t_setup;
        printf(" %s_setup=%.4g", nm, median(v, reps));
        for (int r = 0; r < reps; r++) v[r] = nt[k][r].t_solve;
        printf(" %s_solve=%.4g", nm, median(v, reps));
        for (int r = 0; r < reps; r++) v[r] = nt[k][r].t_eval + nt[k][r].t_setup + nt[k][r].t_solve;
        printf(" %s_newton=%.4g", nm, median(v, reps));
        printf(" %s_cont=%.4g", nm, median(tc[k], reps));
    }
    /* the ratio of the per-repeat pairs (same load), median */
    for (int r = 0; r < reps; r++)
        v[r] = (nt[0][r].t_eval + nt[0][r].t_setup + nt[0][r].t_solve) /
               (nt[1][r].t_eval + nt[1][r].t_setup + nt[1][r].t_solve);
    printf(" newton_ratio=%.3g", median(v, reps));
    for (int r = 0; r < reps; r++) v[r] = tc[0][r] / tc[1][r];
    printf(" cont_ratio=%.3g", median(v, reps));
    printf(" gmres_newton_its=%d gmres_newton_relres=%.1e newton_du_diff=%.1e", nt[1][0].iterations,
           nt[1][0].rel_residual, diff / fmax(scale, 1e-300));
    printf(" cont_corrector_its=%d cont_ds=%g gmres_cont_matvecs=%ld cont_x_diff=%.1e", citer[1], ds, cmv[1],
           cdiff / fmax(1.0, cscale));
    printf(" spectrum=%.4g n_unstable=%d\n", tspec, n_unstable);
    fflush(stdout);
    for (int k = 0; k < 2; k++) free(du[k]);
    free(F);
    bench_free(&b);
    return 0;
}

/* Peak RSS of one configuration. base: the discretisation, the state and its linearisation
 * (what every path holds); the others add one Newton step or one continuation step. */
static int run_mem(char c, int nodes, const char *what, const char *statefile)
{
    bench b;
    ab_error err = {0};
    bench_init(&b, c, nodes, statefile, 0);
    const size_t n = b.n;
    if (ab_problem_linearize(b.problem, b.u, &err)) die("linearise", &err);
    const ab_linsol_type type = strstr(what, "dense") ? AB_LINSOL_DENSE : AB_LINSOL_GMRES;
    if (strncmp(what, "newton", 6) == 0) {
        ab_linsol *ls = NULL;
        double *F = malloc(sizeof(double) * (n + 4)), *du = malloc(sizeof(double) * (n + 4));
        newton_time t;
        if (ab_linsol_create(type, n + AB_PROBLEM_MAX_SYMMETRIES, NULL, &ls, &err)) die("linsol", &err);
        newton_step(&b, ls, F, du, &t);
        ab_linsol_destroy(ls);
        free(F);
        free(du);
    } else if (strncmp(what, "cont", 4) == 0) {
        cont_bench cb;
        cont_init(&b, type, &cb);
        double *dir = calloc(n + 1, sizeof(double));
        dir[n] = 1.0;
        if (ab_cont_tangent_at(cb.cont, cb.x0, dir, cb.tau0, &err)) die("tangent", &err);
        free(dir);
        int iters; /* one step with the default ds (accepted on every case of the time runs) */
        if (cont_step(&cb, ab_cont_get_params(cb.cont)->ds, &iters, &err)) die("continuation step", &err);
        cont_free(&cb);
    } else if (strcmp(what, "base") != 0) {
        fprintf(stderr, "bench_linsol: unknown configuration %s\n", what);
        return 2;
    }
    printf("case=%c N=%d what=%s maxrss_kb=%ld\n", c, nodes, what, maxrss_kb());
    bench_free(&b);
    return 0;
}

/* The branch from the state in the direction of increasing kappa, STEPS steps of the
 * adaptive continuation on each path: how many mat-vecs GMRES needs per step along a whole
 * branch (through its fold and back towards the uniform state, where the Jacobian is
 * singular at the branch point), and the total time of each path. */
static int run_branch(char c, int nodes, int steps)
{
    bench b;
    ab_error err = {0};
    bench_init(&b, c, nodes, NULL, 1);
    const size_t n = b.n;
    const ab_linsol_type types[2] = {AB_LINSOL_DENSE, AB_LINSOL_GMRES};
    double total[2] = {0.0, 0.0}, kmin = b.kappa, kmax = b.kappa, last_kappa[2] = {0.0, 0.0};
    long mv_max = 0, mv_sum = 0;
    int folds = 0, rejected[2] = {0, 0}, accepted[2] = {0, 0}, its_max = 0;
    for (int k = 0; k < 2; k++) {
        cont_bench cb;
        cont_init(&b, types[k], &cb);
        double *dir = calloc(n + 1, sizeof(double));
        dir[n] = 1.0;
        if (ab_cont_tangent_at(cb.cont, cb.x0, dir, cb.tau0, &err)) die("tangent", &err);
        free(dir);
        if (ab_cont_set(cb.cont, cb.x0, cb.tau0, 0, &err)) die("cont set", &err);
        for (int s = 0; s < steps; s++) {
            ab_cont_step_info info;
            const double tp = ab_cont_tangent(cb.cont)[n];
            b.cnt.matvecs = 0;
            double t0 = now();
            ab_status st = ab_cont_step(cb.cont, &info, &err);
            total[k] += now() - t0;
            if (st == AB_ENOCONV && ab_cont_ds(cb.cont) >= ab_cont_get_params(cb.cont)->ds_min) {
                rejected[k]++;
                continue;
            }
            if (st) die("branch step", &err);
            accepted[k]++;
            const double kap = ab_cont_point(cb.cont)[n];
            if (k == 1) {
                mv_max = b.cnt.matvecs > mv_max ? b.cnt.matvecs : mv_max;
                mv_sum += b.cnt.matvecs;
                its_max = info.corrector_iterations > its_max ? info.corrector_iterations : its_max;
                folds += (tp > 0) != (ab_cont_tangent(cb.cont)[n] > 0);
                kmin = fmin(kmin, kap);
                kmax = fmax(kmax, kap);
            }
            last_kappa[k] = kap;
        }
        cont_free(&cb);
    }
    printf("case=%c N=%d steps=%d dense_accepted=%d gmres_accepted=%d dense_rejected=%d gmres_rejected=%d "
           "kappa_min=%.6g kappa_max=%.6g kappa_end_dense=%.12g kappa_end_gmres=%.12g folds=%d "
           "corrector_its_max=%d gmres_matvecs_per_step_max=%ld gmres_matvecs_per_step_mean=%.1f "
           "dense_total=%.4g gmres_total=%.4g ratio=%.3g\n",
           c, nodes, steps, accepted[0], accepted[1], rejected[0], rejected[1], kmin, kmax, last_kappa[0],
           last_kappa[1], folds, its_max, mv_max, accepted[1] ? (double)mv_sum / accepted[1] : 0.0, total[0],
           total[1], total[0] / total[1]);
    bench_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    ab_init();
    if (argc >= 5 && strcmp(argv[1], "time") == 0) {
        int reps = atoi(argv[4]);
        if (reps < 1 || reps > MAX_REPS) reps = 3;
        const char *sf = argc >= 6 ? argv[5] : NULL;
        const int with_spectrum = argc >= 7 ? atoi(argv[6]) : 1;
        return run_time(argv[2][0], atoi(argv[3]), reps, sf, with_spectrum);
    }
    if (argc >= 5 && strcmp(argv[1], "branch") == 0) return run_branch(argv[2][0], atoi(argv[3]), atoi(argv[4]));
    if (argc >= 6 && strcmp(argv[1], "mem") == 0) return run_mem(argv[2][0], atoi(argv[3]), argv[4], argv[5]);
    fprintf(stderr,
            "usage: bench_linsol time CASE N REPS [STATEFILE [SPECTRUM 0|1]]\n"
            "       bench_linsol mem CASE N base|newton-dense|newton-gmres|cont-dense|cont-gmres STATEFILE\n"
            "       bench_linsol branch CASE N STEPS\n");
    return 2;
}
