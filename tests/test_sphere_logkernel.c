/* The whole sphere's log-domain kernel (issue 10, "any beta"; docs/sphere.md, "Log-domain
 * kernel"): SA states the Funk-Hecke sum cannot represent, against the independent
 * reference bench/ref_sphere.c and the zonal discretisation; the two forms agree where both
 * work; the automatic choice; the Jacobian, its transpose and the beta derivative against
 * finite differences; dense and GMRES Newton in the log form. */
#include "attnbif/state.h"
#include "ref_sphere.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* r and entropy of a resolved state against an independent solver: both resolve it (tails
 * below 1e-12), so they agree far below this. */
#define AB_TEST_LOG_REF 1e-9
/* The two kernel forms at beta = 4 (both accurate to ~1e-13 there): residuals and states. */
#define AB_TEST_LOG_FORMS 1e-10
/* Central differences with step h = 1e-5 on O(1) quantities: error ~ h^2 |F'''| + eps/h. */
#define AB_TEST_LOG_FD 1e-7
/* <J v, w> = <v, J^T w>: rounding of two mat-vecs. */
#define AB_TEST_LOG_TRANSPOSE 1e-12
/* Dense and GMRES Newton: both stop at Newton's tolerance (~1e-11 in u). */
#define AB_TEST_LOG_DENSE 1e-9

static int make_spec(ab_tally *t, double beta, double kappa, const char *degree, const char *kernel, const char *state,
                     const char *solver, ab_spec *spec)
{
    char yaml[640];
    snprintf(yaml, sizeof yaml,
             "model: SA\nd: 3\nbeta: %g\nkappa: %.17g\ndiscretization: {type: sphere, degree: %s, kernel: %s}\n"
             "state: %s\nlinear_solver: {type: %s}\n",
             beta, kappa, degree, kernel, state, solver);
    ab_error err = {0};
    return ab_check(t, ab_spec_parse_string(yaml, "test_sphere_logkernel.yaml", spec, &err) == AB_OK, "spec parses (%s)",
                    err.msg);
}

static int solve(ab_tally *t, const char *what, ab_spec *spec, ab_disc **disc, double **u, ab_observables *obs,
                 ab_resolution *rs)
{
    ab_newton_report rep;
    ab_error err = {0};
    if (!ab_check(t, ab_resolve_state(spec, NULL, NULL, disc, u, &rep, rs, &err) == AB_OK, "%s: solves (%s)", what, err.msg))
        return 0;
    return ab_check(t, ab_disc_observables(*disc, *u, obs, &err) == AB_OK, "%s: observables (%s)", what, err.msg);
}

/* The observed failure (issue 10): SA beta = 20, kappa = 0.01, tetrahedral guess. Before
 * the log form, evaluating the guess failed with "kernel convolution K rho is not positive";
 * now the residual is finite, the automatic choice picks the log form, and the Funk-Hecke
 * form, when forced, still refuses honestly. (The resolved solve needs degree 96: see
 * docs/benchmarks.md; here the guess at degree 16, where `degree: auto` starts.) */
static void observed_failure(ab_tally *t)
{
    const char *tetra = "{type: clusters, arrangement: tetrahedron}";
    for (int forced = 0; forced < 2; forced++) {
        ab_spec spec;
        if (!make_spec(t, 20.0, 0.01, "16", forced ? "funk-hecke" : "auto", tetra, "auto", &spec)) return;
        ab_error err = {0};
        ab_disc *disc = NULL;
        if (!ab_check(t, ab_disc_create_from_spec(&spec, &disc, &err) == AB_OK, "disc (%s)", err.msg)) return;
        const size_t n = ab_disc_dim(disc);
        double *u = malloc(sizeof(double) * n), *F = malloc(sizeof(double) * n);
        ab_disc_accuracy acc;
        ab_status st = ab_initial_state(disc, &spec.state, u, &err);
        if (!st) st = ab_disc_residual(disc, u, F, &err);
        if (forced) {
            ab_check(t, st == AB_ENAN && strstr(err.msg, "not positive"),
                     "beta 20 kappa 0.01: the forced Funk-Hecke form refuses the tetrahedral guess (%s)", err.msg);
        } else if (ab_check(t, st == AB_OK, "beta 20 kappa 0.01: the tetrahedral guess evaluates (%s)", err.msg)) {
            double mx = 0.0;
            for (size_t i = 0; i < n; i++) mx = fmax(mx, isfinite(F[i]) ? fabs(F[i]) : INFINITY);
            ab_check(t, isfinite(mx), "beta 20: the residual is finite (%.3g)", mx);
            ab_check(t, ab_disc_accuracy_at(disc, u, &acc, &err) == AB_OK && strcmp(acc.kernel, "log-domain") == 0,
                     "beta 20: auto chooses the log-domain kernel (%s, error %.2e)", acc.kernel, acc.kernel_error);
        }
        free(u);
        free(F);
        ab_disc_destroy(disc);
    }
}

