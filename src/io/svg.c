/* Shared SVG plotting pieces: panels with nice ticks, axis titles, a palette. */
#include "io/svg.h"

#include <math.h>

double ab_svg_x(const ab_svg_panel *p, double x) { return p->left + (x - p->x0) / (p->x1 - p->x0) * p->w; }
double ab_svg_y(const ab_svg_panel *p, double y) { return p->top + p->h - (y - p->y0) / (p->y1 - p->y0) * p->h; }

/* A "nice" tick spacing (1, 2 or 5 times a power of 10) giving about n ticks. */
static double tick_step(double span, int n)
{
    double raw = span / n, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

void ab_svg_axes(FILE *out, const ab_svg_panel *p, const char *xlabel, const char *ylabel)
{
    fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n", p->left, p->top, p->w, p->h);
    double sx = tick_step(p->x1 - p->x0, 6), sy = tick_step(p->y1 - p->y0, 5);
    for (double x = ceil(p->x0 / sx) * sx; x <= p->x1 + 1e-9 * sx; x += sx) {
        double X = ab_svg_x(p, x);
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", X, p->top + p->h, X, p->top + p->h + 5);
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='11'>%.4g</text>\n", X, p->top + p->h + 18,
                fabs(x) < 1e-12 * sx ? 0.0 : x);
    }
    for (double y = ceil(p->y0 / sy) * sy; y <= p->y1 + 1e-9 * sy; y += sy) {
        double Y = ab_svg_y(p, y);
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", p->left - 5, Y, p->left, Y);
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='11'>%.4g</text>\n", p->left - 8, Y + 4,
                fabs(y) < 1e-12 * sy ? 0.0 : y);
    }
    fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13'>%s</text>\n", p->left + p->w / 2,
            p->top + p->h + 38, xlabel);
    fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            p->left - 48, p->top + p->h / 2, p->left - 48, p->top + p->h / 2, ylabel);
}

const char *ab_svg_colour(int k)
{
    static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                          "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
    return palette[(k % 10 + 10) % 10];
}

void ab_svg_begin(FILE *out, double width, double height)
{
    fprintf(out, "<?xml version='1.0' encoding='UTF-8'?>\n");
    fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f' font-family='sans-serif'>\n",
            width, height, width, height);
    fprintf(out, "<rect width='100%%' height='100%%' fill='white'/>\n");
}

void ab_svg_escaped(FILE *out, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '<') fputs("&lt;", out);
        else if (*c == '>') fputs("&gt;", out);
        else if (*c == '&') fputs("&amp;", out);
        else if (*c == '\'') fputs("&apos;", out);
        else fputc(*c, out);
    }
}

void ab_svg_end(FILE *out) { fprintf(out, "</svg>\n"); }
