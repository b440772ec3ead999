/* The whole-sphere discretisation (issue 10; docs/sphere.md): the uniform spectrum with
 * multiplicities 2l + 1, zonal states on the sphere against the zonal discretisation
 * (observables and the spectrum as the union of the zonal sectors), matrix-free against
 * dense Newton, the rotation modes, and the symmetric arrangements. */
#include "attnbif/state.h"
#include "disc/arrangement.h"
#include "disc/sphere.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(ab_tally *t, const char *yaml, ab_spec *spec)
{
    ab_error err = {0};
    return ab_check(t, ab_spec_parse_string(yaml, "test_sphere.yaml", spec, &err) == AB_OK, "spec parses (%s)", err.msg);
}

static int by_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* Expand a spectrum into its real parts with multiplicity, sorted descending; the mass
 * eigenvalue is left out (the sphere removes it by construction, the zonal sector 0 too). */
static int expand(const ab_spectrum *sp, double *out, int cap)
{
    int n = 0;
    for (int i = 0; i < sp->count; i++) {
        if (sp->values[i].kind == AB_EIG_MASS) continue;
        for (long k = 0; k < sp->values[i].multiplicity && n < cap; k++) out[n++] = sp->values[i].re;
    }
    qsort(out, (size_t)n, sizeof *out, by_desc);
    return n;
}

/* At the uniform state every degree l gives mu_l = -l (l + 1)(kappa - kappa_l) 2l + 1 times. */
static void uniform_spectrum(ab_tally *t, const char *model, double beta, double kappa_over_k1)
{
    char yaml[400], what[120];
    const ab_model_kind kind = strcmp(model, "SA") == 0 ? AB_MODEL_SA : AB_MODEL_USA;
    const double kappa = kappa_over_k1 * ab_kappa_l(kind, 3, beta, 1);
    const int L = 14;
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {type: sphere, degree: %d}\n"
             "state: {type: uniform}\n", model, beta, kappa, L);
    snprintf(what, sizeof what, "%s beta=%g uniform, degree %d", model, beta, L);
    ab_spec spec;
    if (!parse(t, yaml, &spec)) return;
    ab_solve_result res;
    ab_error err = {0};
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: solve (%s)", what, err.msg)) return;
    const int cap = (L + 1) * (L + 1);
    double *got = malloc(sizeof(double) * cap), *want = malloc(sizeof(double) * cap);
    int n = expand(&res.spectrum, got, cap), m = 0;
    long unstable = 0;
    for (int l = 1; l <= L; l++) {
        const double mu = -l * (l + 1.0) * (kappa - ab_kappa_l(kind, 3, beta, l));
        for (int k = 0; k < 2 * l + 1; k++) want[m++] = mu;
        if (mu > 0.0) unstable += 2 * l + 1;
    }
    qsort(want, (size_t)m, sizeof *want, by_desc);
    ab_check(t, n == m, "%s: %d eigenvalues with multiplicity (analytic %d)", what, n, m);
    double worst = 0.0;
    for (int i = 0; i < n && i < m; i++) worst = fmax(worst, fabs(got[i] - want[i]) / fmax(fabs(want[i]), kappa));
    ab_check(t, worst <= 1e-10, "%s: every eigenvalue = -l(l+1)(kappa - kappa_l), worst %.2e (tol 1e-10)", what, worst);
    ab_check(t, res.spectrum.n_unstable == unstable, "%s: n_unstable %ld (analytic %ld)", what, res.spectrum.n_unstable,
             unstable);
    free(got);
    free(want);
    ab_solve_result_free(&res);
}

/* A 1-cluster put on the sphere (on the z-axis, and about another axis through clusters:
 * centers) equals the zonal discretisation's: r, S, entropy to 1e-10. */
static void zonal_state(ab_tally *t, const char *model, double beta, double kappa, const char *state, double tol)
{
    char yaml[600], what[160];
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %g\nkappa: %.17g\nstate: {type: cluster}\n", model, beta, kappa);
    ab_spec spec;
    ab_solve_result zres, sres;
    ab_error err = {0};
    if (!parse(t, yaml, &spec)) return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &zres, &err) == AB_OK, "zonal solve (%s)", err.msg)) return;
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {type: sphere}\nstate: %s\n",
             model, beta, kappa, state);
    snprintf(what, sizeof what, "%s beta=%g kappa=%g, sphere state %s", model, beta, kappa, state);
    if (!parse(t, yaml, &spec)) { ab_solve_result_free(&zres); return; }
    if (ab_check(t, ab_solve_problem(&spec, NULL, NULL, &sres, &err) == AB_OK, "%s: solve (%s)", what, err.msg)) {
        ab_check_rel(t, sres.obs.r, zres.obs.r, tol, 0.0, what);
        ab_check_rel(t, sres.obs.S, zres.obs.S, tol, 0.0, what);
        ab_check_rel(t, sres.obs.entropy, zres.obs.entropy, tol, 0.0, what);
        int nsym = 0;
        for (int i = 0; i < sres.spectrum.count; i++) nsym += sres.spectrum.values[i].kind == AB_EIG_SYMMETRY;
        ab_check(t, nsym == 2, "%s: 2 rotation modes tagged symmetry at an axisymmetric state (got %d)", what, nsym);
        ab_check(t, sres.spectrum.stable == zres.spectrum.stable, "%s: same stability verdict", what);
        ab_solve_result_free(&sres);
    }
    ab_solve_result_free(&zres);
}

