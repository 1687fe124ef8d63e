/* simserver's host-side helpers: the screen contract for test clients
 * (layout as JSON, the font's glyphs), a medium listing, and a self-test of
 * the parts that need no VM (keymaps, the state strip, the CRC). */
#ifndef SIM_TOOLS_H
#define SIM_TOOLS_H

#include <stdio.h>

int sim_tool_layout(FILE *out);
/* One line per printable ASCII character: "HEX 32-hex-digit-glyph". */
int sim_tool_font(FILE *out);
int sim_tool_iso(const char *path, FILE *out);
int sim_tool_selftest(FILE *out);

#endif
