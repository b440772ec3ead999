/* Density maps (docs/sphere.md, "Clusters and maps"): the lon-lat CSV table read back, and the
 * SVG picture checked for well-formed XML (balanced tags, finite numbers, xmllint if present),
 * its size, scale choice, colours, cluster marks, escaping and refusal of bad input. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */
#include "io/sphere_map.h"
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* the brief's limit for the default resolution */
#define MAX_SVG_BYTES 1500000L

typedef struct {
    int k;
    double c[3 * 12], b;
} bumps;

/* sum_i e^{b (<x, c_i> - 1)}, normalised to mass 1 for sigma */
static double bump_density(void *ctx, const double x[3])
{
    const bumps *B = ctx;
    double s = 0.0;
    for (int i = 0; i < B->k; i++) s += exp(B->b * (x[0] * B->c[3 * i] + x[1] * B->c[3 * i + 1] + x[2] * B->c[3 * i + 2] - 1.0));
    return s / (B->k * -expm1(-2.0 * B->b) / (2.0 * B->b));
}

static char *slurp(FILE *f, long *len)
{
    fflush(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)*len + 1);
    size_t got = fread(buf, 1, (size_t)*len, f);
    buf[got] = '\0';
    return buf;
}

/* A parser-free XML check: the prolog, then tags that nest and close properly, quotes
 * balanced inside tags, no raw '<' or '&' in text except entities, and no "nan"/"inf" in any
 * attribute. Returns NULL if fine, else what is wrong. */
static const char *xml_check(const char *s, int *n_tags)
{
    static char why[128];
    char stack[64][32];
    int depth = 0, seen_root = 0;
    *n_tags = 0;
    if (strncmp(s, "<?xml ", 6) != 0) return "no XML prolog";
    s = strstr(s, "?>");
    if (!s) return "unterminated prolog";
    s += 2;
    while (*s) {
        if (*s == '&') {
            const char *e = strchr(s, ';');
            if (!e || e - s > 8) return "a raw '&' in text";
            s = e + 1;
            continue;
        }
        if (*s != '<') {
            s++;
            continue;
        }
        const char *end = s + 1;
        char quote = 0;
        for (; *end && (quote || *end != '>'); end++) {
            if (*end == '<' && !quote) return "a '<' inside a tag";
            if (*end == '\'' || *end == '"') quote = quote == *end ? 0 : quote ? quote : *end;
        }
        if (!*end) return "unterminated tag";
        size_t len = (size_t)(end - s - 1);
        char *tag = malloc(len + 1);
        memcpy(tag, s + 1, len);
        tag[len] = '\0';
        for (char *p = tag; *p; p++) *p = (char)tolower((unsigned char)*p);
        /* attribute values: look for non-finite numbers */
        for (char *p = tag; *p; p++)
            if (*p == '\'' || *p == '"') {
                char *q = strchr(p + 1, *p);
                if (!q) return free(tag), "unbalanced quotes";
                *q = '\0';
                if (strstr(p + 1, "nan") || strstr(p + 1, "inf")) {
                    snprintf(why, sizeof why, "non-finite number in '%.60s'", p + 1);
                    return free(tag), why;
                }
                p = q;
            }
        char name[32] = "";
        if (tag[0] == '/') {
            sscanf(tag + 1, "%31[a-z]", name);
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
                snprintf(why, sizeof why, "</%s> closes <%s>", name, depth ? stack[depth - 1] : "(nothing)");
                return free(tag), why;
            }
            depth--;
        } else {
            sscanf(tag, "%31[a-z]", name);
            if (!name[0]) return free(tag), "a tag without a name";
            if (depth == 0 && seen_root) return free(tag), "two root elements";
            seen_root = 1;
            (*n_tags)++;
            if (end[-1] != '/') {
                if (depth == 64) return free(tag), "nesting too deep";
                snprintf(stack[depth++], 32, "%s", name);
            }
        }
        free(tag);
        s = end + 1;
    }
    return depth ? "unclosed element" : seen_root ? NULL : "no root element";
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

static int have_xmllint(void) { return system("command -v xmllint >/dev/null 2>&1") == 0; }

/* Writes the picture to a temporary file and runs every check; returns the text (to free). */
static char *svg_case(ab_tally *t, const char *what, int nlat, int nlon, const double *rho, const ab_sphere_map_opts *o,
                      long *len)
{
    char path[] = "/tmp/ab_sphere_map_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!ab_check(t, f != NULL, "%s: temporary file", what)) return NULL;
    ab_error err = {0};
    ab_status st = ab_sphere_map_svg(f, nlat, nlon, rho, o, &err);
    ab_check(t, st == AB_OK, "%s: written %s", what, err.msg);
    char *s = slurp(f, len);
    fclose(f);
    int n_tags;
    const char *why = xml_check(s, &n_tags);
    ab_check(t, why == NULL, "%s: well-formed (balanced tags, finite numbers; %d elements) %s", what, n_tags,
             why ? why : "");
    ab_check(t, *len < MAX_SVG_BYTES, "%s: %ld bytes < %ld", what, *len, MAX_SVG_BYTES);
    if (have_xmllint()) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "xmllint --noout %s", path);
        ab_check(t, system(cmd) == 0, "%s: xmllint --noout accepts it", what);
    }
    remove(path);
    return s;
}