/* The sphere spectrum at a zonal state is the union of the zonal sector spectra, sector m
 * counted twice for m >= 1 (cos and sin): the top 20 to 1e-8 (relative to kappa). */
static void zonal_spectrum(ab_tally *t, double beta, double kappa, int degree)
{
    char yaml[600], what[160];
    ab_spec spec;
    ab_solve_result zres;
    ab_error err = {0};
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {nodes: 48}\n"
             "state: {type: cluster}\neigen: {sectors: [0, 1, 2, 3, 4, 5, 6, 7, 8]}\n", beta, kappa);
    if (!parse(t, yaml, &spec)) return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &zres, &err) == AB_OK, "zonal solve (%s)", err.msg)) return;
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {type: sphere, degree: %d}\n"
             "state: {type: cluster}\n", beta, kappa, degree);
    snprintf(what, sizeof what, "SA beta=%g kappa=%g cluster, degree %d: sphere spectrum = zonal sectors", beta, kappa, degree);
    if (!parse(t, yaml, &spec)) { ab_solve_result_free(&zres); return; }
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep;
    ab_resolution rs;
    ab_eigensolver *eig = NULL;
    ab_spectrum sp = {0};
    if (ab_check(t, ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err) == AB_OK, "%s: state (%s)", what, err.msg) &&
        ab_check(t, ab_eigensolver_create((int)ab_disc_dim(disc), &eig, &err) == AB_OK, "eigensolver")) {
        ab_eigensolver_set_dense_max(eig, 2000); /* every eigenvalue, to compare the top 20 */
        const int sectors[1] = {0};
        if (ab_check(t, ab_spectrum_compute(eig, disc, u, sectors, 1, &sp, &err) == AB_OK, "%s: spectrum (%s)", what, err.msg)) {
            double a[4096], b[4096];
            const int na = expand(&sp, a, 4096), nb = expand(&zres.spectrum, b, 4096);
            double worst = 0.0;
            for (int i = 0; i < 20 && i < na && i < nb; i++) worst = fmax(worst, fabs(a[i] - b[i]) / kappa);
            ab_check(t, na >= 20 && nb >= 20 && worst <= 1e-8, "%s: top 20 agree to %.2e kappa (tol 1e-8)", what, worst);
            int nsym = 0;
            for (int i = 0; i < sp.count; i++) nsym += sp.values[i].kind == AB_EIG_SYMMETRY;
            ab_check(t, nsym == 2, "%s: 2 symmetry modes (got %d)", what, nsym);
            ab_spectrum_free(&sp);
        }
    }
    ab_eigensolver_destroy(eig);
    ab_disc_destroy(disc);
    free(u);
    ab_solve_result_free(&zres);
}

/* Newton with the dense LU and with GMRES (mat-vecs only) reach the same state. */
static void dense_vs_gmres(ab_tally *t)
{
    const char *base = "model: SA\nd: 3\nbeta: 4\nkappa: 0.16\ndiscretization: {type: sphere, degree: 20}\n"
                       "state: {type: clusters, centers: [[0.3, 0.4, 0.866]]}\n";
    char yaml[600];
    ab_solve_result res[2];
    const char *solver[2] = {"dense", "gmres"};
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        ab_spec spec;
        ab_error err = {0};
        snprintf(yaml, sizeof yaml, "%slinear_solver: {type: %s}\n", base, solver[k]);
        ok &= parse(t, yaml, &spec) &&
              ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res[k], &err) == AB_OK, "%s Newton (%s)", solver[k], err.msg);
    }
    if (!ok) return;
    ab_check_rel(t, res[1].obs.r, res[0].obs.r, 1e-12, 0.0, "SA beta=4 kappa=0.16 off-axis cluster, degree 20: r, GMRES vs dense");
    ab_check_rel(t, res[1].obs.entropy, res[0].obs.entropy, 1e-12, 0.0, "entropy, GMRES vs dense");
    ab_check(t, res[1].newton.linear_iterations > 0 && res[0].newton.linear_iterations == 0,
             "GMRES iterated (%d), dense did not (%d)", res[1].newton.linear_iterations, res[0].newton.linear_iterations);
    ab_solve_result_free(&res[0]);
    ab_solve_result_free(&res[1]);
}

