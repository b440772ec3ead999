/* Re-discretisation along a branch (issue 7, docs/theory.md "Adaptive resolution"): with
 * nodes: auto, `run` starts on the grid its starting state needs and moves a branch to a
 * finer grid when its state sharpens, instead of computing the whole diagram again on the
 * finest grid. SA d = 3, beta = 4 from the uniform state at kappa = 0.25 down to 0.005: the
 * uniform state needs 32 nodes, the 1-cluster born at kappa_1 needs ~120 at kappa = 0.005.
 * Before this, the whole diagram was computed on one grid (64 nodes, the nodes column
 * constant). Checked: the node count grows along the cluster branch, each switch keeps the
 * point before it and the re-converged point (same kappa, same r to 1e-10); r at the window
 * edge equals an independent `solve` with nodes: auto to 1e-10; the special points equal a
 * run on a fixed fine grid (160 nodes) to 1e-10 relative in kappa, and kappa_1 the analytic
 * value; summary.json and the labels state the grids used. */
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

#define KMIN 0.005
#define FINE_NODES 160

static const char *SPEC = "model: SA\nd: 3\nbeta: 4\nkappa: 0.25\n%sstate: {type: uniform}\neigen: {sectors: [0, 1]}\n"
                          "continuation: {parameter: kappa, min: 0.005, max: 0.26, direction: -1, max_branches: 2,\n"
                          "  tolerances: {relative_state_norm: 1}}\n";

/* The progress lines: count those that announce a whole-diagram recomputation. */
typedef struct {
    int regrids, recomputed;
} log_count;
static void count_line(void *ctx, const char *line)
{
    log_count *c = ctx;
    if (strstr(line, "re-discretised")) c->regrids++;
    if (strstr(line, "computing it again")) c->recomputed++;
}

static int run(ab_tally *t, const char *disc_line, ab_spec *spec, ab_diagram *d, log_count *lc, const char *what)
{
    char yaml[600];
    snprintf(yaml, sizeof yaml, SPEC, disc_line);
    ab_error err = {0};
    memset(d, 0, sizeof *d);
    if (!ab_check(t, ab_spec_parse_string(yaml, "regrid.yaml", spec, &err) == AB_OK, "%s: spec parses %s", what, err.msg))
        return 0;
    const ab_messages msg = {count_line, lc};
    return ab_check(t, ab_run_diagram_with(spec, &msg, d, &err) == AB_OK, "%s: runs %s", what, err.msg);
}

