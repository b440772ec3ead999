/* Internal: the labels/<LABEL>.csv format shared by its writer (src/io/label.c) and its
 * reader (src/spec/label_read.c): docs/output-run.md, "labels/". */
#ifndef AB_LABEL_FORMAT_H
#define AB_LABEL_FORMAT_H

/* Largest dim a label may declare: more than any discretisation allows (4096 nodes), small
 * enough that a corrupt header cannot ask for an absurd allocation. */
#define LABEL_DIM_MAX (1 << 20)

static const char *const kernel_names[] = {"auto", "funk-hecke", "log-domain"};
static const char *const param_names[] = {"kappa", "beta"};
static const char *const COLUMNS = "i,t,u,tangent_u,null_vector";

#endif
