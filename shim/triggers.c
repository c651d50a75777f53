/*
 * shim/triggers.c — what starts dumps and live leak checks besides exit
 * and the API: the settings checked together and handed to the dumper
 * thread (audit/dumper.h), which does the work.
 *
 * The settings' own parser has checked each value; here, what only makes
 * sense together: a dump trigger needs DBGALLOC_DUMP (the file), and the
 * two signals must differ. With DBGALLOC_DUMP set, a refusal at the limit
 * writes a dump too: that trigger has no setting of its own.
 */
#include "audit/dumper.h"
#include "audit/leakreport.h"
#include "audit/report.h"
#include "audit/trigger.h"
#include "shim/leaks.h"
#include "shim/triggers.h"

#include <string.h>

/* One line on standard error. */
static int
stop(struct da_line *l)
{
	da_line_emit_to(l, 2);
	return -1;
}

int
da_shim_triggers_init(const struct da_settings *s)
{
	struct da_dumper_cfg c = {
	        .pattern = s->dump,
	        .leak_flags = s->leaks == DA_LEAKS_ALL ? DA_LREP_ALL : 0,
	        .prepare = da_shim_leaks_prepare,
	};
	struct da_line l = {.len = 0};
	if (s->dump_signal[0] != '\0')
		c.dump_signal = da_trigger_signal(s->dump_signal);
	if (s->leaks_signal[0] != '\0')
		c.leaks_signal = da_trigger_signal(s->leaks_signal);
	if (s->dump_interval[0] != '\0')
		da_trigger_interval_ms(s->dump_interval, &c.interval_ms);
	const char *alone = s->dump[0] != '\0'          ? NULL
	                    : s->dump_signal[0] != '\0' ? "DBGALLOC_DUMP_SIGNAL"
	                    : s->dump_interval[0] != '\0'
	                            ? "DBGALLOC_DUMP_INTERVAL"
	                            : NULL;
	if (alone != NULL) {
		da_line_str(&l, "dbgalloc: ");
		da_line_str(&l, alone);
		da_line_str(&l, " needs DBGALLOC_DUMP, the file to write the "
		                "dumps to");
		return stop(&l);
	}
	if (c.dump_signal != 0 && c.dump_signal == c.leaks_signal) {
		char name[16];
		da_line_str(&l,
		            "dbgalloc: DBGALLOC_DUMP_SIGNAL and "
		            "DBGALLOC_LEAKS_SIGNAL name the same signal, SIG");
		da_line_str(&l, da_trigger_signal_name(c.dump_signal, name,
		                                       sizeof(name)));
		return stop(&l);
	}
	char err[512];
	if (da_dumper_configure(&c, err, sizeof(err)) != 0) {
		da_line_str(&l, err);
		return stop(&l);
	}
	return 0;
}
