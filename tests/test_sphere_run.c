/* Continuation on the whole sphere (issue 10): the tetrahedral 4-cluster state of SA, d = 3,
 * beta = 4 followed in kappa from 0.05 down to 0.04 with degree: auto. Checked: every point
 * has 4 clusters and the tetrahedral state's 8 unstable eigenvalues (an E pair and two T
 * triplets; the three rotation modes are not counted), the branch moves to a finer degree as
 * the clusters sharpen, the end point equals the independent reference of
 * bench/ref_sphere.c (docs/sphere.md: entropy -0.847709692543191 at kappa = 0.04) to 1e-10,
 * its clusters have masses 1/4, and the outputs for the sphere are written (branches.csv
 * with entropy and n_clusters, the labelled point's map and picture). Continuation in beta:
 * the triangle of clusters from beta = 4 to 3.9 ends on the state solve finds there. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "attnbif/continuation.h"
#include "attnbif/label.h"
#include "attnbif/results.h"
#include "attnbif/state.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    ab_tally t = {0};
    const char *yaml = "name: sphere-run\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {type: sphere}\n"
                       "state: {type: clusters, arrangement: tetrahedron}\n"
                       "continuation: {parameter: kappa, min: 0.04, max: 0.05, direction: -1, ds: 0.004, ds_max: 0.005, "
                       "max_steps: 40}\n";
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    memset(&d, 0, sizeof d);
    if (!ab_check(&t, ab_spec_parse_string(yaml, "sphere-run.yaml", &spec, &err) == AB_OK, "spec (%s)", err.msg))
        return ab_finish(&t);
    if (!ab_check(&t, ab_run_diagram_with(&spec, NULL, &d, &err) == AB_OK, "run (%s)", err.msg)) return ab_finish(&t);
    ab_check(&t, d.n_branches == 1, "one branch (%d)", d.n_branches);
    const ab_branch *br = &d.branches[0];
    int all4 = 1, all8 = 1, grew = 0;
    for (int i = 0; i < br->n_points; i++) {
        all4 &= br->points[i].n_clusters == 4;
        all8 &= br->points[i].n_unstable == 8;
        grew |= i > 0 && br->points[i].nodes > br->points[i - 1].nodes;
    }
    ab_check(&t, all4 && all8, "every point: 4 clusters and 8 unstable eigenvalues");
    ab_check(&t, grew, "the branch moves to a finer degree as the clusters sharpen");
    const ab_branch_point *end = &br->points[br->n_points - 1];
    ab_check(&t, end->label == AB_SP_END && fabs(end->kappa - 0.04) <= 1e-14, "ends at the window edge (kappa = %.15g)",
             end->kappa);
    ab_check_rel(&t, end->entropy, -0.847709692543191, 1e-10, 0.0, "entropy at kappa = 0.04 against the reference");
    const ab_special_point *ep = NULL;
    for (int i = 0; i < d.n_special; i++)
        if (d.special[i].type == AB_SP_END) ep = &d.special[i];
    if (ab_check(&t, ep && ep->map && ep->n_clusters == 4, "end point: a map and 4 clusters")) {
        double worst = 0.0;
        for (int c = 0; c < 4; c++) worst = fmax(worst, fabs(ep->clusters[c].mass - 0.25));
        ab_check(&t, worst <= 1e-10, "end point: cluster masses 1/4 to %.1e (tol 1e-10)", worst);
    }
    char dir[] = "/tmp/attnbif-sphere-run-XXXXXX";
    if (ab_check(&t, mkdtemp(dir) != NULL, "temporary directory")) {
        char out[128], path[256], buf[4096];
        snprintf(out, sizeof out, "%s/out", dir);
        if (ab_check(&t, ab_write_diagram(out, &d, &err) == AB_OK, "outputs written (%s)", err.msg)) {
            snprintf(path, sizeof path, "%s/branches.csv", out);
            ab_slurp(path, buf, sizeof buf);
            ab_check(&t, strncmp(buf, "branch,point,kappa,beta,r,S,free_energy,n_unstable,stable,label,nodes,entropy,n_clusters\n",
                                 88) == 0, "branches.csv has entropy and n_clusters");
            const char *files[] = {"profiles/EP1.csv", "profiles/EP1_map.csv", "profiles/EP1.svg"};
            for (int k = 0; k < 3; k++) {
                snprintf(path, sizeof path, "%s/%s", out, files[k]);
                ab_check(&t, ab_exists(path), "%s written", files[k]);
            }
            /* a restart from the label: solve at EP1 is the state there, already converged */
            char ylab[800];
            snprintf(ylab, sizeof ylab, "model: SA\nd: 3\nbeta: 4\nkappa: 0.04\ndiscretization: {type: sphere}\n"
                     "state: {type: label, path: %s, label: EP1}\n", out);
            ab_spec sl;
            ab_solve_result rl;
            if (ab_check(&t, ab_spec_parse_string(ylab, "sphere-label.yaml", &sl, &err) == AB_OK &&
                                 ab_spec_apply_label(&sl, 0, NULL, &err) == AB_OK, "label restart spec (%s)", err.msg) &&
                ab_check(&t, ab_solve_problem(&sl, NULL, NULL, &rl, &err) == AB_OK, "solve from the label (%s)", err.msg)) {
                ab_check(&t, rl.newton.iterations <= 1, "the label's state is converged (%d Newton steps)", rl.newton.iterations);
                ab_check_rel(&t, rl.obs.entropy, -0.847709692543191, 1e-10, 0.0, "entropy of the restarted state");
                ab_solve_result_free(&rl);
            }
        }
        ab_remove_tree(dir);
    }
    ab_diagram_free(&d);

    /* continuation in beta: the triangle of clusters on the equator from beta = 4 to 3.9 at
     * degree 32 ends on the state `solve` finds at beta = 3.9 */
    const char *ybeta = "name: sphere-beta\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {type: sphere, degree: 32}\n"
                        "state: {type: clusters, arrangement: polygon, k: 3}\n"
                        "continuation: {parameter: beta, min: 3.9, max: 4.0, direction: -1, ds: 0.02, ds_max: 0.05}\n";
    const char *ysolve = "model: SA\nd: 3\nbeta: 3.9\nkappa: 0.05\ndiscretization: {type: sphere, degree: 32}\n"
                         "state: {type: clusters, arrangement: polygon, k: 3}\n";
    ab_spec s2;
    ab_solve_result res;
    memset(&d, 0, sizeof d);
    if (ab_check(&t, ab_spec_parse_string(ybeta, "sphere-beta.yaml", &spec, &err) == AB_OK, "beta spec (%s)", err.msg) &&
        ab_check(&t, ab_run_diagram_with(&spec, NULL, &d, &err) == AB_OK, "beta run (%s)", err.msg) &&
        ab_check(&t, ab_spec_parse_string(ysolve, "sphere-solve.yaml", &s2, &err) == AB_OK, "solve spec (%s)", err.msg) &&
        ab_check(&t, ab_solve_problem(&s2, NULL, NULL, &res, &err) == AB_OK, "solve at beta = 3.9 (%s)", err.msg)) {
        const ab_branch_point *e = &d.branches[0].points[d.branches[0].n_points - 1];
        ab_check(&t, fabs(e->beta - 3.9) <= 1e-14 && e->n_clusters == 3, "beta run ends at 3.9 with 3 clusters");
        ab_check_rel(&t, e->entropy, res.obs.entropy, 1e-9, 0.0, "entropy at beta = 3.9: run against solve");
        ab_check(&t, e->n_unstable == res.spectrum.n_unstable, "same unstable count (%ld, %ld)", e->n_unstable,
                 res.spectrum.n_unstable);
        ab_solve_result_free(&res);
    }
    ab_diagram_free(&d);
    return ab_finish(&t);
}