/* The reference's r and entropy on a chain of grids (the last two must agree). */
static int reference(ab_tally *t, const char *what, double beta, double kappa, const char *arrangement, double r0,
                     const int grids[2][2], ref_sphere_result *out)
{
    ref_sphere_params p;
    memset(&p, 0, sizeof p);
    p.model = REF_SPHERE_SA;
    p.beta = beta;
    p.kappa = kappa;
    p.k = ref_sphere_arrangement(arrangement, 0, p.centres);
    for (int i = 0; i < p.k; i++) p.weights[i] = 1.0;
    if (r0 > 0.0) p.guess_b = 3.0 / (1.0 - r0) / 1.5; /* a vMF guess near the cluster's r */
    ref_sphere_state *st = NULL;
    ref_sphere_result prev, last;
    memset(&last, 0, sizeof last);
    for (int g = 0; g < 2; g++) {
        p.nlat = grids[g][0];
        p.nlon = grids[g][1];
        p.start = st;
        prev = last;
        ref_sphere_state *next = NULL;
        ref_sphere_solve(&p, &last, &next);
        ref_sphere_free(st);
        st = next;
        if (!ab_check(t, last.status == 0, "%s: reference on %dx%d (%s)", what, p.nlat, p.nlon, last.message)) {
            ref_sphere_free(st);
            return 0;
        }
    }
    ref_sphere_free(st);
    ab_check(t, fabs(prev.entropy - last.entropy) <= 0.5 * AB_TEST_LOG_REF && fabs(prev.r - last.r) <= 0.5 * AB_TEST_LOG_REF,
             "%s: the reference is grid-converged (dr %.1e, dentropy %.1e, tol %.0e)", what, fabs(prev.r - last.r),
             fabs(prev.entropy - last.entropy), 0.5 * AB_TEST_LOG_REF);
    *out = last;
    return 1;
}

static void against_reference(ab_tally *t, const char *what, double beta, double kappa, const char *degree,
                              const char *state, const char *arrangement, double r0, const int grids[2][2])
{
    ab_spec spec;
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_observables obs;
    ab_resolution rs;
    if (!make_spec(t, beta, kappa, degree, "auto", state, "auto", &spec) || !solve(t, what, &spec, &disc, &u, &obs, &rs))
        goto done;
    ab_check(t, strcmp(rs.kernel, "log-domain") == 0 && rs.tail <= 1e-12 && rs.kernel_error <= 1e-12,
             "%s: log-domain kernel chosen (%s), tail %.1e, kernel error %.1e (tols 1e-12)", what, rs.kernel, rs.tail,
             rs.kernel_error);
    ref_sphere_result ref;
    if (reference(t, what, beta, kappa, arrangement, r0, grids, &ref))
        ab_check(t, fabs(obs.r - ref.r) <= AB_TEST_LOG_REF && fabs(obs.entropy - ref.entropy) <= AB_TEST_LOG_REF,
                 "%s: r %.13f (ref %.13f, diff %.1e), entropy %.13f (ref %.13f, diff %.1e), tol %.0e", what, obs.r, ref.r,
                 fabs(obs.r - ref.r), obs.entropy, ref.entropy, fabs(obs.entropy - ref.entropy), AB_TEST_LOG_REF);
done:
    ab_disc_destroy(disc);
    free(u);
}

