/* `attnbif plot RUN_DIR SWEEP_DIR... [-o DIR]`: the finite-n sweeps of `simulate` drawn over
 * the mean-field diagram of `run` (overlay.svg, overlay.png; docs/cli.md). */
#include "cli/cli.h"

#include "io/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the overlay goes without -o. */
#define PLOT_DEFAULT_DIR "output/overlay"

static ab_status write_result(const char *dir, const void *overlay, ab_error *err)
{
    ab_status st = ab_mkdir_p(dir, err);
    return st ? st : ab_overlay_write(dir, overlay, err);
}

int ab_cmd_plot(int argc, char **argv)
{
    const char *out = PLOT_DEFAULT_DIR, *run = NULL;
    const char **sweeps = calloc((size_t)argc, sizeof *sweeps);
    int n_sweeps = 0, quiet = 0;
    if (!sweeps) return AB_EXIT_INTERNAL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) { fprintf(stderr, "attnbif: error: -o needs a directory\n"); free(sweeps); return AB_EXIT_INPUT; }
            out = argv[++i];
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "attnbif: error: unknown option '%s' (see attnbif --help)\n", argv[i]);
            free(sweeps);
            return AB_EXIT_INPUT;
        } else if (!run) {
            run = argv[i];
        } else {
            sweeps[n_sweeps++] = argv[i];
        }
    }
    if (!run || n_sweeps == 0) {
        fprintf(stderr, "attnbif: error: plot needs a result directory of `run` and at least one of a `simulate` sweep "
                        "(attnbif plot RUN_DIR SWEEP_DIR... [-o DIR])\n");
        free(sweeps);
        return AB_EXIT_INPUT;
    }
    ab_error err = {0};
    ab_overlay o;
    ab_status st = ab_overlay_read_run(&o, run, &err);
    for (int i = 0; i < n_sweeps && !st; i++) st = ab_overlay_add_sweep(&o, sweeps[i], &err);
    free(sweeps);
    if (st) { ab_overlay_free(&o); return ab_cli_fail(st, &err); }
    ab_outdir *od = NULL;
    if ((st = ab_cli_output_lock(out, quiet, &od, &err))) { ab_overlay_free(&o); return ab_cli_fail(st, &err); }
    st = ab_cli_output_write(od, write_result, &o, &err);
    const int points = o.n_sim;
    ab_overlay_free(&o);
    if (st) return ab_cli_fail(st, &err);
    if (!quiet) printf("%d finite-n points over the mean-field branches; written to %s/ (overlay.svg, overlay.png, summary.json)\n", points, out);
    return AB_EXIT_OK;
}
