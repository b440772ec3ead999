/* Review of issue 7: `run` on the uniform branch of SA d = 32, beta = 1000 with the default
 * kernel choice (auto). Along the branch the log-domain form is chosen, whose N-point
 * quadrature of the s-integral is not exact at beta = 1000 (its estimate counts rounding
 * only), so the uniform state is no longer a solution of the discrete problem: the "uniform"
 * branch has S = -4.5e-7 at its start (64 nodes), the l = 1 pitchfork at
 * kappa_1 = 0.000984612481205 is reported as a transcritical point at 0.00098459768 and the
 * l = 2 point at 0.00096733 (kappa_2 = 0.000968492400601: 1.2e-3 off), exit 0, no warning
 * about resolution. With 32 nodes the branch turns back at once: "1 branches, 0 branch
 * points" for a window holding kappa_1..kappa_12. With `kernel: funk-hecke` the same runs
 * give every kappa_l to 1e-12. kappa_l = I_{l+15}(1000) / (1000 I_15(1000)) (mpmath). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double KAPPA_L[5] = {0.000984612481205, 0.000968492400601, 0.000951683739585, 0.000934231785976,
                                  0.000916182931718};

static void run_window(ab_tally *t, const char *tmp, int nodes)
{
    char spec[200], dir[200], errfile[200], args[600], path[300];
    snprintf(spec, sizeof spec, "%s/r32-%d.yaml", tmp, nodes);
    snprintf(dir, sizeof dir, "%s/out-%d", tmp, nodes);
    snprintf(errfile, sizeof errfile, "%s/stderr-%d.txt", tmp, nodes);
    FILE *f = fopen(spec, "w");
    if (!ab_check(t, f != NULL, "write %s", spec)) return;
    fprintf(f, "name: r32\nmodel: SA\nd: 32\nbeta: 1000\nkappa: 0.0011\ndiscretization: {nodes: %d}\n"
               "state: {type: uniform}\neigen: {sectors: [0, 1, 2]}\n"
               "continuation: {parameter: kappa, min: 0.00075, max: 0.0011, direction: -1, ds: 0.00005, "
               "ds_max: 0.0001, max_branches: 1}\n",
            nodes);
    fclose(f);
    snprintf(args, sizeof args, "run %s -q -o %s", spec, dir);
    int code = ab_run_program(args, errfile);
    if (code != 0) {
        /* a refusal is acceptable if it says what to change */
        char msg[4096];
        ab_slurp(errfile, msg, sizeof msg);
        ab_check(t, code == 3 && (strstr(msg, "nodes") || strstr(msg, "kernel")), "run SA d=32 beta=1000, %d nodes: exit %d: %s",
                 nodes, code, msg);
        return;
    }
    snprintf(path, sizeof path, "%s/special_points.csv", dir);
    f = fopen(path, "r");
    if (!ab_check(t, f != NULL, "%s exists", path)) return;
    char line[1024];
    double bp[64];
    int nbp = 0;
    while (fgets(line, sizeof line, f) && nbp < 64)
        if (strncmp(line, "pitchfork,", 10) == 0 || strncmp(line, "transcritical,", 14) == 0)
            bp[nbp++] = strtod(strchr(line, ',') + 1, NULL);
    fclose(f);
    /* every kappa_l (l = 1..5) is a branch point on the uniform branch, to 1e-9 relative */
    for (int l = 1; l <= 5; l++) {
        double best = INFINITY;
        for (int i = 0; i < nbp; i++) best = fmin(best, fabs(bp[i] - KAPPA_L[l - 1]));
        ab_check(t, best <= 1e-9 * KAPPA_L[l - 1], "run SA d=32 beta=1000, %d nodes: a branch point at kappa_%d = %.12g (nearest off by %.2e; %d branch points)",
                 nodes, l, KAPPA_L[l - 1], best, nbp);
    }
}

int main(void)
{
    ab_tally t = {0};
    char tmp[] = "/tmp/attnbif-review-run-XXXXXX";
    if (!ab_check(&t, mkdtemp(tmp) != NULL, "temporary directory")) return ab_finish(&t);
    run_window(&t, tmp, 32);
    run_window(&t, tmp, 64);
    ab_remove_tree(tmp);
    return ab_finish(&t);
}
