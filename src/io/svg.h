/* Internal: the few SVG plotting pieces the writers share (panels, axes, colours). */
#ifndef AB_IO_SVG_H
#define AB_IO_SVG_H

#include "attnbif/error.h"

#include <stdio.h>

typedef struct {
    double x0, x1, y0, y1;  /* data range */
    double left, top, w, h; /* panel in pixels */
} ab_svg_panel;

double ab_svg_x(const ab_svg_panel *p, double x);
double ab_svg_y(const ab_svg_panel *p, double y);
/* Frame, ticks at round values, tick labels and axis titles. */
void ab_svg_axes(FILE *out, const ab_svg_panel *p, const char *xlabel, const char *ylabel);
/* Colour k of a 10-colour palette (cycled). */
const char *ab_svg_colour(int k);
/* Text with XML's special characters escaped (names such as "r < 0"). */
void ab_svg_escaped(FILE *out, const char *text);
void ab_svg_begin(FILE *out, double width, double height);
void ab_svg_end(FILE *out);


/* PNG copies (png.c): the program that renders SVG to PNG, looked up on PATH (README,
 * "Dependencies"), and dir/NAME.png made from dir/NAME.svg (svg_name ends in .svg), written
 * under a temporary name and renamed. AB_EIO naming the file and, when rsvg-convert is
 * missing, the package to install. */
#define AB_PNG_RENDERER "rsvg-convert"
ab_status ab_png_from_svg(const char *dir, const char *svg_name, ab_error *err);

#endif