/* An arrangement converges to a state with that symmetry: rho(R x) = rho(x) at every grid
 * point for every rotation R of the arrangement's group (to 1e-8 of the peak), k clusters
 * found, three rotation modes tagged. */
static void arrangement(ab_tally *t, const char *model, double beta, double kappa, const char *name, int k)
{
    char yaml[600], what[160], kline[32] = "";
    if (k > 0) snprintf(kline, sizeof kline, ", k: %d", k);
    snprintf(yaml, sizeof yaml, "model: %s\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {type: sphere}\n"
             "state: {type: clusters, arrangement: %s%s}\n", model, beta, kappa, name, kline);
    snprintf(what, sizeof what, "%s beta=%g kappa=%g %s", model, beta, kappa, name);
    ab_spec spec;
    ab_error err = {0};
    if (!parse(t, yaml, &spec)) return;
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep;
    ab_resolution rs;
    if (!ab_check(t, ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err) == AB_OK, "%s: solve (%s)", what, err.msg))
        return;
    int count = 0;
    double R[9 * AB_ARRANGEMENT_GROUP_MAX];
    ab_cluster cl[AB_MAX_CLUSTERS];
    int nc = 0;
    if (ab_check(t, ab_arrangement_rotations(name, k, R, AB_ARRANGEMENT_GROUP_MAX, &count, &err) == AB_OK, "group") &&
        ab_check(t, ab_sphere_clusters(disc, u, cl, AB_MAX_CLUSTERS, &nc, &err) == AB_OK, "clusters (%s)", err.msg)) {
        int nlat, nlon;
        const double *X, *w;
        ab_sphere_grid(disc, &nlat, &nlon, &X, &w);
        const size_t np = (size_t)nlat * nlon;
        double *x = malloc(sizeof(double) * 3 * np), *a = malloc(sizeof(double) * np), *b = malloc(sizeof(double) * np);
        double worst = 0.0, peak = 0.0;
        ab_sphere_density(disc, u, np, X, a, &err);
        for (size_t p = 0; p < np; p++) peak = fmax(peak, a[p]);
        for (int g = 0; g < count; g++) {
            for (size_t p = 0; p < np; p++)
                for (int i = 0; i < 3; i++)
                    x[3 * p + i] = R[9 * g + 3 * i] * X[3 * p] + R[9 * g + 3 * i + 1] * X[3 * p + 1] + R[9 * g + 3 * i + 2] * X[3 * p + 2];
            ab_sphere_density(disc, u, np, x, b, &err);
            for (size_t p = 0; p < np; p++) worst = fmax(worst, fabs(a[p] - b[p]) / peak);
        }
        ab_check(t, worst <= 1e-8, "%s: rho invariant under its %d rotations to %.2e of the peak (tol 1e-8)", what, count, worst);
        int want = 0;
        ab_arrangement_centres(name, k, NULL, 0, &want, &err);
        ab_check(t, nc == want, "%s: %d clusters found (arrangement has %d)", what, nc, want);
        free(x); free(a); free(b);
    }
    ab_disc_destroy(disc);
    free(u);
}

/* The rightmost eigenvalues by ARPACK (shift-invert, GMRES solves on the matrix-free
 * operator) equal those of the dense decomposition of the same operator, with the same
 * unstable count: a tetrahedral state (8 unstable: E and two T triplets; the ARPACK path
 * with the rotation modes still in the operator found 5 of them). */
