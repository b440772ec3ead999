/* Example of libattnbif used from another program (docs/library.md): the stable 1-cluster
 * of SA attention on S^2 at beta = 4, kappa = 0.1 (problems/sa-d3-beta4-cluster.yaml) by
 * Newton, then its spectrum sector by sector, through the installed public API only.
 * Prints r, which docs/library.md documents as 0.823163270997.
 *
 *   solve_cluster            the built-in problem
 *   solve_cluster SPEC.yaml  any solve spec (docs/spec.md) */
#include <attnbif/error.h>
#include <attnbif/solve.h>
#include <attnbif/spec.h>
#include <attnbif/version.h>

#include <stdio.h>
#include <stdlib.h>

static const char *builtin_spec =
    "name: sa-d3-beta4-cluster\n"
    "model: SA\n"
    "d: 3\n"
    "beta: 4.0\n"
    "kappa: 0.1\n"
    "discretization: {type: zonal, nodes: 128}\n"
    "state: {type: cluster}\n"
    "eigen: {sectors: [0, 1, 2, 3]}\n";

int main(int argc, char **argv)
{
    ab_init();
    ab_error err = {0};
    ab_spec spec;
    ab_status st = argc > 1 ? ab_spec_load(argv[1], &spec, &err)
                            : ab_spec_parse_string(builtin_spec, "builtin.yaml", &spec, &err);
    if (st) { fprintf(stderr, "solve_cluster: %s\n", err.msg); return 2; }
    printf("libattnbif %s (headers %s)\n", ab_version(), AB_VERSION_STRING);

    ab_disc *disc = NULL;
    ab_newton *newton = NULL;
    ab_eigensolver *eig = NULL;
    ab_spectrum spectrum = {0};
    double *u = NULL;
    if ((st = ab_disc_create_from_spec(&spec, &disc, &err))) goto done;
    const size_t n = ab_disc_dim(disc);
    if (!(u = malloc(sizeof(double) * n))) { st = ab_error_set(&err, AB_ENOMEM, "out of memory"); goto done; }

    /* The stationary state: the spec's initial guess (a von Mises-Fisher cluster), then Newton. */
    ab_newton_report rep;
    ab_newton_opts nopts = {spec.newton.tol, spec.newton.max_iter, NULL, NULL};
    if ((st = ab_disc_initial_guess(disc, &spec.state, u, &err)) || (st = ab_newton_create(n, &newton, &err)) ||
        (st = ab_newton_solve(newton, disc, u, &nopts, &rep, &err)))
        goto done;
    ab_observables obs;
    if ((st = ab_disc_observables(disc, u, &obs, &err))) goto done;
    printf("newton: %d iterations, max|F| = %.3e\n", rep.iterations, rep.residual);

    /* Its spectrum in the spec's symmetry sectors, rightmost first. */
    if ((st = ab_eigensolver_create((int)n, &eig, &err)) ||
        (st = ab_spectrum_compute(eig, disc, u, spec.sectors, spec.n_sectors, &spectrum, &err)))
        goto done;
    printf("rightmost eigenvalues (sector, value, kind):\n");
    for (int i = 0; i < spectrum.count && i < 6; i++)
        printf("  %d  %+.10f  %s\n", spectrum.values[i].sector, spectrum.values[i].re,
               ab_eig_kind_name(spectrum.values[i].kind));
    printf("%s, %ld unstable eigenvalues\n", spectrum.stable ? "stable" : "unstable", spectrum.n_unstable);
    printf("r = %.12f\n", obs.r);
done:
    if (st) fprintf(stderr, "solve_cluster: %s\n", err.msg);
    ab_spectrum_free(&spectrum);
    ab_eigensolver_destroy(eig);
    ab_newton_destroy(newton);
    ab_disc_destroy(disc);
    free(u);
    return st ? 1 : 0;
}
