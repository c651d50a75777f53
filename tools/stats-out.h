/*
 * tools/stats-out.h — what a dbgalloc-stats command prints, built once as
 * a small tree and then written as text or as JSON. A command adds values
 * (each with a JSON key and a text label) to objects, tables, records and
 * frame lists; the text form lays them out (aligned fields, tables with a
 * header, records with a headline, frames one a line), the JSON form
 * prints every value exactly: sizes in bytes, addresses as "0x..."
 * strings, a missing value as null.
 *
 *   root (object)                           {"command": ..., ...}
 *   ├─ o_obj     fields: "label  value"     {"key": {...}}
 *   ├─ o_table   a header, one line a row   {"key": [{...}, ...]}
 *   ├─ o_records a headline, then details   {"key": [{...}, ...]}
 *   ├─ o_frames  one line a frame           {"key": [{...}, ...]}
 *   └─ o_line    a line of text only        (nothing)
 *
 * Everything is allocated from the document and freed with it; running
 * out of memory ends the program (exit 2) through st_oom().
 */
#ifndef DA_TOOLS_STATS_OUT_H
#define DA_TOOLS_STATS_OUT_H

#include <stdint.h>
#include <stdio.h>

struct o_doc;
struct o_node;

enum o_format { O_TEXT, O_JSON };

/* Flags of a node. */
#define O_JSON_ONLY 0x1u /* not in the text */
#define O_TEXT_ONLY 0x2u /* not in the JSON */
#define O_HIDE_NONE 0x4u /* a missing value leaves its line out of the text */

/* Frame styles in text. */
enum o_frame_style {
	O_FRAMES_REPORT, /* "    #0 0x401010 in f a.c:3 (prog+0x1010)" */
	O_FRAMES_SHORT,  /* "f a.c:3", or "prog+0x1010" */
	O_FRAMES_CHECK,  /* "f:a.c:3", as pytest-memray; "..." when cut */
};

struct o_doc *o_new(void);
void o_free(struct o_doc *doc);
struct o_node *o_root(struct o_doc *doc);

/* Writes the document; 0, or an errno value when the stream failed. */
int o_write(struct o_doc *doc, FILE *f, enum o_format fmt);

/* Allocation from the document (never NULL). */
void *o_alloc(struct o_doc *doc, size_t n);
char *o_strdup(struct o_doc *doc, const char *s);
char *o_printf(struct o_doc *doc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
struct o_doc *o_doc_of(const struct o_node *n);

/*
 * Containers. title: a line of text before the content (NULL: none);
 * indent: spaces added before the content's lines. An object without a
 * key in an object only groups lines of text: in JSON its members are
 * its parent's.
 */
struct o_node *o_obj(struct o_node *parent, const char *key, const char *title,
                     int indent);
/* A table: its rows are objects whose values are the cells, in order. */
struct o_node *o_table(struct o_node *parent, const char *key,
                       const char *title, int indent);
struct o_node *o_row(struct o_node *table);
/*
 * Records: each an object whose headline is its first line of text; its
 * values are in the JSON only (the headline says them), its lines,
 * frames and records follow the headline, indented.
 */
struct o_node *o_records(struct o_node *parent, const char *key,
                         int blank_after);
struct o_node *o_record(struct o_node *records, const char *headline);
/*
 * Frames: in text, at most depth of them (0: all) after the first skip,
 * in a style; o_frame adds one, text the line it prints and the rest its
 * JSON object {pc, function, file, line, module, offset, inlined} (NULL
 * strings, a line of 0 and an offset of ST_NONE are null). A frame is one
 * node, its strings kept once per document: a dump's thousands of frames
 * repeat the same few modules and functions.
 */
struct o_node *o_frames(struct o_node *parent, const char *key,
                        enum o_frame_style style, unsigned depth,
                        unsigned skip);
struct o_frame_info {
	uint64_t pc;
	const char *function, *file;
	unsigned line;
	const char *module;
	uint64_t offset;
	int inlined;
};
struct o_node *o_frame(struct o_node *frames, const char *text,
                       const struct o_frame_info *info);
/* s kept once in the document. */
const char *o_intern(struct o_doc *doc, const char *s);
enum o_frame_style o_frames_style(const struct o_node *frames);
/* A plain array of objects or values: in text, each in turn. */
struct o_node *o_arr(struct o_node *parent, const char *key);
struct o_node *o_item(struct o_node *arr, const char *title);
/* A histogram: in text one line, "label: " and each non-empty bucket. */
struct o_node *o_hist(struct o_node *parent, const char *key,
                      const char *label);
void o_bucket(struct o_node *hist, uint64_t lo, uint64_t hi, uint64_t count,
              const char *text);

/* Values: key for JSON, label for text (NULL: none). DA_DUMP_NONE
 * (UINT64_MAX) is a missing value: null, and "-" in text. */
struct o_node *o_str(struct o_node *p, const char *key, const char *label,
                     const char *s);
struct o_node *o_count(struct o_node *p, const char *key, const char *label,
                       uint64_t v);
struct o_node *o_size(struct o_node *p, const char *key, const char *label,
                      uint64_t v);
struct o_node *o_delta(struct o_node *p, const char *key, const char *label,
                       int64_t v);
struct o_node *o_cdelta(struct o_node *p, const char *key, const char *label,
                        int64_t v);
/* A percentage; NAN is missing. */
struct o_node *o_pct(struct o_node *p, const char *key, const char *label,
                     double v);
/* Nanoseconds: the JSON number, human in text. */
struct o_node *o_ns(struct o_node *p, const char *key, const char *label,
                    uint64_t v);
struct o_node *o_hex(struct o_node *p, const char *key, const char *label,
                     uint64_t v);
struct o_node *o_bool(struct o_node *p, const char *key, const char *label,
                      int v);
/* A line of text only. */
struct o_node *o_line(struct o_node *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Adjusting a node. */
struct o_node *o_flags(struct o_node *n, unsigned flags);
/* Text after a value in fields (not in tables). */
struct o_node *o_suffix(struct o_node *n, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Spaces added before a container's lines. */
struct o_node *o_indent(struct o_node *n, int indent);
/* Makes a value missing (deltas and booleans have no ST_NONE). */
struct o_node *o_missing(struct o_node *n);
/* Text for a missing value, instead of "-". */
struct o_node *o_none_text(struct o_node *n, const char *text);
/* A blank line between the items of an array, in text. */
struct o_node *o_spaced(struct o_node *arr);

/* The number of children of a container. */
size_t o_count_children(const struct o_node *n);

/* Ends the program: "dbgalloc-stats: out of memory", exit status 2. */
void st_oom(void) __attribute__((noreturn));

#endif
