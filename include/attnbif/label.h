/* Labelled points of a bifurcation diagram stored for restarts (labels/<LABEL>.csv of a
 * run, docs/output-run.md): the point, the tangent of its branch, the kernel vector at a
 * branch point, and what the restart must check (model, parameters, discretisation). */
#ifndef ATTNBIF_LABEL_H
#define ATTNBIF_LABEL_H

#include "attnbif/diagram.h"
#include "attnbif/disc.h"
#include "attnbif/error.h"
#include "attnbif/spec.h"

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the labels/<LABEL>.csv format written by this library (the `format` key). */
#define AB_LABEL_FORMAT 1

/* A run's fixed parameter (beta in a kappa continuation, and the reverse) and a label's
 * must agree to this relative difference when a run restarts from the label. */
#define AB_LABEL_PARAM_RTOL 1e-12

typedef struct {
    int format;                    /* AB_LABEL_FORMAT */
    char name[AB_LABEL_NAME_MAX];  /* "BP2" */
    ab_special_type type;
    ab_model model;                /* kind, d, beta */
    double kappa;
    ab_param_id parameter;         /* continuation parameter of the run that wrote it */
    ab_disc_type disc;
    ab_kernel_form kernel;
    int nodes;
    size_t dim;                    /* unknowns of u */
    int branch, point;             /* where it was found (informative) */
    double *t;                     /* node coordinates t = <x, pole> (dim); NaN where unknown */
    double *x;                     /* the point (u, p), p the continuation parameter (dim + 1) */
    double *tangent;               /* unit tangent of the branch (dim + 1), or NULL */
    double *null_vector;           /* kernel vector of F_u at a branch point (dim), or NULL */
} ab_label;

/* Write dir/<label->name>.csv (atomically; dir must exist). Every number is written with
 * 17 significant digits, so ab_label_read gives back the same doubles. */
ab_status ab_label_write(const char *dir, const ab_label *label, ab_error *err);

/* Read the label file at path (expected to hold label `name`, or any if name is NULL).
 * On success *label owns its arrays (ab_label_free). A missing, malformed or truncated
 * file gives AB_ESPEC with a message naming the file and line. */
ab_status ab_label_read_file(const char *path, const char *name, ab_label *label, ab_error *err);

/* Read label name of the run whose result directory is run_dir (run_dir/labels/name.csv). */
ab_status ab_label_read(const char *run_dir, const char *name, ab_label *label, ab_error *err);

void ab_label_free(ab_label *label);

/* For a spec whose state is a label (type: label): read the label and make the spec the
 * label's problem (docs/spec.md, "Restarting from a label"): the model and d must be the
 * label's; kappa, beta and the node count become the label's (a line to notes, if not
 * NULL, says which values of the spec were replaced). With for_run (attnbif run) the
 * continuation parameter must be the label's and its value must lie in [min, max].
 * Errors are AB_ESPEC naming the spec file, line, column and field. A spec with another
 * state is left as it is. */
ab_status ab_spec_apply_label(ab_spec *spec, int for_run, const ab_messages *notes, ab_error *err);

#ifdef __cplusplus
}
#endif
#endif