static void csv_case(ab_tally *t, const bumps *B)
{
    int nlat = 18, nlon = 36;
    double rho[18 * 36];
    ab_error err = {0};
    ab_check(t, ab_sphere_map_fill(nlat, nlon, bump_density, (void *)B, rho, &err) == AB_OK, "fill 10-degree map %s",
             err.msg);
    FILE *f = tmpfile();
    ab_check(t, ab_sphere_map_csv(f, nlat, nlon, rho, &err) == AB_OK, "CSV written %s", err.msg);
    rewind(f);
    char line[256];
    int ok_header = fgets(line, sizeof line, f) && strcmp(line, "lon_deg,lat_deg,rho\n") == 0;
    ab_check(t, ok_header, "CSV header lon_deg,lat_deg,rho");
    int rows = 0, exact = 1, coords = 1;
    while (fgets(line, sizeof line, f)) {
        double lon, lat, v;
        if (sscanf(line, "%lf,%lf,%lf", &lon, &lat, &v) != 3) break;
        int i = rows / nlon, j = rows % nlon;
        exact &= v == rho[rows];
        coords &= fabs(lon - (-175.0 + 10.0 * j)) < 1e-12 && fabs(lat - (-85.0 + 10.0 * i)) < 1e-12;
        /* the point is where the density was evaluated */
        double x[3] = {cos(lat * PI / 180) * cos(lon * PI / 180), cos(lat * PI / 180) * sin(lon * PI / 180),
                       sin(lat * PI / 180)};
        exact &= fabs(bump_density((void *)B, x) - v) <= 1e-12 * fmax(v, 1e-300);
        rows++;
    }
    fclose(f);
    ab_check(t, rows == nlat * nlon, "CSV: %d rows (want %d)", rows, nlat * nlon);
    ab_check(t, coords, "CSV: cell centres at -175 + 10 j, -85 + 10 i, rows from the south");
    ab_check(t, exact, "CSV: rho read back exactly (17 digits) and equal to the density at the printed point");
    rho[40] = NAN;
    f = tmpfile();
    ab_status st = ab_sphere_map_csv(f, nlat, nlon, rho, &err);
    long len;
    char *s = slurp(f, &len);
    fclose(f);
    ab_check(t, st == AB_ENAN && len == 0 && strstr(err.msg, "longitude"), "CSV: NaN refused before writing: %s", err.msg);
    free(s);
}

