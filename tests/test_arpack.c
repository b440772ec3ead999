/* The ARPACK path for large sectors (shift-invert, rightmost eigenvalues) against the
 * full dense decomposition on the same operators, including sharp states at up to 768
 * nodes (docs/testing.md). */
#include "attnbif/results.h"
#include "solve/arnoldi.h"
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void compare(ab_tally *t, const char *yaml, const char *what)
{
    ab_spec spec;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "arpack.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) return;
    ab_disc *disc;
    ab_newton *nw;
    ab_eigensolver *dense, *arnoldi;
    ab_disc_create_from_spec(&spec, &disc, &err);
    size_t n = ab_disc_dim(disc);
    double *u = malloc(sizeof(double) * n);
    ab_newton_create(n, &nw, &err);
    ab_initial_state(disc, &spec.state, u, &err);
    ab_newton_opts opts = {1e-12, 50, NULL, NULL};
    ab_newton_report rep;
    ab_eigensolver_create((int)n, &dense, &err);
    ab_eigensolver_create((int)n, &arnoldi, &err);
    ab_eigensolver_set_dense_max(arnoldi, 0); /* every sector through ARPACK */
    ab_spectrum a, b;
    if (ab_check(t, ab_newton_solve(nw, disc, u, &opts, &rep, &err) == AB_OK, "%s: state %s", what, err.msg) &&
        ab_check(t, ab_spectrum_compute(dense, disc, u, spec.sectors, spec.n_sectors, &a, &err) == AB_OK &&
                        ab_spectrum_compute(arnoldi, disc, u, spec.sectors, spec.n_sectors, &b, &err) == AB_OK,
                 "%s: spectra %s", what, err.msg)) {
        ab_check(t, b.partial == spec.n_sectors && a.partial == 0, "%s: ARPACK used for every sector", what);
        ab_check(t, a.n_unstable == b.n_unstable, "%s: same unstable count (%ld vs %ld)", what, a.n_unstable, b.n_unstable);
        /* the 6 rightmost of each sector agree (1e-9 relative, floor 1: ARPACK's tolerance is
         * machine precision on the transformed operator) */
        for (int q = 0; q < spec.n_sectors; q++) {
            int m = spec.sectors[q], k = 0, j = 0;
            for (int i = 0; i < a.count && k < 6; i++) {
                if (a.values[i].sector != m) continue;
                while (j < b.count && b.values[j].sector != m) j++;
                if (j >= b.count) break;
                char w[160];
                snprintf(w, sizeof w, "%s: sector %d eigenvalue %d (%s)", what, m, k + 1, ab_eig_kind_name(a.values[i].kind));
                ab_check_rel(t, b.values[j].re, a.values[i].re, 1e-9, 1.0, w);
                ab_check(t, fabs(b.values[j].im - a.values[i].im) <= 1e-9 * fmax(1.0, fabs(a.values[i].re)) &&
                                b.values[j].kind == a.values[i].kind,
                         "%s: same imaginary part and kind", w);
                j++;
                k++;
            }
        }
        ab_spectrum_free(&a);
        ab_spectrum_free(&b);
    }
    ab_eigensolver_destroy(dense);
    ab_eigensolver_destroy(arnoldi);
    ab_newton_destroy(nw);
    ab_disc_destroy(disc);
    free(u);
}

static int by_re_desc(const void *pa, const void *pb)
{
    const double *a = pa, *b = pb; /* (re, im, err) triples */
    return a[0] < b[0] ? 1 : (a[0] > b[0] ? -1 : (a[1] < b[1] ? 1 : (a[1] > b[1] ? -1 : 0)));
}

