/* Benchmark (issue 10): Newton solve and the rightmost eigenvalues of a tetrahedral state on
 * the whole sphere (SA, d = 3, beta = 4, kappa = 0.05) at L = 16..128: wall time, peak memory
 * and GMRES iterations; `bench_sphere gmres` prints the Newton GMRES iterations per linear
 * solve of several states against L instead (docs/benchmarks.md, "Whole sphere"). */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/model.h"
#include "attnbif/results.h"
#include "attnbif/state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 5

/* The linear solves are counted by linking with -Wl,--wrap=ab_linsol_solve (bench/CMakeLists.txt):
 * every call and its GMRES iterations, so Newton's and the shift-invert solves of the
 * spectrum are seen apart without a counter in the library. Single-threaded: plain statics. */
static long n_solves, n_iters;
ab_status __real_ab_linsol_solve(ab_linsol *ls, const double *b, double *x, ab_error *err);
ab_status __wrap_ab_linsol_solve(ab_linsol *ls, const double *b, double *x, ab_error *err)
{
    ab_status st = __real_ab_linsol_solve(ls, b, x, err);
    n_solves++;
    n_iters += ab_linsol_last_iterations(ls);
    return st;
}

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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse(const char *state, double kappa, int L, ab_spec *spec)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\ndiscretization: {type: sphere, degree: %d}\nstate: %s\n", kappa,
             L, state);
    ab_error err = {0};
    if (ab_spec_parse_string(yaml, "bench.yaml", spec, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    return 0;
}

/* One L of the tetrahedral benchmark, in its own process so that ru_maxrss is this L's peak. */
static int run_tetra(int L, int reps)
{
    ab_spec spec;
    if (parse("{type: clusters, arrangement: tetrahedron}", 0.05, L, &spec)) return 1;
    double t_newton[MAX_REPS], t_eig[MAX_REPS];
    ab_newton_report rep = {0};
    long eig_solves = 0, eig_iters = 0;
    int n_eigs = 0;
    size_t dim = 0;
    double rightmost = NAN;
    for (int k = 0; k < reps; k++) {
        ab_error err = {0};
        ab_disc *disc = NULL;
        double *u = NULL;
        ab_resolution rs;
        double t0 = now();
        if (ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        t_newton[k] = now() - t0;
        dim = ab_disc_dim(disc);
        ab_eigensolver *eig = NULL;
        ab_spectrum sp;
        n_solves = n_iters = 0;
        t0 = now();
        if (ab_eigensolver_create((int)dim, &eig, &err) ||
            ab_spectrum_compute(eig, disc, u, spec.sectors, spec.n_sectors, &sp, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t_eig[k] = now() - t0;
        eig_solves = n_solves;
        eig_iters = n_iters;
        n_eigs = sp.count;
        rightmost = sp.count ? sp.values[0].re : NAN;
        ab_spectrum_free(&sp);
        ab_eigensolver_destroy(eig);
        ab_disc_destroy(disc);
        free(u);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double tn = median(t_newton, reps), te = median(t_eig, reps);
    printf("| %d | %zu | %d | %.3f | %.3f | %.3f | %.0f | %d | %d (%.1f) | %d | %ld (%.1f) | %.3g |\n", L, dim, reps, tn,
           te, tn + te, (double)ru.ru_maxrss / 1024.0, rep.iterations, rep.linear_iterations,
           rep.iterations ? (double)rep.linear_iterations / rep.iterations : 0.0, n_eigs, eig_iters,
           eig_solves ? (double)eig_iters / (double)eig_solves : 0.0, rightmost);
    fflush(stdout);
    return 0;
}

/* Newton GMRES iterations per linear solve for one state and L. */
static int run_gmres(const char *name, const char *state, double kappa, int L, int precondition)
{
    ab_spec spec;
    if (parse(state, kappa, L, &spec)) return 1;
    spec.linear_solver.params.precondition = precondition;
    ab_error err = {0};
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_resolution rs;
    ab_newton_report rep;
    n_solves = n_iters = 0;
    double t0 = now();
    if (ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double t = now() - t0;
    ab_observables obs;
    if (ab_disc_observables(disc, u, &obs, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    printf("| %s | %.4g | %d | %s | %d | %d | %.1f | %ld | %.2f | %.3g |\n", name, kappa, L, precondition ? "diagonal" : "none", rep.iterations,
           rep.linear_iterations, rep.iterations ? (double)rep.linear_iterations / rep.iterations : 0.0, n_solves, t,
           obs.r);
    fflush(stdout);
    ab_disc_destroy(disc);
    free(u);
    return 0;
}

static int in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(fn(arg));
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return 1;
    return WEXITSTATUS(status);
}

static int tetra_child(void *arg)
{
    int L = *(int *)arg;
    return run_tetra(L, L <= 32 ? 5 : (L <= 64 ? 3 : 1));
}

int main(int argc, char **argv)
{
    ab_init();
    int Lmax = argc > 2 ? atoi(argv[2]) : 128;
    static const int Ls[] = {16, 32, 64, 96, 128};
    if (argc > 1 && !strcmp(argv[1], "gmres")) {
        const double k1 = ab_kappa_l(AB_MODEL_SA, 3, 4.0, 1);
        printf("SA, d = 3, beta = 4 (kappa_1 = %.6g); Newton from the state's guess, GMRES with the diagonal "
               "preconditioner and without\n\n", k1);
        printf("| state | kappa | L | preconditioner | Newton it | GMRES it | per step | linear solves | time [s] | r |\n");
        printf("|---|---|---|---|---|---|---|---|---|---|\n");
        for (int q = 0; q < 5 && Ls[q] <= Lmax; q++) {
            int L = Ls[q];
            /* a state refused at L (not resolved) does not stop the others */
            for (int pc = 1; pc >= 0; pc--)
                if (run_gmres("uniform (cluster guess), near kappa_1", "{type: cluster}", 1.05 * k1, L, pc) |
                    run_gmres("uniform (cluster guess), far", "{type: cluster}", 3.0 * k1, L, pc) |
                    run_gmres("1-cluster", "{type: cluster}", 0.05, L, pc) |
                    run_gmres("tetrahedron", "{type: clusters, arrangement: tetrahedron}", 0.05, L, pc))
                    printf("| (L = %d refused: message above) |\n", L);
        }
        return 0;
    }
    printf("SA, d = 3, beta = 4, kappa = 0.05, tetrahedral state; median wall time\n\n");
    printf("| L | unknowns | runs | Newton [s] | spectrum [s] | total [s] | peak RSS [MiB] | Newton it | GMRES it "
           "(per step) | eigenvalues | shift-invert GMRES it (per solve) | rightmost re |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < 5 && Ls[q] <= Lmax; q++) {
        int L = Ls[q];
        if (in_child(tetra_child, &L)) printf("| %d | refused (message above) |\n", L);
    }
    return 0;
}
