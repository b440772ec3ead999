/* attnbif command-line program: argument parsing and subcommand dispatch. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: attnbif COMMAND SPEC [-o DIR] [--quiet]\n"
            "\n"
            "commands:\n"
            "  solve SPEC      stationary state by Newton's method + spectrum of the linearised\n"
            "                  Fokker-Planck operator per sector; writes state.csv, spectrum.csv,\n"
            "                  summary.json\n"
            "  run SPEC        bifurcation diagram (spec section `continuation`): branches,\n"
            "                  stability, folds and branch points, branch switching; writes\n"
            "                  branches.csv, special_points.csv, profiles/, diagram.svg, spectrum.svg,\n"
            "                  profiles.svg (and .png of each), summary.json\n"
            "  simulate SPEC   finite-n particle simulation (spec section `simulation`)\n"
            "  check SPEC      validate a spec and print it normalised; writes nothing\n"
            "  plot RUN_DIR SWEEP_DIR...  a simulate sweep's finite-n r (error bars) over the\n"
            "                  mean-field branches of a run of the same model, d and beta;\n"
            "                  writes overlay.svg, overlay.png (default DIR output/overlay)\n"
            "\n"
            "options:\n"
            "  -o DIR          write results into DIR (default: the spec's output.dir)\n"
            "  -q, --quiet     no progress on stderr\n"
            "  --no-limits     run even if the estimated time or memory exceeds the spec's\n"
            "                  limits (default 10 min CPU, 4 GB; docs/spec.md#limits)\n"
            "  -h, --help      this help;  --version  program version\n"
            "\n"
            "results replace DIR as a whole (a previous attnbif result only); a second run into\n"
            "the same DIR fails at once; on any error or signal nothing is written\n"
            "\n"
            "exit codes: 0 ok, 1 internal error, 2 bad input, 3 numerical failure, 4 cannot write\n"
            "(disk full, permissions, DIR in use or not an attnbif result)\n"
            "docs: docs/cli.md, docs/spec.md\n");
}

int main(int argc, char **argv)
{
    ab_init();
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return AB_EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("attnbif %s\n", ab_version());
        return AB_EXIT_OK;
    }
    if (argc < 2) {
        usage(stderr);
        return AB_EXIT_INPUT;
    }
    const char *command = argv[1];
    if (!strcmp(command, "plot")) {
        ab_cli_signals_install();
        return ab_cmd_plot(argc, argv);
    }
    ab_cli_args args = {0};
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "attnbif: error: -o needs a directory\n");
                return AB_EXIT_INPUT;
            }
            args.out_dir = argv[++i];
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            args.quiet = 1;
        } else if (!strcmp(argv[i], "--no-limits")) {
            args.no_limits = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "attnbif: error: unknown option '%s' (see attnbif --help)\n", argv[i]);
            return AB_EXIT_INPUT;
        } else if (!args.spec_path) {
            args.spec_path = argv[i];
        } else {
            fprintf(stderr, "attnbif: error: unexpected argument '%s' (one SPEC per run)\n", argv[i]);
            return AB_EXIT_INPUT;
        }
    }
    if (!args.spec_path) {
        fprintf(stderr, "attnbif: error: %s needs a SPEC file (see attnbif --help)\n", command);
        return AB_EXIT_INPUT;
    }
    ab_cli_signals_install();
    if (!strcmp(command, "solve")) return ab_cmd_solve(&args);
    if (!strcmp(command, "run")) return ab_cmd_run(&args);
    if (!strcmp(command, "check")) return ab_cmd_check(&args);
    if (!strcmp(command, "simulate")) return ab_cmd_simulate(&args);
    fprintf(stderr, "attnbif: error: unknown command '%s' (see attnbif --help)\n", command);
    return AB_EXIT_INPUT;
}
