/* labels/<LABEL>.csv: the writer of the labelled points a run can restart from (format in
 * docs/output-run.md; the reader is src/spec/label_read.c). */
#include "attnbif/label.h"

#include "attnbif/io.h"
#include "spec/label_format.h"

#include <math.h>
#include <stdio.h>


/* A number field; empty fields are written for what is absent. */
static void put(FILE *out, const double *v, size_t i)
{
    if (v && isfinite(v[i])) fprintf(out, "%.17g", v[i]);
}

ab_status ab_label_write(const char *dir, const ab_label *lab, ab_error *err)
{
    char name[AB_LABEL_NAME_MAX + 8];
    snprintf(name, sizeof name, "%s.csv", lab->name);
    ab_file *f;
    ab_status st = ab_file_open_in(dir, name, &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const size_t n = lab->dim;
    fprintf(out, "# attnbif %s: labelled point %s, for restarts (state: {type: label}, docs/spec.md)\n", ab_version(),
            lab->name);
    fprintf(out, "# format = %d\n# label = %s\n# type = %s\n", AB_LABEL_FORMAT, lab->name, ab_special_type_name(lab->type));
    fprintf(out, "# model = %s\n# d = %d\n# beta = %.17g\n# kappa = %.17g\n", ab_model_kind_name(lab->model.kind),
            lab->model.d, lab->model.beta, lab->kappa);
    fprintf(out, "# parameter = %s\n", param_names[lab->parameter == AB_PARAM_BETA]);
    if (lab->tangent) fprintf(out, "# tangent_p = %.17g\n", lab->tangent[n]);
    else fprintf(out, "# tangent_p = none\n");
    fprintf(out, "# null_vector = %s\n", lab->null_vector ? "yes" : "no");
    fprintf(out, "# discretization = %s\n# kernel = %s\n# nodes = %d\n# dim = %zu\n", ab_disc_type_name(lab->disc),
            kernel_names[(unsigned)lab->kernel < 3 ? lab->kernel : 0], lab->nodes, n);
    fprintf(out, "# branch = %d\n# point = %d\n", lab->branch, lab->point);
    fprintf(out, "%s\n", COLUMNS);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%zu,", i);
        put(out, lab->t, i);
        fputc(',', out);
        put(out, lab->x, i);
        fputc(',', out);
        put(out, lab->tangent, i);
        fputc(',', out);
        put(out, lab->null_vector, i);
        fputc('\n', out);
    }
    return ab_file_commit(f, err);
}
