/* `attnbif run SPEC`: the bifurcation diagram of the spec's continuation section. */
#include "cli/cli.h"

#include "attnbif/continuation.h"
#include "attnbif/curves.h"
#include "attnbif/results.h"

#include <stdio.h>
#include <stdlib.h>

/* The library's progress lines as this program prints them: events with the program's
 * name, the indented per-step lines as they are. */
static void say_run(void *ctx, const char *line)
{
    fprintf(ctx, "%s%s\n", line[0] == ' ' ? "" : "attnbif run: ", line);
}

static ab_status write_result(const char *dir, const void *diagram, ab_error *err)
{
    return ab_write_diagram(dir, diagram, err);
}

int ab_cmd_run(const ab_cli_args *args)
{
    ab_spec *spec = calloc(1, sizeof *spec);
    ab_error err = {0};
    if (!spec) return AB_EXIT_INTERNAL;
    int code = ab_cli_load(args, "run", spec);
    if (code) { free(spec); return code; }
    ab_status st = AB_OK;
    if (!spec->continuation.present)
        st = ab_error_set(&err, AB_ESPEC, "%s: `run` needs a `continuation` section (see docs/spec.md)", args->spec_path);
    if (st) { free(spec); return ab_cli_fail(st, &err); }
    const char *dir = ab_cli_output_dir(args, spec);
    ab_outdir *od = NULL;
    if ((st = ab_cli_output_lock(dir, args->quiet, &od, &err))) { free(spec); return ab_cli_fail(st, &err); }
    const ab_messages progress = {say_run, stderr};
    ab_diagram diagram;
    st = ab_run_diagram_with(spec, args->quiet ? NULL : &progress, &diagram, &err);
    /* two_parameter: the curves of the special points in (kappa, beta) (docs/curves.md) */
    ab_curve_set curves = {0};
    if (!st && spec->two_parameter.present) {
        st = ab_curves_follow(spec, &diagram, args->quiet ? NULL : &progress, &curves, &err);
        if (!st) diagram.curves = &curves;
    }
    if (!st) st = ab_cli_output_write(od, write_result, &diagram, &err);
    else ab_cli_output_release(od);
    if (!st) {
        int n_bp = 0, n_lp = 0, n_hb = 0;
        for (int i = 0; i < diagram.n_special; i++) {
            n_bp += diagram.special[i].type == AB_SP_PITCHFORK || diagram.special[i].type == AB_SP_TRANSCRITICAL;
            n_lp += diagram.special[i].type == AB_SP_FOLD;
            n_hb += diagram.special[i].type == AB_SP_HOPF;
        }
        printf("%d branches, %d branch points, %d folds, %d Hopf points; results written to %s/ "
               "(branches.csv, special_points.csv, profiles/, labels/, diagram.svg, spectrum.svg, profiles.svg, "
               "each with its .png, diagram.gp, summary.json)\n",
               diagram.n_branches, n_bp, n_lp, n_hb, dir);
        if (curves.n_curves > 0)
            printf("%d curves in (kappa, beta), %d codimension-two points: curves.csv, phase_diagram.svg\n", curves.n_curves,
                   curves.n_points);
    }
    ab_curve_set_free(&curves);
    ab_diagram_free(&diagram);
    free(spec);
    return st ? ab_cli_fail(st, &err) : AB_EXIT_OK;
}