/* A 1-cluster on the sphere equals the zonal discretisation's (itself in log form). */
static void against_zonal(ab_tally *t, double beta, double kappa, const char *degree, const char *state)
{
    ab_spec spec;
    ab_disc *disc = NULL, *zd = NULL;
    double *u = NULL, *zu = NULL;
    ab_observables obs, zobs;
    ab_resolution rs, zrs;
    char what[96];
    snprintf(what, sizeof what, "1-cluster beta %g kappa %g", beta, kappa);
    if (!make_spec(t, beta, kappa, degree, "auto", state, "auto", &spec) || !solve(t, what, &spec, &disc, &u, &obs, &rs))
        goto done;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: %g\nkappa: %.17g\nstate: %s\n", beta, kappa, state);
    ab_spec zs;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "zonal.yaml", &zs, &err) == AB_OK, "zonal spec (%s)", err.msg) ||
        !solve(t, "zonal", &zs, &zd, &zu, &zobs, &zrs))
        goto done;
    ab_check(t, strcmp(rs.kernel, "log-domain") == 0, "%s: log-domain chosen (%s)", what, rs.kernel);
    ab_check(t, fabs(obs.r - zobs.r) <= AB_TEST_LOG_REF && fabs(obs.entropy - zobs.entropy) <= AB_TEST_LOG_REF,
             "%s: sphere r %.13f entropy %.13f, zonal %.13f %.13f (diffs %.1e %.1e, tol %.0e)", what, obs.r, obs.entropy,
             zobs.r, zobs.entropy, fabs(obs.r - zobs.r), fabs(obs.entropy - zobs.entropy), AB_TEST_LOG_REF);
done:
    ab_disc_destroy(disc);
    ab_disc_destroy(zd);
    free(u);
    free(zu);
}

/* At beta = 4 both forms are accurate: the residuals at the same state, and the solved
 * states, agree. */
static void forms_agree(ab_tally *t)
{
    const char *tetra = "{type: clusters, arrangement: tetrahedron}";
    ab_disc *disc[2] = {NULL, NULL};
    double *u[2] = {NULL, NULL};
    ab_observables obs[2];
    ab_resolution rs[2];
    const char *kernels[2] = {"funk-hecke", "log-domain"};
    for (int k = 0; k < 2; k++) {
        ab_spec spec;
        if (!make_spec(t, 4.0, 0.04, "32", kernels[k], tetra, "auto", &spec) ||
            !solve(t, kernels[k], &spec, &disc[k], &u[k], &obs[k], &rs[k]))
            goto done;
        ab_check(t, strcmp(rs[k].kernel, kernels[k]) == 0, "beta 4: the forced form is kept (%s)", rs[k].kernel);
    }
    const size_t n = ab_disc_dim(disc[0]);
    double *F0 = malloc(sizeof(double) * n), *F1 = malloc(sizeof(double) * n), du = 0.0, dF = 0.0;
    ab_error err = {0};
    if (ab_check(t, ab_disc_residual(disc[0], u[1], F0, &err) == AB_OK && ab_disc_residual(disc[1], u[1], F1, &err) == AB_OK,
                 "residuals (%s)", err.msg)) {
        for (size_t i = 0; i < n; i++) {
            dF = fmax(dF, fabs(F0[i] - F1[i]));
            du = fmax(du, fabs(u[0][i] - u[1][i]));
        }
        ab_check(t, dF <= AB_TEST_LOG_FORMS && du <= AB_TEST_LOG_FORMS && fabs(obs[0].entropy - obs[1].entropy) <= AB_TEST_LOG_FORMS,
                 "beta 4 tetrahedron: Funk-Hecke and log-domain residuals differ by %.1e, states by %.1e, entropies by "
                 "%.1e (tol %.0e)",
                 dF, du, fabs(obs[0].entropy - obs[1].entropy), AB_TEST_LOG_FORMS);
    }
    free(F0);
    free(F1);
done:
    for (int k = 0; k < 2; k++) { ab_disc_destroy(disc[k]); free(u[k]); }
}

/* In the log form at a sharp state: J v against central differences of F, <J v, w> =
 * <v, J^T w>, the beta derivative against differences in beta; dense and GMRES Newton. */
