/* libFuzzer target: the spec parser (YAML -> validated ab_spec) and the cost checks on
 * whatever it accepts (docs/testing.md, "Limits and hostile input"). */
#include "attnbif/spec.h"
#include "spec/limits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ab_spec spec; /* large (paths); one at a time */
    ab_init();
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ab_error err = {0};
    if (ab_spec_parse_string(text, "fuzz.yaml", &spec, &err) == AB_OK)
        (void)ab_spec_check_limits(&spec, "check", spec.disc.nodes, 2, 1, NULL, &err);
    free(text);
    return 0;
}