/* The state of a spec solved at a forced node count (Newton from the spec's guess). */
static int solved_state(ab_tally *t, const char *yaml, int nodes, ab_spec *spec, ab_disc **disc, double **u, const char *what)
{
    ab_error err = {0};
    char full[600];
    snprintf(full, sizeof full, "%sdiscretization: {nodes: %d}\n", yaml, nodes);
    if (!ab_check(t, ab_spec_parse_string(full, "arpack.yaml", spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) return 0;
    if (!ab_check(t, ab_disc_create_from_spec(spec, disc, &err) == AB_OK, "%s: discretisation %s", what, err.msg)) return 0;
    size_t n = ab_disc_dim(*disc);
    ab_newton *nw;
    *u = malloc(sizeof(double) * n);
    ab_newton_create(n, &nw, &err);
    ab_newton_opts opts = {1e-11, 50, NULL, NULL};
    ab_newton_report rep;
    int ok = ab_initial_state(*disc, &spec->state, *u, &err) == AB_OK && ab_newton_solve(nw, *disc, *u, &opts, &rep, &err) == AB_OK;
    ab_newton_destroy(nw);
    if (!ab_check(t, ok, "%s: state %s", what, err.msg)) {
        ab_disc_destroy(*disc);
        free(*u);
        return 0;
    }
    return 1;
}

/* ab_rightmost_eigs on each sector matrix against LAPACK dgeev on the same matrix: the 10
 * rightmost eigenvalues agree to 1e-10 of the spectral scale (the largest modulus among
 * them), and the difference is within the two error estimates. */
static void compare_direct(ab_tally *t, const char *yaml, int nodes, const int *sectors, int n_sectors, const char *what)
{
    ab_spec spec;
    ab_disc *disc;
    double *u;
    char w0[200];
    snprintf(w0, sizeof w0, "%s N=%d", what, nodes);
    if (!solved_state(t, yaml, nodes, &spec, &disc, &u, w0)) return;
    for (int q = 0; q < n_sectors; q++) {
        ab_error err = {0};
        ab_sector_op op;
        if (!ab_check(t, ab_disc_sector_operator(disc, u, sectors[q], &op, &err) == AB_OK, "%s: sector %d %s", w0, sectors[q], err.msg))
            continue;
        const int n = op.dim, k = AB_ARNOLDI_EIGS;
        double *A = malloc(sizeof(double) * (size_t)n * n), *wr = malloc(sizeof(double) * n), *wi = malloc(sizeof(double) * n);
        double *dense = malloc(sizeof(double) * 3 * (size_t)n), arp[3 * (AB_ARNOLDI_EIGS + 1)];
        double re[AB_ARNOLDI_EIGS + 1], im[AB_ARNOLDI_EIGS + 1], er[AB_ARNOLDI_EIGS + 1];
        memcpy(A, op.matrix, sizeof(double) * (size_t)n * n);
        int found = 0;
        ab_status st = ab_rightmost_eigs(op.matrix, n, k, re, im, er, NULL, &found, &err);
        lapack_int info = LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', n, A, n, wr, wi, NULL, 1, NULL, 1);
        ab_check(t, info == 0, "%s sector %d: dgeev succeeds", w0, sectors[q]);
        if (st == AB_ENOCONV && info == 0) {
            /* refused only when a real eigenvalue lies right of the k nearest 0 (a spurious
             * positive one of an unresolved state): check that it is so */
            double *dist = malloc(sizeof(double) * n), right_of_near = -INFINITY, outlier = -INFINITY;
            for (int i = 0; i < n; i++) dist[i] = hypot(wr[i], wi[i]);
            for (int j = 0; j < k; j++) { /* the k nearest 0, by selection */
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (dist[i] >= 0.0 && (best < 0 || dist[i] < dist[best])) best = i;
                right_of_near = fmax(right_of_near, wr[best]);
                dist[best] = -1.0;
            }
            for (int i = 0; i < n; i++)
                if (dist[i] >= 0.0 && wi[i] == 0.0) outlier = fmax(outlier, wr[i]);
            ab_check(t, outlier > right_of_near && outlier > 0.0,
                     "%s sector %d: ARPACK refused (%s): dense has a real eigenvalue %.4g right of the %d nearest 0", w0,
                     sectors[q], err.msg, outlier, k);
            free(dist);
        } else if (ab_check(t, st == AB_OK && found >= k, "%s sector %d: ARPACK (%s) succeeds, %d found", w0, sectors[q],
                            err.msg, found)) {
            for (int i = 0; i < n; i++) { dense[3 * i] = wr[i]; dense[3 * i + 1] = wi[i]; dense[3 * i + 2] = 0.0; }
            for (int i = 0; i < found; i++) { arp[3 * i] = re[i]; arp[3 * i + 1] = im[i]; arp[3 * i + 2] = er[i]; }
            qsort(dense, (size_t)n, 3 * sizeof(double), by_re_desc);
            qsort(arp, (size_t)found, 3 * sizeof(double), by_re_desc);
            double scale = 0.0, worst = 0.0;
            int honest = 1;
            for (int i = 0; i < 10; i++) scale = fmax(scale, hypot(dense[3 * i], dense[3 * i + 1]));
            for (int i = 0; i < 10; i++) {
                double diff = hypot(arp[3 * i] - dense[3 * i], arp[3 * i + 1] - dense[3 * i + 1]);
                worst = fmax(worst, diff);
                honest &= diff <= arp[3 * i + 2];
            }
            ab_check(t, worst <= 1e-10 * scale, "%s sector %d: 10 rightmost eigenvalues agree, max |diff| = %.2e <= 1e-10 x %.3g",
                     w0, sectors[q], worst, scale);
            ab_check(t, honest, "%s sector %d: each difference is within the ARPACK error estimate", w0, sectors[q]);
        }
        free(A); free(wr); free(wi); free(dense);
    }
    ab_disc_destroy(disc);
    free(u);
}

/* The solve path (default AB_DENSE_MAX: ARPACK above 400 unknowns per sector) on the sharp
 * USA cluster where dneupd used to fail with info -14 (issue 7). */
static void sharp_through_spectrum(ab_tally *t, int nodes)
{
    const char *yaml = "model: USA\nd: 3\nbeta: 4\nkappa: 0.002\nstate: {type: cluster}\neigen: {sectors: [0, 1, 2]}\n";
    ab_spec spec;
    ab_disc *disc;
    double *u;
    char what[120];
    snprintf(what, sizeof what, "USA d=3 beta=4 kappa=0.002 cluster N=%d", nodes);
    if (!solved_state(t, yaml, nodes, &spec, &disc, &u, what)) return;
    ab_eigensolver *es;
    ab_error err = {0};
    ab_spectrum sp;
    ab_eigensolver_create((int)ab_disc_dim(disc), &es, &err);
    if (ab_check(t, ab_spectrum_compute(es, disc, u, spec.sectors, spec.n_sectors, &sp, &err) == AB_OK,
                 "%s: spectrum (ARPACK) succeeds: %s", what, err.msg)) {
        ab_check(t, sp.partial == spec.n_sectors, "%s: every sector through ARPACK (%d)", what, sp.partial);
        double top = -INFINITY;
        for (int i = 0; i < sp.count; i++)
            if (sp.values[i].kind == AB_EIG_STABILITY) top = fmax(top, sp.values[i].re);
        ab_check(t, sp.n_unstable == 0 && top < 0.0, "%s: the cluster is stable (top stability eigenvalue %.3e)", what, top);
        ab_spectrum_free(&sp);
    }
    ab_eigensolver_destroy(es);
    ab_disc_destroy(disc);
    free(u);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    compare(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {nodes: 96}\nstate: {type: cluster}\n"
                "eigen: {sectors: [0, 1, 2, 3]}\n", "SA d=3 1-cluster");
    /* the uniform state below kappa_3: several unstable eigenvalues per sector */
    compare(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.3\ndiscretization: {nodes: 64}\nstate: {type: uniform}\n"
                "eigen: {sectors: [0, 1, 2]}\n", "USA d=3 uniform, unstable");
    /* ARPACK against dense on the rightmost 10 of each sector, forced node counts, smooth
     * and sharp states (the USA kappa = 0.002 cluster: ||A|| ~ 1e5 against rightmost
     * eigenvalues ~ 0.1, where the old Cayley transform did not converge) */
    const int sec3[] = {0, 1, 2};
    const int grid[] = {64, 128, 256, 512};
    for (int g = 0; g < 4; g++) {
        compare_direct(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.002\nstate: {type: cluster}\n", grid[g], sec3, 3,
                       "USA d=3 beta=4 kappa=0.002 cluster");
        compare_direct(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.01\nstate: {type: cluster}\n", grid[g], sec3, 3,
                       "SA d=3 beta=4 kappa=0.01 cluster");
        compare_direct(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.3\nstate: {type: uniform}\n", grid[g], sec3, 3,
                       "USA d=3 beta=4 kappa=0.3 uniform (unstable)");
    }
    /* unresolved (N = 64): a spurious eigenvalue ~ +400 far right of the rest; the solve path
     * must still count it (ARPACK refuses, the dense decomposition decides) */
    {
        ab_spec spec;
        ab_disc *disc;
        double *u;
        const char *what = "USA d=3 beta=4 kappa=0.002 cluster N=64, every sector forced through ARPACK";
        if (solved_state(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.002\nstate: {type: cluster}\neigen: {sectors: [0, 1, 2]}\n",
                         64, &spec, &disc, &u, what)) {
            ab_eigensolver *dense, *arnoldi;
            ab_error err = {0};
            ab_spectrum a, b;
            ab_eigensolver_create((int)ab_disc_dim(disc), &dense, &err);
            ab_eigensolver_create((int)ab_disc_dim(disc), &arnoldi, &err);
            ab_eigensolver_set_dense_max(arnoldi, 0);
            if (ab_check(&t, ab_spectrum_compute(dense, disc, u, spec.sectors, 3, &a, &err) == AB_OK &&
                                 ab_spectrum_compute(arnoldi, disc, u, spec.sectors, 3, &b, &err) == AB_OK,
                         "%s: spectra %s", what, err.msg)) {
                ab_check(&t, a.n_unstable == b.n_unstable && b.partial < 3,
                         "%s: same unstable count as dense (%ld vs %ld), %d sectors by ARPACK", what, b.n_unstable, a.n_unstable,
                         b.partial);
                /* the rightmost (the rotation mode, unresolved) is found and tagged alike */
                ab_check(&t, a.values[0].re > 1.0, "%s: a spurious eigenvalue %.4g > 1 exists", what, a.values[0].re);
                ab_check_rel(&t, b.values[0].re, a.values[0].re, 1e-10, 1.0, "rightmost eigenvalue, forced ARPACK vs dense");
                ab_check(&t, a.values[0].kind == b.values[0].kind, "%s: same kind (%s)", what, ab_eig_kind_name(a.values[0].kind));
                ab_spectrum_free(&a);
                ab_spectrum_free(&b);
            }
            ab_eigensolver_destroy(dense);
            ab_eigensolver_destroy(arnoldi);
            ab_disc_destroy(disc);
            free(u);
        }
    }
    sharp_through_spectrum(&t, 448);
    sharp_through_spectrum(&t, 768);
    return ab_finish(&t);
}
