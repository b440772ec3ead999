/* A branch point in a sector m >= 1 of a zonal branch reports the symmetry its branch breaks
 * (docs/symmetry.md, "Branches that leave the zonal space"): O(2) to D_m for d = 3, O(d-1)
 * to O(d-2) (m odd) or O(d-2) x Z_2 (m even) for d > 3, and that it is not followed. */
#include "attnbif/continuation.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static int count_notes(const char *path, int dim, int *sector_bps)
{
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    *sector_bps = 0;
    if (ab_spec_load(path, &spec, &err) || ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return -1;
    }
    int found = 0;
    for (int i = 0; i < d.n_special; i++) {
        const ab_special_point *sp = &d.special[i];
        if (sp->sector < 1 || sp->l >= 0) continue;
        (*sector_bps)++;
        char expect[96];
        if (dim == 3) snprintf(expect, sizeof expect, "(sector %d): breaks O(2) to D_%d;", sp->sector, sp->sector);
        else
            snprintf(expect, sizeof expect, "(sector %d): breaks O(%d) to O(%d)%s;", sp->sector, dim - 1, dim - 2,
                     sp->sector % 2 ? "" : " x Z_2");
        if (strstr(sp->note, expect) && strstr(sp->note, "not followed")) found++;
        else fprintf(stderr, "note: %s (expected '%s')\n", sp->note, expect);
    }
    ab_diagram_free(&d);
    return found;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    int n_bp = 0;
    /* d = 3: the sector-3 branch point of the oblate branch (USA, beta = 4) */
    int found = count_notes("problems/usa-d3-beta4.yaml", 3, &n_bp);
    ab_check(&t, n_bp >= 1 && found == n_bp, "d = 3: %d of %d sector branch points name O(2) -> D_m", found, n_bp);
    /* d = 8: O(7) -> O(6) (odd m) or O(6) x Z_2 (even m) */
    found = count_notes("problems/sa-d8.yaml", 8, &n_bp);
    ab_check(&t, n_bp >= 1 && found == n_bp, "d = 8: %d of %d sector branch points name O(7) -> O(6) (x Z_2 for even m)",
             found, n_bp);
    return ab_finish(&t);
}
