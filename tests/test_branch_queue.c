/* The branch queue growing while branches are switched (problems/sa-d3-beta20-many-branches.yaml):
 * more branch points are queued than the queue's first allocation holds, and the run must
 * stay correct. Under ASan (the sanitize CI run) this is the regression test for the heap
 * use-after-free of issue 8; in every build it checks the diagram against analytic values. */
#include "attnbif/continuation.h"
#include "testutil.h"

#include <stdio.h>

int main(void)
{
    ab_tally t = {0, 0};
    const char *path = "problems/sa-d3-beta20-many-branches.yaml";
    ab_error err = {0};
    ab_spec spec;
    if (!ab_check(&t, ab_spec_load(path, &spec, &err) == AB_OK, "%s parses %s", path, err.msg)) return ab_finish(&t);
    ab_diagram dg;
    ab_run_opts opts = {NULL};
    if (!ab_check(&t, ab_run_diagram(&spec, &opts, &dg, &err) == AB_OK, "%s runs %s", path, err.msg)) {
        ab_diagram_free(&dg);
        return ab_finish(&t);
    }
    /* Zonal branch points (sector 0) are the ones queued for switching; the queue starts
     * with room for 8, so at least 9 are needed for the problem to exercise its growth. */
    int queued = 0;
    for (int i = 0; i < dg.n_special; i++) {
        const ab_special_point *s = &dg.special[i];
        if ((s->type == AB_SP_PITCHFORK || s->type == AB_SP_TRANSCRITICAL) && s->sector == 0) queued++;
    }
    ab_check(&t, queued >= 9, "zonal branch points queued for switching: %d (need >= 9 to grow the queue)", queued);
    /* The uniform branch's points are the analytic kappa_l, l = 1..4, inside the window. */
    for (int l = 1; l <= 4; l++) {
        int found = 0;
        for (int i = 0; i < dg.n_special; i++) {
            const ab_special_point *s = &dg.special[i];
            if (s->branch != 1 || s->l != l) continue;
            found++;
            char what[96];
            snprintf(what, sizeof what, "uniform branch: branch point l=%d at kappa_l", l);
            ab_check_rel(&t, s->kappa, ab_kappa_l(AB_MODEL_SA, 3, spec.model.beta, l), 1e-10, 0.0, what);
        }
        ab_check(&t, found == 1, "uniform branch: l=%d found once (%d)", l, found);
    }
    /* Every switched branch starts at a branch point that exists and lies on an earlier branch:
     * a queue entry read after it was freed would break exactly this bookkeeping. */
    int switched = 0, consistent = 1;
    for (int b = 1; b < dg.n_branches; b++) {
        int p = dg.branches[b].parent_special;
        if (p < 0) continue;
        switched++;
        if (p >= dg.n_special || dg.special[p].branch >= dg.branches[b].id ||
            (dg.special[p].type != AB_SP_PITCHFORK && dg.special[p].type != AB_SP_TRANSCRITICAL))
            consistent = 0;
    }
    ab_check(&t, switched >= 4 && consistent, "%d switched branches, each from a branch point on an earlier branch", switched);
    ab_diagram_free(&dg);
    return ab_finish(&t);
}