static void linearisation(ab_tally *t)
{
    const char *state = "{type: cluster}";
    ab_spec spec;
    ab_disc *disc = NULL, *dd = NULL;
    double *u = NULL, *ud = NULL;
    ab_observables obs, dobs;
    ab_resolution rs, drs;
    if (!make_spec(t, 20.0, 0.04, "20", "log-domain", state, "gmres", &spec) ||
        !solve(t, "beta 20 degree 20 gmres", &spec, &disc, &u, &obs, &rs))
        goto done;
    const size_t n = ab_disc_dim(disc);
    double *v = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n), *Jv = malloc(sizeof(double) * n),
           *Jw = malloc(sizeof(double) * n), *Fp = malloc(sizeof(double) * n), *Fm = malloc(sizeof(double) * n),
           *up = malloc(sizeof(double) * n), *dF = malloc(sizeof(double) * n);
    unsigned long long seed = 777;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (double)(seed >> 11) / 9007199254740992.0 - 0.5;
        w[i] = cos(0.61 * (double)i);
    }
    ab_error err = {0};
    ab_problem *p = ab_disc_problem(disc);
    const ab_linop *J = ab_problem_jacobian(p);
    const double h = 1e-5;
    int ok = ab_problem_linearize(p, u, &err) == AB_OK && J->apply(J->ctx, v, Jv, &err) == AB_OK &&
             J->apply_transpose(J->ctx, w, Jw, &err) == AB_OK;
    for (size_t i = 0; i < n && ok; i++) up[i] = u[i] + h * v[i];
    ok = ok && ab_disc_residual(disc, up, Fp, &err) == AB_OK;
    for (size_t i = 0; i < n && ok; i++) up[i] = u[i] - h * v[i];
    ok = ok && ab_disc_residual(disc, up, Fm, &err) == AB_OK;
    if (ab_check(t, ok, "log form: J, J^T and F apply (%s)", err.msg)) {
        double d = 0.0, m = 0.0, a = 0.0, b = 0.0, s = 0.0;
        for (size_t i = 0; i < n; i++) {
            d = fmax(d, fabs((Fp[i] - Fm[i]) / (2 * h) - Jv[i]));
            m = fmax(m, fabs(Jv[i]));
            a += Jv[i] * w[i];
            b += v[i] * Jw[i];
            s += fabs(Jv[i] * w[i]);
        }
        ab_check(t, d <= AB_TEST_LOG_FD * fmax(m, 1.0), "log form: J v against central differences %.1e (|Jv| %.2g, tol %.0e)",
                 d, m, AB_TEST_LOG_FD);
        ab_check(t, fabs(a - b) <= AB_TEST_LOG_TRANSPOSE * s, "log form: <Jv, w> - <v, J^T w> = %.1e (relative %.1e, tol %.0e)",
                 a - b, fabs(a - b) / s, AB_TEST_LOG_TRANSPOSE);
    }
    /* d F / d beta against central differences in beta */
    ab_params par = ab_disc_params(disc);
    ok = ab_disc_dparam(disc, u, AB_PARAM_BETA, dF, &err) == AB_OK;
    ab_params pp = par;
    pp.beta = par.beta + 1e-4;
    ok = ok && ab_disc_set_params(disc, pp, &err) == AB_OK && ab_disc_residual(disc, u, Fp, &err) == AB_OK;
    pp.beta = par.beta - 1e-4;
    ok = ok && ab_disc_set_params(disc, pp, &err) == AB_OK && ab_disc_residual(disc, u, Fm, &err) == AB_OK;
    ok = ok && ab_disc_set_params(disc, par, &err) == AB_OK;
    if (ab_check(t, ok, "log form: dF/dbeta (%s)", err.msg)) {
        double d = 0.0, m = 0.0;
        for (size_t i = 0; i < n; i++) {
            d = fmax(d, fabs((Fp[i] - Fm[i]) / 2e-4 - dF[i]));
            m = fmax(m, fabs(dF[i]));
        }
        ab_check(t, d <= AB_TEST_LOG_FD * fmax(m, 1.0), "log form: dF/dbeta against central differences %.1e (|dF| %.2g, tol %.0e)",
                 d, m, AB_TEST_LOG_FD);
    }
    free(v); free(w); free(Jv); free(Jw); free(Fp); free(Fm); free(up); free(dF);
    if (!make_spec(t, 20.0, 0.04, "20", "log-domain", state, "dense", &spec) ||
        !solve(t, "beta 20 degree 20 dense", &spec, &dd, &ud, &dobs, &drs))
        goto done;
    double d = 0.0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs(u[i] - ud[i]));
    ab_check(t, d <= AB_TEST_LOG_DENSE && fabs(obs.r - dobs.r) <= AB_TEST_LOG_DENSE,
             "log form: dense and GMRES Newton give the same state (%.1e, r %.1e; tol %.0e)", d, fabs(obs.r - dobs.r),
             AB_TEST_LOG_DENSE);
done:
    ab_disc_destroy(disc);
    ab_disc_destroy(dd);
    free(u);
    free(ud);
}

static int by_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* Real parts with multiplicity, sorted descending, the mass eigenvalue left out. */
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

