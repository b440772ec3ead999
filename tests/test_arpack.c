/* The ARPACK path for large sectors (Cayley transform, rightmost eigenvalues) against the
 * full dense decomposition on the same operators. */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
        ab_check(t, a.n_unstable == b.n_unstable, "%s: same unstable count (%d vs %d)", what, a.n_unstable, b.n_unstable);
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

int main(void)
{
    ab_init();
    ab_tally t = {0};
    compare(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {nodes: 96}\nstate: {type: cluster}\n"
                "eigen: {sectors: [0, 1, 2, 3]}\n", "SA d=3 1-cluster");
    /* the uniform state below kappa_3: several unstable eigenvalues per sector */
    compare(&t, "model: USA\nd: 3\nbeta: 4\nkappa: 0.3\ndiscretization: {nodes: 64}\nstate: {type: uniform}\n"
                "eigen: {sectors: [0, 1, 2]}\n", "USA d=3 uniform, unstable");
    return ab_finish(&t);
}