int main(void)
{
    ab_tally t = {0};
    ab_error err = {0};
    bumps tet = {4, {1, 1, 1, 1, -1, -1, -1, 1, -1, -1, -1, 1}, 20.0};
    for (int i = 0; i < 12; i++) tet.c[i] /= sqrt(3.0);
    csv_case(&t, &tet);
    /* the checker itself finds what it is for */
    int nt;
    ab_check(&t, xml_check("<?xml version='1.0'?><svg><g></svg>", &nt) != NULL, "checker: crossed tags caught");
    ab_check(&t, xml_check("<?xml version='1.0'?><svg><rect x='nan'/></svg>", &nt) != NULL, "checker: NaN caught");
    ab_check(&t, xml_check("<?xml version='1.0'?><svg><text>a & b</text></svg>", &nt) != NULL, "checker: raw & caught");
    ab_check(&t, xml_check("<?xml version='1.0'?><svg><rect x='1/></svg>", &nt) != NULL, "checker: open quote caught");
    ab_check(&t, xml_check("<?xml version='1.0'?><svg><g><rect x='1'/></g></svg>", &nt) == NULL && nt == 3,
             "checker: a good document passes");

    int nlat = AB_SPHERE_MAP_DEFAULT_NLAT, nlon = AB_SPHERE_MAP_DEFAULT_NLON;
    double *rho = malloc(sizeof(double) * (size_t)(nlat * nlon));
    ab_sphere_map_fill(nlat, nlon, bump_density, &tet, rho, &err);
    ab_cluster cl[4];
    for (int i = 0; i < 4; i++) {
        memcpy(cl[i].centre, tet.c + 3 * i, sizeof cl[i].centre);
        cl[i].mass = 0.25, cl[i].peak = bump_density(&tet, tet.c + 3 * i), cl[i].prominence = cl[i].peak;
    }
    ab_sphere_map_opts o;
    ab_sphere_map_opts_default(&o);
    o.model = "SA", o.beta = 4.0, o.kappa = 0.05, o.r = 0.123456789;
    o.note = "tetrahedral <test> & 'check'";
    o.clusters = cl, o.n_clusters = 4;
    long len;
    char *s = svg_case(&t, "tetrahedral b=20, 2-degree cells", nlat, nlon, rho, &o, &len);
    if (s) {
        ab_check(&t, strstr(s, "SA,  beta = 4,  kappa = 0.05,  r = 0.123457") != NULL, "title: model, beta, kappa, r");
        ab_check(&t, strstr(s, "tetrahedral &lt;test&gt; &amp; &apos;check&apos;") != NULL, "note escaped for XML");
        ab_check(&t, strstr(s, "log scale") != NULL, "rho spanning e^40: log scale chosen");
        ab_check(&t, count(s, "<circle") == 4 && strstr(s, ">4</text>") && strstr(s, "4 clusters"),
                 "4 clusters marked, numbered and listed");
        ab_check(&t, strstr(s, "45.0&#176;, 35.3&#176;; 0.2500") != NULL, "cluster 1 listed at lon 45, lat 35.3, mass 0.25");
        ab_check(&t, strstr(s, "fill='#440154'") && strstr(s, "fill='#fde725'"),
                 "the range spans viridis from #440154 to #fde725");
        ab_check(&t, strstr(s, ">uniform</text>") != NULL, "the uniform level marked on the bar");
        ab_check(&t, strstr(s, "bottom colour") == NULL, "5 decades: nothing clipped");
        free(s);
    }
    /* a sharp one: the log bar stops six decades below the peak (20) and says so */
    bumps sharp = tet;
    sharp.b = 40.0;
    ab_sphere_map_fill(nlat, nlon, bump_density, &sharp, rho, &err);
    s = svg_case(&t, "tetrahedral b=40", nlat, nlon, rho, &o, &len);
    if (s) ab_check(&t, strstr(s, "below 2e-05:") && strstr(s, "bottom colour"), "b=40: log bar clipped at 1e-6 x max, and says so");
    free(s);
    /* a mild density: linear scale */
    bumps mild = tet;
    mild.b = 1.0;
    ab_sphere_map_fill(nlat, nlon, bump_density, &mild, rho, &err);
    o.scale = AB_SPHERE_MAP_SCALE_AUTO, o.lon0_deg = 180.0;
    s = svg_case(&t, "tetrahedral b=1, centred on 180", nlat, nlon, rho, &o, &len);
    if (s)
        ab_check(&t, strstr(s, "linear scale") && strstr(s, "longitude 180") && strstr(s, ">-180&#176;</text>") &&
                         count(s, "&#176;</text>") == 16,
                 "max/min = e^2: linear scale; centred on 180 (11 meridians labelled, 180 among them, 0 on the "
                 "outline not; 5 parallels)");
    free(s);
    /* forced log on the same */
    o.scale = AB_SPHERE_MAP_SCALE_LOG;
    s = svg_case(&t, "forced log scale", nlat, nlon, rho, &o, &len);
    if (s) ab_check(&t, strstr(s, "log scale") != NULL, "log scale when asked");
    free(s);
    /* uniform: a constant, no clusters */
    for (int p = 0; p < nlat * nlon; p++) rho[p] = 1.0;
    ab_sphere_map_opts_default(&o);
    s = svg_case(&t, "uniform", nlat, nlon, rho, &o, &len);
    if (s) ab_check(&t, strstr(s, "No clusters") && strstr(s, "linear scale") && count(s, "<path") == 1,
                    "uniform: one colour, linear, no clusters");
    free(s);
    /* worst case for the size: every cell its own colour */
    unsigned long long r = 88172645463325252ull;
    for (int p = 0; p < nlat * nlon; p++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        rho[p] = (double)(r >> 11) / 9007199254740992.0;
    }
    s = svg_case(&t, "random colours (size worst case)", nlat, nlon, rho, &o, &len);
    free(s);
    /* bad input: nothing written */
    rho[5] = INFINITY;
    FILE *f = tmpfile();
    ab_status st = ab_sphere_map_svg(f, nlat, nlon, rho, &o, &err);
    s = slurp(f, &len);
    fclose(f);
    ab_check(&t, st == AB_ENAN && len == 0, "SVG: infinite density refused before writing: %s", err.msg);
    free(s);
    rho[5] = 1.0;
    ab_check(&t, ab_sphere_map_svg(stdout, 0, 10, rho, &o, &err) == AB_EINVAL, "SVG: empty grid refused: %s", err.msg);
    ab_cluster bad = {{0, 0, 0}, 0.5, 1.0, 1.0, 0.0};
    o.clusters = &bad, o.n_clusters = 1;
    ab_check(&t, ab_sphere_map_svg(stdout, nlat, nlon, rho, &o, &err) == AB_EINVAL, "SVG: cluster without a centre refused: %s",
             err.msg);
    free(rho);
    return ab_finish(&t);
}
