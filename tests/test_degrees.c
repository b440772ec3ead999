/* continuation.degrees (issue 11: the catalogue of a user-given list of l): only the
 * branches born at the uniform state's branch points of the listed degrees are followed,
 * on the zonal discretisation and on the whole sphere; the others are reported with a note;
 * bad lists are refused with file:line:field. */
#include "attnbif/continuation.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static void check_run(ab_tally *t, const char *text, const char *what)
{
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    if (ab_spec_parse_string(text, "degrees.yaml", &spec, &err) || ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        ab_check(t, 0, "%s: %s", what, err.msg);
        return;
    }
    int bad_parent = 0, l2 = 0, skipped = 0, skipped_ok = 0;
    for (int b = 0; b < d.n_branches; b++) {
        const int ps = d.branches[b].parent_special;
        if (ps < 0) continue;
        /* a branch born on the uniform branch comes from a degree-2 point */
        if (d.special[ps].l >= 1 && d.special[ps].l != 2) bad_parent++;
        if (d.special[ps].l == 2) l2++;
    }
    for (int i = 0; i < d.n_special; i++) {
        const ab_special_point *sp = &d.special[i];
        if (sp->l < 1 || sp->l == 2) continue;
        skipped++;
        skipped_ok += strstr(sp->note, "not in continuation.degrees") != NULL;
    }
    ab_check(t, bad_parent == 0 && l2 >= 2, "%s: %d branches born at degree 2, %d at other degrees", what, l2, bad_parent);
    ab_check(t, skipped >= 2 && skipped_ok == skipped, "%s: %d of %d branch points of other degrees say they are skipped",
             what, skipped_ok, skipped);
    ab_diagram_free(&d);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    check_run(&t,
              "model: SA\nd: 3\nbeta: 4.0\nkappa: 0.3\ndiscretization: {type: zonal, nodes: 48}\nstate: {type: uniform}\n"
              "eigen: {sectors: [0, 1]}\n"
              "continuation: {parameter: kappa, min: 0.04, max: 0.3, ds: 0.02, ds_max: 0.05, max_branches: 8, degrees: [2]}\n",
              "zonal, l = 1, 2, 3 in the window");
    check_run(&t,
              "model: SA\nd: 3\nbeta: 4.0\nkappa: 0.3\ndiscretization: {type: sphere, degree: 10}\nstate: {type: uniform}\n"
              "continuation: {parameter: kappa, min: 0.045, max: 0.3, ds: 0.02, ds_max: 0.05, max_branches: 6, max_steps: 30,\n"
              "               degrees: [2]}\n",
              "whole sphere, l = 1, 2, 3 in the window");
    static const char *const bad[] = {"[0]", "[2, 2]", "[]", "3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "model: SA\nd: 3\nbeta: 4.0\nkappa: 0.3\ncontinuation:\n  min: 0.04\n  max: 0.3\n  degrees: %s\n", bad[i]);
        ab_spec spec;
        ab_error err = {0};
        ab_status st = ab_spec_parse_string(text, "degrees.yaml", &spec, &err);
        ab_check(&t, st == AB_ESPEC && strstr(err.msg, "degrees.yaml:8:") && strstr(err.msg, "continuation.degrees"),
                 "degrees: %s refused: %s", bad[i], err.msg);
    }
    return ab_finish(&t);
}