static void arpack_vs_dense(ab_tally *t)
{
    const char *yaml = "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {type: sphere, degree: 28}\n"
                       "state: {type: clusters, arrangement: tetrahedron}\n";
    ab_spec spec;
    ab_error err = {0};
    if (!parse(t, yaml, &spec)) return;
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep;
    ab_resolution rs;
    if (!ab_check(t, ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err) == AB_OK, "tetrahedron: state (%s)", err.msg))
        return;
    ab_spectrum sp[2];
    memset(sp, 0, sizeof sp);
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
        ab_eigensolver *eig = NULL;
        const int sector = 0;
        ok = ab_eigensolver_create((int)ab_disc_dim(disc), &eig, &err) == AB_OK;
        if (ok && k) ab_eigensolver_set_dense_max(eig, 4000);
        ok = ok && ab_check(t, ab_spectrum_compute(eig, disc, u, &sector, 1, &sp[k], &err) == AB_OK, "%s spectrum (%s)",
                            k ? "dense" : "ARPACK", err.msg);
        ab_eigensolver_destroy(eig);
    }
    if (ok) {
        ab_check(t, sp[0].partial == 1 && sp[1].partial == 0, "degree 28: ARPACK path taken (partial %d), dense (partial %d)",
                 sp[0].partial, sp[1].partial);
        ab_check(t, sp[0].n_unstable == 8 && sp[1].n_unstable == 8, "tetrahedron: 8 unstable by ARPACK (%ld) and dense (%ld)",
                 sp[0].n_unstable, sp[1].n_unstable);
        double worst = 0.0, worst_err = 0.0;
        int n = sp[0].count < 16 ? sp[0].count : 16;
        for (int i = 0; i < n; i++) {
            worst = fmax(worst, fabs(sp[0].values[i].re - sp[1].values[i].re));
            worst_err = fmax(worst_err, sp[0].values[i].err);
        }
        ab_check(t, n >= 12 && worst <= 1e-8, "tetrahedron: the %d rightmost by ARPACK = dense to %.1e (tol 1e-8)", n, worst);
        ab_check(t, worst <= fmax(worst_err, 1e-12), "ARPACK error estimates (largest %.1e) cover the difference %.1e", worst_err,
                 worst);
    }
    ab_spectrum_free(&sp[0]);
    ab_spectrum_free(&sp[1]);
    ab_disc_destroy(disc);
    free(u);
}

/* J is the identity plus a smoothing operator (docs/sphere.md, "Discretisation"): Newton's
 * unpreconditioned GMRES iterations per step do not grow with L once the state is resolved.
 * Per-step counts at the larger L at most AB_TEST_GMRES_GROWTH times those at the smaller
 * (measured, docs/benchmarks.md: uniform near kappa_1 9.8 -> 10.2 from L = 32 to 128,
 * tetrahedron 14.8 -> 12.6 from 32 to 64). */
#define AB_TEST_GMRES_GROWTH 1.15
static double gmres_per_step(ab_tally *t, const char *state, double kappa, int L)
{
    char yaml[600];
    snprintf(yaml, sizeof yaml,
             "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\ndiscretization: {type: sphere, degree: %d}\nstate: %s\n"
             "linear_solver: {type: gmres}\n", kappa, L, state);
    ab_spec spec;
    ab_error err = {0};
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep = {0};
    ab_resolution rs;
    if (!parse(t, yaml, &spec) ||
        !ab_check(t, ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err) == AB_OK, "Newton at L = %d (%s)",
                  L, err.msg))
        return NAN;
    ab_disc_destroy(disc);
    free(u);
    ab_check(t, rep.iterations > 0 && rep.linear_iterations > 0, "%s L = %d: Newton (%d) and GMRES (%d) iterated", state,
             L, rep.iterations, rep.linear_iterations);
    return rep.iterations ? (double)rep.linear_iterations / rep.iterations : NAN;
}

static void gmres_flat_in_L(ab_tally *t)
{
    const double near = 1.05 * ab_kappa_l(AB_MODEL_SA, 3, 4.0, 1);
    const double u32 = gmres_per_step(t, "{type: cluster}", near, 32), u128 = gmres_per_step(t, "{type: cluster}", near, 128);
    ab_check(t, u128 <= AB_TEST_GMRES_GROWTH * u32, "uniform near kappa_1: GMRES per Newton step %.2f at L = 128, %.2f at 32",
             u128, u32);
    const char *tet = "{type: clusters, arrangement: tetrahedron}";
    const double t32 = gmres_per_step(t, tet, 0.05, 32), t64 = gmres_per_step(t, tet, 0.05, 64);
    ab_check(t, t64 <= AB_TEST_GMRES_GROWTH * t32, "tetrahedron: GMRES per Newton step %.2f at L = 64, %.2f at 32", t64,
             t32);
}

int main(void)
{
    ab_tally t = {0};
    uniform_spectrum(&t, "SA", 4.0, 0.3);
    uniform_spectrum(&t, "USA", 2.0, 0.45);
    uniform_spectrum(&t, "SA", 0.0, 0.8);
    zonal_state(&t, "SA", 4.0, 0.15, "{type: cluster}", 1e-10);
    zonal_state(&t, "SA", 4.0, 0.15, "{type: clusters, centers: [[0.6, 0, 0.8]]}", 1e-10);
    zonal_state(&t, "USA", 2.0, 0.3, "{type: clusters, centers: [[-0.48, 0.6, 0.64]]}", 1e-10);
    zonal_spectrum(&t, 4.0, 0.16, 24);
    dense_vs_gmres(&t);
    arpack_vs_dense(&t);
    gmres_flat_in_L(&t);
    arrangement(&t, "SA", 4.0, 0.05, "tetrahedron", 0);
    arrangement(&t, "SA", 4.0, 0.05, "polygon", 3);
    return ab_finish(&t);
}
