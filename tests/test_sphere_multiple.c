/* A multiple branch point of a non-uniform state on the whole sphere is reported, not
 * followed (issue 10): on the oblate (girdle) branch of SA d = 3, beta = 4, the sector-3
 * eigenvalue pair (cos 3 phi, sin 3 phi) crosses; the sphere (degree 20) reports a 2-fold
 * branch point there, at the kappa where the zonal discretisation's sector-3 eigenvalue
 * crosses on the same branch (two discretisations, one point), and follows no branch from it. */
#include "attnbif/continuation.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const fmt =
    "model: SA\nd: 3\nbeta: 4.0\nkappa: 0.3\ndiscretization: %s\nstate: {type: uniform}\n%s"
    "continuation: {parameter: kappa, min: 0.06, max: 0.3, ds: 0.02, ds_max: 0.05, max_branches: 3, degrees: [2]}\n";

int main(void)
{
    ab_init();
    ab_tally t = {0};
    char text[1024];
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    /* the zonal reference: the sector-3 crossing on the oblate branch (S < 0) */
    snprintf(text, sizeof text, fmt, "{type: zonal, nodes: 64}", "eigen: {sectors: [0, 1, 2, 3]}\n");
    double k_zonal = NAN;
    if (!ab_spec_parse_string(text, "zonal.yaml", &spec, &err) && !ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        for (int i = 0; i < d.n_special; i++)
            if (d.special[i].sector == 3 && d.special[i].l < 0 && d.special[i].S < 0.0) k_zonal = d.special[i].kappa;
        ab_diagram_free(&d);
    }
    if (!ab_check(&t, isfinite(k_zonal), "zonal: the sector-3 branch point of the oblate branch (kappa = %.12g)", k_zonal))
        return ab_finish(&t);
    snprintf(text, sizeof text, fmt, "{type: sphere, degree: 20}", "");
    if (ab_spec_parse_string(text, "sphere.yaml", &spec, &err) || ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        ab_check(&t, 0, "sphere run: %s", err.msg);
        return ab_finish(&t);
    }
    int found = -1;
    for (int i = 0; i < d.n_special; i++)
        if (strstr(d.special[i].note, "2-fold branch point") && d.special[i].S < 0.0) found = i;
    if (ab_check(&t, found >= 0, "sphere: a 2-fold branch point on the oblate branch is reported")) {
        const ab_special_point *sp = &d.special[found];
        ab_check_rel(&t, sp->kappa, k_zonal, 1e-9, 0.0, "its kappa equals the zonal sector-3 crossing (1e-9)");
        int children = 0;
        for (int b = 0; b < d.n_branches; b++) children += d.branches[b].parent_special == found;
        ab_check(&t, children == 0 && strstr(sp->note, "not followed") && sp->criticality == AB_CRIT_UNKNOWN,
                 "no branch is followed from it, and it says so: %s", sp->note);
    }
    ab_diagram_free(&d);
    return ab_finish(&t);
}
