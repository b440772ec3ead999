/* Benchmark: the whole bifurcation diagram of problems/default.yaml with attnbif run,
 * against the natural-parameter reference (bench/ref_natural.c) computing the branches it
 * can reach (uniform, 1-cluster, prolate 2-cluster up to its fold) at a step of 1e-3. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/continuation.h"
#include "ref_natural.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    ab_init();
    const char *path = argc > 1 ? argv[1] : "problems/default.yaml";
    ab_spec spec;
    ab_error err = {0};
    if (ab_spec_load(path, &spec, &err)) { fprintf(stderr, "%s\n", err.msg); return 2; }
    const ab_continuation_spec *cs = &spec.continuation;

    double t0 = now();
    ab_diagram d;
    ab_run_opts opts = {NULL};
    if (ab_run_diagram(&spec, &opts, &d, &err)) { fprintf(stderr, "%s\n", err.msg); return 3; }
    double t_run = now() - t0;
    int points = 0;
    for (int b = 0; b < d.n_branches; b++) points += d.branches[b].n_points;

    const double dk = 1e-3;
    ref_natural_result uni, clu, pro;
    t0 = now();
    ref_natural_branch(&spec, AB_STATE_UNIFORM, cs->max, cs->min, dk, 0.0, &uni);
    ref_natural_branch(&spec, AB_STATE_CLUSTER, cs->min, cs->max, dk, 1e-3, &clu);
    ref_natural_branch(&spec, AB_STATE_ANTIPODAL, cs->min, cs->max, dk, 1e-3, &pro);
    double t_ref = now() - t0;

    printf("problem: %s (%s, d = %d, beta = %g, %d nodes, sectors %d)\n\n", path, ab_model_kind_name(spec.model.kind),
           spec.model.d, spec.model.beta, spec.disc.nodes, spec.n_sectors);
    printf("| method | branches | points | wall time [s] | branch points on the uniform branch |\n|---|---|---|---|---|\n");
    printf("| attnbif run (pseudo-arclength, located by Illinois) | %d | %d | %.2f |", d.n_branches, points, t_run);
    for (int i = 0; i < d.n_special; i++)
        if (d.special[i].branch == 1 && d.special[i].l > 0) {
            double kl = ab_kappa_l(spec.model.kind, spec.model.d, spec.model.beta, d.special[i].l);
            printf(" l=%d: %.1e rel.err", d.special[i].l, fabs(d.special[i].kappa - kl) / kl);
        }
    printf(" |\n| reference (natural parameter, dkappa = %g, FD Jacobian, dgeev with vectors) | 3 | %d | %.2f |", dk,
           uni.points + clu.points + pro.points, t_ref);
    for (int i = 0; i < uni.branch_points; i++) {
        double best = INFINITY;
        for (int l = 1; l < 10; l++) {
            double kl = ab_kappa_l(spec.model.kind, spec.model.d, spec.model.beta, l);
            if (fabs(uni.located[i] - kl) / kl < fabs(best)) best = fabs(uni.located[i] - kl) / kl;
        }
        printf(" %.1e rel.err", best);
    }
    printf(" |\n\nratio reference / attnbif = %.1f\n", t_run > 0 ? t_ref / t_run : 0.0);
    printf("reference reach: 1-cluster branch up to kappa = %.4f (then it falls onto the uniform state), prolate branch up to kappa = %.4f "
           "(fold: natural continuation cannot pass it), no oblate branch (no way to start it)\n",
           clu.last_kappa, pro.last_kappa);
    ab_diagram_free(&d);
    return 0;
}