static const ab_branch *cluster_branch(const ab_diagram *d)
{
    for (int b = 0; b < d->n_branches; b++)
        if (d->branches[b].n_points > 1 && d->branches[b].points[d->branches[b].n_points - 1].r > 0.5)
            return &d->branches[b];
    return NULL;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    ab_spec spec, fine_spec;
    ab_diagram d, f;
    log_count lc = {0, 0}, lf = {0, 0};
    const double t0 = ab_now();
    if (!run(&t, "", &spec, &d, &lc, "nodes: auto")) { ab_diagram_free(&d); return ab_finish(&t); }
    printf("# nodes: auto run: %.2f s\n", ab_now() - t0);
    const ab_branch *cb = cluster_branch(&d);
    if (ab_check(&t, cb != NULL && d.n_branches >= 2, "a cluster branch (r > 0.5 at its end) was followed")) {
        /* (a) the node count grows along the branch; no whole-diagram recomputation */
        const int first = cb->points[0].nodes, last = cb->points[cb->n_points - 1].nodes;
        int monotone = 1, switches = 0, pairs_ok = 1;
        for (int i = 1; i < cb->n_points; i++) {
            const ab_branch_point *p = &cb->points[i - 1], *q = &cb->points[i];
            if (q->nodes < p->nodes) monotone = 0;
            if (q->nodes > p->nodes) {
                switches++;
                /* the point before the switch and the re-converged one: same kappa, same state */
                if (!(q->kappa == p->kappa && fabs(q->r - p->r) <= 1e-10)) {
                    pairs_ok = 0;
                    printf("#   switch %d -> %d nodes: kappa %.17g vs %.17g, r %.17g vs %.17g\n", p->nodes, q->nodes,
                           p->kappa, q->kappa, p->r, q->r);
                }
            }
        }
        ab_check(&t, d.branches[0].points[0].nodes == 32, "the run starts on the grid the uniform state needs (%d nodes, want 32)",
                 d.branches[0].points[0].nodes);
        ab_check(&t, monotone && switches >= 2 && last > first && last >= 96,
                 "the nodes column grows along the cluster branch: %d -> %d nodes in %d switches (want >= 2, last >= 96)",
                 first, last, switches);
        ab_check(&t, lc.regrids == switches && lc.recomputed == 0,
                 "the branch re-discretised itself (%d log lines) and the diagram was not computed again (%d)", lc.regrids,
                 lc.recomputed);
        ab_check(&t, pairs_ok, "each switch keeps the point before it and the re-converged point (same kappa, r to 1e-10)");
        ab_check(&t, d.nodes == last, "ab_diagram.nodes is the largest count used (%d, want %d)", d.nodes, last);
        /* a switched branch starts on the grid its branch point was found on */
        int same_grid = 1;
        for (int b = 0; b < d.n_branches; b++) {
            const ab_branch *br = &d.branches[b];
            if (br->parent_special < 0 || br->n_points < 2) continue;
            const ab_special_point *sp = &d.special[br->parent_special];
            const ab_branch *parent = &d.branches[sp->branch - 1];
            const int want_nodes = parent->points[sp->point].nodes;
            if (br->points[0].nodes != want_nodes || br->points[1].nodes < want_nodes || sp->disc_nodes != want_nodes)
                same_grid = 0;
        }
        ab_check(&t, same_grid, "switched branches start on their branch point's grid");

        /* (b) r at the window edge against an independent solve with nodes: auto */
        const ab_branch_point *e = &cb->points[cb->n_points - 1];
        char yaml[200];
        snprintf(yaml, sizeof yaml, "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\nstate: {type: cluster}\n", e->kappa);
        ab_spec s2;
        ab_solve_result res;
        ab_error err = {0};
        ab_status st = ab_spec_parse_string(yaml, "solve.yaml", &s2, &err);
        if (!st) st = ab_solve_problem(&s2, NULL, NULL, &res, &err);
        if (ab_check(&t, st == AB_OK && e->kappa == KMIN, "independent solve at kappa = %g: %s", e->kappa, err.msg)) {
            ab_check(&t, fabs(e->r - res.obs.r) <= 1e-10,
                     "r at kappa = %g: run %.17g (%d nodes), solve %.17g (%d nodes), difference %.1e (tol 1e-10)", e->kappa,
                     e->r, e->nodes, res.obs.r, res.resolution.nodes, fabs(e->r - res.obs.r));
            ab_solve_result_free(&res);
        }
        /* every recorded point is resolved to the strict tail (or near the kernel's floor) */
        double worst = 0.0;
        for (int i = 0; i < cb->n_points; i++)
            if (isfinite(cb->points[i].tail)) worst = fmax(worst, cb->points[i].tail);
        ab_check(&t, worst <= 1e-10, "the cluster branch's worst spectral tail %.1e <= 1e-10", worst);
    }

    /* (c) the special points against a run on a fixed fine grid */
    char fine_line[64];
    snprintf(fine_line, sizeof fine_line, "discretization: {nodes: %d}\n", FINE_NODES);
    const double t1 = ab_now();
    if (run(&t, fine_line, &fine_spec, &f, &lf, "160 nodes")) {
        printf("# fixed 160-node run: %.2f s\n", ab_now() - t1);
        int n_auto = 0, n_fine = 0, matched = 0;
        for (int i = 0; i < d.n_special; i++) n_auto += d.special[i].type != AB_SP_END;
        for (int i = 0; i < f.n_special; i++) {
            const ab_special_point *q = &f.special[i];
            if (q->type == AB_SP_END) continue;
            n_fine++;
            for (int k = 0; k < d.n_special; k++) {
                const ab_special_point *p = &d.special[k];
                if (p->type == q->type && p->branch == q->branch && fabs(p->kappa - q->kappa) <= 1e-10 * q->kappa) {
                    matched++;
                    break;
                }
            }
        }
        ab_check(&t, n_auto == n_fine && matched == n_fine && n_fine >= 3,
                 "special points: %d with nodes: auto, %d on 160 nodes, %d equal in type, branch and kappa to 1e-10", n_auto,
                 n_fine, matched);
        const double k1 = ab_kappa_l(AB_MODEL_SA, 3, 4.0, 1);
        int found = 0;
        for (int i = 0; i < d.n_special; i++)
            if (d.special[i].type == AB_SP_PITCHFORK && fabs(d.special[i].kappa - k1) <= 1e-10 * k1) found = 1;
        ab_check(&t, found, "kappa_1 = %.17g is a branch point of the nodes: auto run (to 1e-10)", k1);
    }
    ab_diagram_free(&f);

    /* summary.json and labels: the grids of each branch and the resolution achieved */
    char tmp[] = "/tmp/attnbif-regrid-XXXXXX";
    if (cb && ab_check(&t, mkdtemp(tmp) != NULL, "temporary directory")) {
        ab_error err = {0};
        if (ab_check(&t, ab_write_diagram(tmp, &d, &err) == AB_OK, "write the diagram: %s", err.msg)) {
            char path[300], *buf = malloc(1 << 20), want[64];
            snprintf(path, sizeof path, "%s/summary.json", tmp);
            ab_slurp(path, buf, 1 << 20);
            snprintf(want, sizeof want, "\"nodes_max\": %d", cb->points[cb->n_points - 1].nodes);
            ab_check(&t, strstr(buf, "\"nodes_min\": 32") && strstr(buf, want) && strstr(buf, "\"tail_max\""),
                     "summary.json states per branch nodes_min 32, %s and tail_max", want);
            free(buf);
            /* the end point's label lives on the branch's last grid */
            int ep = -1;
            for (int i = 0; i < d.n_special; i++)
                if (d.special[i].type == AB_SP_END && d.special[i].branch == cb->id) ep = i;
            ab_label lab;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(ep >= 0 ? d.special[ep].profile : "", "."),
                     ep >= 0 ? d.special[ep].profile : "");
            if (ab_check(&t, ep >= 0 && ab_label_read(tmp, name, &lab, &err) == AB_OK, "label %s of the end point: %s", name,
                         err.msg)) {
                ab_check(&t, lab.nodes == cb->points[cb->n_points - 1].nodes && lab.dim == (size_t)lab.nodes,
                         "label %s records its own grid: %d nodes, %zu unknowns (want %d)", name, lab.nodes, lab.dim,
                         cb->points[cb->n_points - 1].nodes);
                ab_label_free(&lab);
            }
        }
        ab_remove_tree(tmp);
    }
    ab_diagram_free(&d);

    /* Branches born at a branch point of a re-discretised branch: SA d = 3, beta = 20 around
     * kappa_8 = 0.0081205 (the uniform state on 32 nodes). The branches born there sharpen
     * at once: their first point moves to a finer grid before it is recorded, and the branch
     * point met on such a branch (0.0082242, on 56 nodes) starts its own branch on that grid. */
    {
        const char *yaml = "model: SA\nd: 3\nbeta: 20\nkappa: 0.0085\nstate: {type: uniform}\n"
                           "eigen: {sectors: [0, 1, 2, 3]}\n"
                           "continuation: {parameter: kappa, min: 0.0075, max: 0.0086, direction: -1, ds: 0.02,\n"
                           "  ds_max: 0.05, max_branches: 4}\n";
        ab_spec s3;
        ab_diagram d3;
        ab_error err = {0};
        memset(&d3, 0, sizeof d3);
        log_count l3 = {0, 0};
        const ab_messages msg = {count_line, &l3};
        if (ab_check(&t, ab_spec_parse_string(yaml, "bp.yaml", &s3, &err) == AB_OK &&
                             ab_run_diagram_with(&s3, &msg, &d3, &err) == AB_OK,
                     "SA d=3 beta=20 around kappa_8 runs: %s", err.msg)) {
            int from_fine = 0, ok = 1;
            double worst = 0.0;
            for (int b = 0; b < d3.n_branches; b++) {
                const ab_branch *br = &d3.branches[b];
                for (int i = 0; i < br->n_points; i++)
                    if (br->points[i].label == AB_SP_NONE && isfinite(br->points[i].tail))
                        worst = fmax(worst, br->points[i].tail);
                if (br->parent_special < 0 || br->n_points < 2) continue;
                const ab_special_point *sp = &d3.special[br->parent_special];
                const int bp_nodes = d3.branches[sp->branch - 1].points[sp->point].nodes;
                if (bp_nodes > d3.branches[0].points[0].nodes) from_fine++;
                if (br->points[0].nodes != bp_nodes || br->points[1].nodes <= bp_nodes) ok = 0;
                printf("#   branch %d: branch point on %d nodes, row 0 on %d, first point on %d\n", br->id, bp_nodes,
                       br->points[0].nodes, br->points[1].nodes);
            }
            ab_check(&t, from_fine >= 1 && ok,
                     "a branch starts at a branch point found on a re-discretised branch (%d such), on its grid; every "
                     "switched first point moved to a finer grid",
                     from_fine);
            ab_check(&t, worst <= 1e-10, "every regular point of that diagram is resolved: worst tail %.1e <= 1e-10", worst);
        }
        ab_diagram_free(&d3);
    }
    return ab_finish(&t);
}
