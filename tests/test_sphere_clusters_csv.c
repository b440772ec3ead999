/* The cluster decomposition along a whole-sphere branch (issue 10; docs/output-run.md,
 * "clusters.csv"): a short run of SA's tetrahedral state (d = 3, beta = 4, kappa 0.05 down
 * to 0.0498) keeps every point's clusters, which sit at a regular tetrahedron's vertices with
 * masses 1/4, and writes them to clusters.csv (one row per cluster, exact round trip,
 * n_clusters of branches.csv rows per point); a zonal run writes no clusters.csv. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "attnbif/continuation.h"
#include "attnbif/results.h"
#include "io/plot.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Masses: 1/4 by symmetry, up to the converged state's own asymmetry (Newton's residual,
 * measured 1.4e-11) and the cell quadrature; centres: the peaks are refined to about 1e-8,
 * so the cosines between them equal -1/3 to 1e-6. */
#define AB_TEST_MASS_TOL 1e-9
#define AB_TEST_ANGLE_TOL 1e-6

static int run(ab_tally *t, const char *yaml, ab_diagram *d)
{
    ab_spec *spec = malloc(sizeof *spec); /* the diagram keeps a pointer to it */
    ab_error err = {0};
    memset(d, 0, sizeof *d);
    if (!ab_check(t, spec && ab_spec_parse_string(yaml, "clusters-csv.yaml", spec, &err) == AB_OK, "spec (%s)", err.msg))
        return 0;
    return ab_check(t, ab_run_diagram_with(spec, NULL, d, &err) == AB_OK, "run (%s)", err.msg);
}

int main(void)
{
    ab_tally t = {0};
    ab_diagram d;
    const char *tet = "name: clusters-csv\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.05\n"
                      "discretization: {type: sphere, degree: 32}\n"
                      "state: {type: clusters, arrangement: tetrahedron}\n"
                      "continuation: {parameter: kappa, min: 0.0498, max: 0.05, direction: -1, ds: 0.0004, "
                      "ds_max: 0.0005, max_steps: 3}\n";
    if (!run(&t, tet, &d)) return ab_finish(&t);
    const ab_branch *br = &d.branches[0];
    long rows = 0;
    double worst_mass = 0.0, worst_sum = 0.0, worst_cos = 0.0;
    int all4 = 1;
    for (int i = 0; i < br->n_points; i++) {
        const ab_branch_point *p = &br->points[i];
        all4 &= p->n_clusters == 4 && p->cluster_first >= 0;
        if (p->cluster_first < 0) continue;
        rows += p->n_clusters;
        const ab_cluster *c = &d.cluster_rows[p->cluster_first];
        double sum = 0.0;
        for (int k = 0; k < p->n_clusters; k++) {
            sum += c[k].mass;
            worst_mass = fmax(worst_mass, fabs(c[k].mass - 0.25));
            for (int q = k + 1; q < p->n_clusters; q++) {
                double dot = c[k].centre[0] * c[q].centre[0] + c[k].centre[1] * c[q].centre[1] + c[k].centre[2] * c[q].centre[2];
                worst_cos = fmax(worst_cos, fabs(dot + 1.0 / 3.0));
            }
        }
        worst_sum = fmax(worst_sum, fabs(sum - 1.0));
    }
    ab_check(&t, br->n_points >= 4 && all4, "every one of the %d points keeps 4 clusters", br->n_points);
    int td = 1;
    for (int i = 0; i < br->n_points; i++) td &= strcmp(br->points[i].symmetry, "T_d") == 0;
    ab_check(&t, td, "every point's symmetry, verified on its density, is T_d (first: %s)", br->points[0].symmetry);
    char name[64];
    ab_plot_branch_name(&d, br, name, sizeof name);
    ab_check(&t, strcmp(name, "4-cluster, T_d") == 0, "the branch is named by its clusters and symmetry: '%s'", name);
    ab_check(&t, worst_mass <= AB_TEST_MASS_TOL && worst_sum <= AB_TEST_MASS_TOL,
             "masses 1/4 to %.1e and their sum 1 to %.1e (tol %.0e)", worst_mass, worst_sum, AB_TEST_MASS_TOL);
    ab_check(&t, worst_cos <= AB_TEST_ANGLE_TOL, "centres at a regular tetrahedron's vertices: cosines -1/3 to %.1e (tol %.0e)",
             worst_cos, AB_TEST_ANGLE_TOL);

    char dir[] = "/tmp/attnbif-clusters-csv-XXXXXX";
    ab_error err = {0};
    if (ab_check(&t, mkdtemp(dir) != NULL, "temporary directory")) {
        char out[128], path[256];
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(path, sizeof path, "%s/clusters.csv", out);
        if (ab_check(&t, ab_write_diagram(out, &d, &err) == AB_OK, "outputs written (%s)", err.msg)) {
            FILE *f = fopen(path, "r");
            char line[1024];
            long n = 0, exact = 0, keyed = 0;
            if (ab_check(&t, f && fgets(line, sizeof line, f), "clusters.csv readable")) {
                ab_check(&t, strcmp(line, "branch,point,kappa,beta,cluster,x,y,z,mass,mass_error,peak,prominence\n") == 0,
                         "clusters.csv header");
                int b, i, k;
                double kappa, beta, x, y, z, mass, me, peak, prom;
                while (fgets(line, sizeof line, f)) {
                    n++;
                    if (sscanf(line, "%d,%d,%lf,%lf,%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &b, &i, &kappa, &beta, &k, &x, &y, &z,
                               &mass, &me, &peak, &prom) != 12 || b != 1 || i < 0 || i >= br->n_points || k < 1 ||
                        k > br->points[i].n_clusters)
                        continue;
                    keyed++;
                    const ab_cluster *c = &d.cluster_rows[br->points[i].cluster_first + k - 1];
                    exact += x == c->centre[0] && y == c->centre[1] && z == c->centre[2] && mass == c->mass &&
                             me == c->mass_error && peak == c->peak && prom == c->prominence && kappa == br->points[i].kappa;
                }
            }
            if (f) fclose(f);
            ab_check(&t, n == rows && keyed == rows && exact == rows,
                     "clusters.csv: %ld rows (%ld stored), %ld keyed to a point, %ld exact round trips", n, rows, keyed, exact);
        }
        ab_remove_tree(dir);
    }
    const ab_spec *tet_spec = d.spec;
    ab_diagram_free(&d);
    free((void *)tet_spec);

    /* a zonal run has no clusters to write */
    const char *zonal = "name: zonal-csv\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.3\ndiscretization: {type: zonal, nodes: 32}\n"
                        "state: {type: uniform}\n"
                        "continuation: {parameter: kappa, min: 0.25, max: 0.3, direction: -1, ds: 0.02, max_steps: 3}\n";
    if (run(&t, zonal, &d)) {
        char zdir[] = "/tmp/attnbif-clusters-csv-XXXXXX";
        if (ab_check(&t, mkdtemp(zdir) != NULL, "temporary directory")) {
            char out[128], path[256];
            snprintf(out, sizeof out, "%s/out", zdir);
            snprintf(path, sizeof path, "%s/clusters.csv", out);
            if (ab_check(&t, ab_write_diagram(out, &d, &err) == AB_OK, "zonal outputs written (%s)", err.msg))
                ab_check(&t, !ab_exists(path), "a zonal run writes no clusters.csv");
            ab_remove_tree(zdir);
        }
        const ab_spec *s = d.spec;
        ab_diagram_free(&d);
        free((void *)s);
    }
    return ab_finish(&t);
}