/* The spectrum's fields in the log form (log K rho, its gradient and Laplacian from the
 * softmax over the grid where the Funk-Hecke sum is not accurate): at a 1-cluster the
 * sphere spectrum is the union of the zonal sectors (m >= 1 twice), top 20 to 1e-8 kappa. */
static void log_spectrum(ab_tally *t, double beta, double kappa, int degree)
{
    char yaml[600], what[160];
    ab_spec spec;
    ab_solve_result zres;
    ab_error err = {0};
    snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: %g\nkappa: %.17g\n"
             "state: {type: cluster}\neigen: {sectors: [0, 1, 2, 3, 4, 5, 6, 7, 8]}\n", beta, kappa);
    if (!ab_check(t, ab_spec_parse_string(yaml, "z.yaml", &spec, &err) == AB_OK, "zonal spec (%s)", err.msg) ||
        !ab_check(t, ab_solve_problem(&spec, NULL, NULL, &zres, &err) == AB_OK, "zonal solve (%s)", err.msg))
        return;
    snprintf(what, sizeof what, "SA beta=%g kappa=%g cluster, degree %d, log form: sphere spectrum = zonal sectors", beta,
             kappa, degree);
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep;
    ab_resolution rs;
    ab_eigensolver *eig = NULL;
    ab_spectrum sp = {0};
    char deg[16];
    snprintf(deg, sizeof deg, "%d", degree);
    if (make_spec(t, beta, kappa, deg, "log-domain", "{type: cluster}", "auto", &spec) &&
        ab_check(t, ab_resolve_state(&spec, NULL, NULL, &disc, &u, &rep, &rs, &err) == AB_OK, "%s: state (%s)", what, err.msg) &&
        ab_check(t, ab_eigensolver_create((int)ab_disc_dim(disc), &eig, &err) == AB_OK, "eigensolver")) {
        ab_check(t, rs.rotation_eigenvalue <= 1e-10, "%s: rotation residual %.1e (tol 1e-10)", what, rs.rotation_eigenvalue);
        ab_eigensolver_set_dense_max(eig, 2000);
        const int sectors[1] = {0};
        if (ab_check(t, ab_spectrum_compute(eig, disc, u, sectors, 1, &sp, &err) == AB_OK, "%s: spectrum (%s)", what, err.msg)) {
            static double a[4096], b[4096];
            const int na = expand(&sp, a, 4096), nb = expand(&zres.spectrum, b, 4096);
            double worst = 0.0;
            for (int i = 0; i < 20 && i < na && i < nb; i++) worst = fmax(worst, fabs(a[i] - b[i]) / kappa);
            ab_check(t, na >= 20 && nb >= 20 && worst <= 1e-8, "%s: top 20 agree to %.2e kappa (tol 1e-8)", what, worst);
            ab_spectrum_free(&sp);
        }
    }
    ab_eigensolver_destroy(eig);
    ab_disc_destroy(disc);
    free(u);
    ab_solve_result_free(&zres);
}

/* The log form is SA's: USA on the sphere with kernel: log-domain is refused at the field. */
static void usa_refused(ab_tally *t)
{
    const char *yaml = "model: USA\nd: 3\nbeta: 4\nkappa: 1\ndiscretization: {type: sphere, degree: 16, kernel: log-domain}\n";
    ab_spec spec;
    ab_error err = {0};
    ab_status st = ab_spec_parse_string(yaml, "usa.yaml", &spec, &err);
    ab_check(t, st != AB_OK && strstr(err.msg, "usa.yaml:5") && strstr(err.msg, "discretization.kernel") && strstr(err.msg, "SA"),
             "USA sphere with kernel: log-domain refused naming file, line and field (%s)", err.msg);
}

int main(void)
{
    ab_tally t = {0};
    observed_failure(&t);
    usa_refused(&t);
    forms_agree(&t);
    linearisation(&t);
    against_zonal(&t, 20.0, 0.04, "32", "{type: cluster}");
    log_spectrum(&t, 20.0, 0.04, 24);
    against_zonal(&t, 40.0, 0.02, "32", "{type: cluster, r: 0.9}");
    const int g20[2][2] = {{28, 56}, {32, 64}};
    against_reference(&t, "tetrahedron beta 20 kappa 0.025", 20.0, 0.025, "40",
                      "{type: clusters, arrangement: tetrahedron}", "tetrahedron", 0.0, g20);
    return ab_finish(&t);
}
