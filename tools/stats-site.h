/*
 * tools/stats-site.h — a call site as dbgalloc-stats shows it: the frames
 * of its stack, symbolized (tools/symbols.h), with dbgalloc's own frames
 * and the allocation wrappers' left out unless --all-frames (or unless
 * every frame is one), inlined frames in their place; the text of a frame
 * in each style; and the key that groups sites for --by.
 *
 * A frame is "function file:line" when its function and line are known,
 * "function (module+0xOFF)" when only its function is, "module+0xOFF"
 * otherwise, and its address when it lies in no module. Site keys are
 * made of module paths and offsets, never of addresses, so that the same
 * site has the same key in two runs of one program (diff, check).
 */
#ifndef DA_TOOLS_STATS_SITE_H
#define DA_TOOLS_STATS_SITE_H

#include "tools/stats.h"

struct st_frame {
	uint64_t pc;
	const char *function, *file; /* NULL when unknown */
	unsigned line;               /* 0 when unknown */
	int inlined;                 /* inlined into the next frame */
	const char *module;          /* its path; NULL when in none */
	uint64_t offset;             /* pc - bias */
};

/*
 * The frames of s as shown, innermost first, in *n; NULL s (blocks with no
 * stack) has none. Valid until the next call on sd.
 */
const struct st_frame *st_frames(struct st_dump *sd,
                                 const struct da_dump_stack *s, size_t *n);

/*
 * The key of s for by (not ST_BY_THREAD), and in *label what a row of
 * that key shows. Both valid until the next call on sd.
 */
const char *st_key(struct st_dump *sd, const struct da_dump_stack *s,
                   enum st_by by, const char **label);

/* A frame's text in a style (o_frames), into buf of n bytes. */
const char *st_frame_text(const struct st_frame *f, enum o_frame_style style,
                          char *buf, size_t n);

/*
 * Adds the frames of s to parent under key "frames": every frame in the
 * JSON ({pc, function, file, line, module, offset, inlined}); in text
 * depth of them (0: all) after the first skip, in style.
 */
struct o_node *st_add_frames(struct o_node *parent, struct st_dump *sd,
                             const struct da_dump_stack *s,
                             enum o_frame_style style, unsigned depth,
                             unsigned skip);

/*
 * The frames of a table row whose last column shows the first of them: in
 * text the next depth - 1 under it (none when depth is 1, all when 0).
 */
void st_row_frames(struct o_node *row, struct st_dump *sd,
                   const struct da_dump_stack *s, unsigned depth);

#endif
