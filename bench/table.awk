# bench/table.awk — turn bench/run.sh's measurements into the tables.
#
#   awk -F '\t' -v csv=FILE -f table.awk META FS=, RUNS.CSV
#
# META (tab-separated, written by run.sh): "runs", "scale", "tscale",
# "gscale", "fscale", "date", "kernel", "glibc", "seconds", "programs",
# "settings" lines, then one "alloc NAME LIB NOTE KIND DESC XS ONLY" line
# per allocator, setting, guard-page allocator or tool (KIND alloc,
# setting, guard or tool; XS the reduced scale it runs the C programs at,
# and at 0, its time extrapolated, empty when it runs them at full size;
# ONLY the workloads it runs, empty for all) and one "work NAME SKIP C"
# line per workload (C 1 for the C programs), in table order. RUNS.CSV: one line per run (workload, allocator, run, elapsed ns,
# peak RSS KiB, user ns, sys ns, status, scale, work, scan ns, scan CPU ns).
#
# Prints one table per kind (allocators, dbgalloc settings, guard pages,
# debugging tools) on stdout and writes the figures, one line per workload
# and column, to csv. glibc's column is absolute (median seconds and MiB);
# the others are medians divided by glibc's. Without glibc, every column is
# absolute. Columns with an XS scale ran there and at 0: their time is
# extrapolated to the full-size run from the work each run did (see
# extrapolate below), and their RSS compared with glibc's at XS. The guard
# pages' table adds the time per unit of work (pair) of each column on its
# workloads, from its runs at scale 0 and above. Run with LC_ALL=C: widths are
# counted in bytes, then corrected for UTF-8.

NR == FNR {
	if ($1 == "alloc") {
		alloc[++nalloc] = $2
		lib[$2] = $3
		note[$2] = $4
		kind[$2] = $5
		desc[$2] = $6
		xs[$2] = $7
		only[$2] = $8
		if ($2 == "glibc")
			have_glibc = 1
	} else if ($1 == "work") {
		work[++nwork] = $2
		skip[$2] = $3
		isc[$2] = $4
	} else {
		meta[$1] = $2
	}
	next
}

FNR == 1 {
	next # the CSV header
}

{
	wa = $1 SUBSEP $2
	if ($8 != "ok") {
		if (!(wa in failed))
			failed[wa] = $8
		next
	}
	k = wa SUBSEP $9
	n = ++count[k]
	secs[k, n] = $4 / 1e9
	mib[k, n] = $5 / 1024
	units[k] = $10
	if ($9 == meta["scale"])
		fullunits[$1] = $10
	if ($11 != "") {
		n = ++nscan[k]
		scanw[k, n] = $11 / 1e9
		scanc[k, n] = $12 / 1e9
	}
}

# The median of v[k, 1..n].
function median(v, k, n, i, j, x, a) {
	for (i = 1; i <= n; i++) {
		x = v[k, i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

# Display width of s: bytes, less UTF-8 continuation bytes.
function width(s, t) {
	t = s
	return length(s) - gsub(/[\200-\277]/, "", t)
}

function pad(s, w) {
	while (width(s) < w)
		s = " " s
	return s
}

function lpad(s, w) {
	while (width(s) < w)
		s = s " "
	return s
}

# The factor that takes a run from the work it did at tscale to the
# full-size run's, both less the work of the run at scale 0: time grows
# linearly with the work done (pairs, rounds, blocks: the second word of
# the program's line) from the start-up cost the run at 0 measures.
# Returns -1 when it cannot be known (no full-size run in the table, or no
# more work at xs[a] than at 0, as for realloc's one round at tiny scales).
function extrapolate(w, a, kt, kz) {
	kt = w SUBSEP a SUBSEP xs[a]
	kz = w SUBSEP a SUBSEP "0"
	if (count[kt] == 0 || count[kz] == 0 || !(w in fullunits) || \
	    units[kt] + 0 <= units[kz] + 0)
		return -1
	return (fullunits[w] - units[kz]) / (units[kt] - units[kz])
}

# measure(w, a): sets T (seconds), R (MiB), SW and SC (scan wall and CPU
# seconds, -1 when none), RUNS and AT (the scale of the runs) for column a
# on workload w. Returns "ok", "none" (no runs) or "n/a" (no estimate).
function measure(w, a, k, kz, f) {
	SW = SC = -1
	if (xs[a] != "") {
		k = w SUBSEP a SUBSEP xs[a]
		kz = w SUBSEP a SUBSEP "0"
		AT = xs[a]
		RUNS = count[k] + 0
		if (count[k] == 0 && count[kz] == 0)
			return "none"
		f = extrapolate(w, a)
		if (f < 0)
			return "n/a"
		T = median(secs, kz, count[kz])
		T += (median(secs, k, count[k]) - T) * f
		R = median(mib, k, count[k])
		if (nscan[k] > 0 && nscan[kz] > 0) {
			SW = median(scanw, kz, nscan[kz])
			SW += (median(scanw, k, nscan[k]) - SW) * f
			SC = median(scanc, kz, nscan[kz])
			SC += (median(scanc, k, nscan[k]) - SC) * f
			if (SW <= 0 || SC <= 0)
				SW = SC = -1
		}
		# Noise larger than the work (tiny scales) can make it negative.
		return T > 0 ? "ok" : "n/a"
	}
	k = w SUBSEP a SUBSEP meta["scale"]
	AT = meta["scale"]
	RUNS = count[k] + 0
	if (count[k] == 0)
		return "none"
	T = median(secs, k, count[k])
	R = median(mib, k, count[k])
	if (nscan[k] > 0) {
		SW = median(scanw, k, nscan[k])
		SC = median(scanc, k, nscan[k])
	}
	return "ok"
}

# glibc's medians for w: GT and GR at full size, GRT (RSS) at scale ts;
# each -1 when not measured.
function glibc_of(w, ts, k) {
	GT = GR = GRT = -1
	if (!have_glibc || ((w SUBSEP "glibc") in failed))
		return
	k = w SUBSEP "glibc" SUBSEP meta["scale"]
	if (count[k] > 0) {
		GT = median(secs, k, count[k])
		GR = median(mib, k, count[k])
	}
	k = w SUBSEP "glibc" SUBSEP ts
	if (ts != "" && count[k] > 0)
		GRT = median(mib, k, count[k])
}

# runs(a, w): 1 when column a runs workload w at all.
function runs(a, w) {
	return only[a] == "" || index(" " only[a] " ", " " w " ") > 0
}

# per_unit(w, a): the median seconds per unit of work (pair) of column a on
# w, from its runs at scale 0 and at xs[a] (else full size), so start-up
# is left out; -1 when not measured.
function per_unit(w, a, k, kz) {
	k = w SUBSEP a SUBSEP (xs[a] != "" ? xs[a] : meta["scale"])
	kz = w SUBSEP a SUBSEP "0"
	if (note[a] != "" || ((w SUBSEP a) in failed) || count[k] == 0 || \
	    count[kz] == 0 || units[k] + 0 <= units[kz] + 0)
		return -1
	return (median(secs, k, count[k]) - median(secs, kz, count[kz])) / \
		(units[k] - units[kz])
}

# cell(w, a): sets C1 and C2 (the two cells), TR and RR (the ratios, -1
# when none) and ST (the status for the CSV) for column a on workload w.
function cell(w, a, m, gr) {
	C1 = C2 = dash
	TR = RR = -1
	T = R = SW = SC = -1
	RUNS = 0
	AT = ""
	if (skip[w] != "") {
		ST = "skipped"
		return
	}
	if (note[a] != "") {
		ST = "not-measured"
		return
	}
	if (!runs(a, w)) {
		ST = "not-run"
		return
	}
	if ((w SUBSEP a) in failed) {
		C1 = C2 = "FAIL"
		ST = "failed:" failed[w SUBSEP a]
		return
	}
	m = measure(w, a)
	if (m == "none") {
		ST = kind[a] == "tool" && !isc[w] ? "not-run" : "not-measured"
		return
	}
	if (m == "n/a") {
		C1 = C2 = "n/a"
		ST = "no-estimate"
		return
	}
	ST = "ok"
	glibc_of(w, xs[a])
	gr = xs[a] != "" ? GRT : GR
	if (a == "glibc" || !have_glibc) {
		C1 = sprintf("%.3f", T)
		C2 = sprintf("%.1f", R)
		return
	}
	if (GT > 0) {
		TR = T / GT
		C1 = ratio(TR)
	} else {
		C1 = "n/a"
	}
	if (gr > 0) {
		RR = R / gr
		C2 = ratio(RR)
	} else {
		C2 = "n/a"
	}
}

# A ratio in a cell: two decimals, fewer from 1,000 on so that it fits.
function ratio(x) {
	return sprintf(x < 1000 ? "%.2f" : x < 10000 ? "%.1f" : "%.0f", x)
}

function fmt(x, f) {
	return x < 0 ? "" : sprintf(f, x)
}

function csvline(w, a) {
	cell(w, a)
	print w "," a "," lib[a] "," RUNS "," fmt(T, "%.4f") "," \
		fmt(R, "%.2f") "," fmt(TR, "%.4f") "," fmt(RR, "%.4f") "," \
		ST "," AT "," fmt(SW, "%.4f") "," fmt(SC, "%.4f") > csv
}

# One table: the columns of kind kd (glibc first, dbgalloc beside the
# settings, the guard pages and the tools, and guard-sample beside the
# guard pages), one row per workload, the leak scan, the geometric means;
# for the guard pages, only the workloads they run, and their time per
# pair and MiB.
function panel(kd, title, i, j, a, w, n, col, line1, line2, row, common, \
               ok, lt, lr, nc, shown, any, g) {
	n = 0
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (a == "glibc" || (a == "dbgalloc" && kd != "alloc") || \
		    (a == "guard-sample" && kd == "guard") || kind[a] == kd)
			col[++n] = a
	}
	any = 0
	for (i = 1; i <= n; i++)
		if (kind[col[i]] == kd && (kd == "alloc" || col[i] != "dbgalloc"))
			any = 1
	if (!any)
		return

	print ""
	print title
	line1 = lpad("", WW)
	line2 = lpad("workload", WW)
	for (i = 1; i <= n; i++) {
		a = col[i]
		line1 = line1 pad(a, 2 * CW)
		if (a == "glibc" || !have_glibc)
			line2 = line2 pad("time s", CW) pad("MiB", CW)
		else
			line2 = line2 pad("time" times, CW) pad("rss" times, CW)
	}
	print line1
	print line2

	for (j = 1; j <= nwork; j++) {
		w = work[j]
		if (kd == "guard") {
			g = 0
			for (i = 1; i <= n; i++)
				if (kind[col[i]] == kd && runs(col[i], w))
					g = 1
			if (!g)
				continue
		}
		row = lpad(w, WW)
		common[w] = skip[w] == ""
		for (i = 1; i <= n; i++) {
			a = col[i]
			cell(w, a)
			row = row pad(C1, CW) pad(C2, CW)
			if (a != "glibc" && note[a] == "") {
				if (TR < 0 || RR < 0)
					common[w] = 0
				if ((w SUBSEP a) in failed)
					nfail[a]++
			}
		}
		print row
		if (kd == "guard")
			guard_rows(w, n, col)
	}
	if (kd == "guard")
		return

	# The leak check's own time inside leakaudit: wall | CPU seconds.
	for (j = 1; j <= nwork; j++) {
		w = work[j]
		if (w != "leakaudit" || skip[w] != "")
			continue
		row = lpad("leak scan", WW)
		shown = 0
		for (i = 1; i <= n; i++) {
			cell(w, col[i])
			if (SW >= 0 && ST == "ok") {
				row = row pad(sprintf("%.3f", SW), CW) \
					pad(sprintf("%.3f", SC), CW)
				shown = 1
			} else {
				row = row pad(C1 == "FAIL" ? C1 : dash, CW) \
					pad(C2 == "FAIL" ? C2 : dash, CW)
			}
		}
		if (shown)
			print row
	}

	# Geometric means over the workloads every column measured.
	if (!have_glibc)
		return
	nc = 0
	for (j = 1; j <= nwork; j++)
		nc += common[work[j]]
	if (nc < 2)
		return
	row = lpad("geomean", WW)
	shown = 0
	for (i = 1; i <= n; i++) {
		a = col[i]
		if (a == "glibc") {
			row = row pad("", 2 * CW)
			continue
		}
		if (note[a] != "" || nfail[a] > 0) {
			row = row pad(dash, CW) pad(dash, CW)
			continue
		}
		lt = lr = 0
		for (j = 1; j <= nwork; j++) {
			w = work[j]
			if (!common[w])
				continue
			cell(w, a)
			lt += log(TR)
			lr += log(RR)
		}
		row = row pad(sprintf("%.2f", exp(lt / nc)), CW) \
			pad(sprintf("%.2f", exp(lr / nc)), CW)
		shown = 1
	}
	if (shown)
		print row
}

# Under workload w in the guard pages' table: microseconds per unit of work
# (and the ratio to glibc's), and the peak RSS in MiB (and the scale the
# runs had).
function guard_rows(w, n, col, i, row, u, gu) {
	gu = per_unit(w, "glibc")
	row = lpad(" \302\265s/" unitname(w), WW)
	for (i = 1; i <= n; i++) {
		u = per_unit(w, col[i])
		if (u < 0)
			row = row pad(dash, CW) pad(dash, CW)
		else
			row = row pad(sprintf(u * 1e6 < 10 ? "%.3f" : \
				    u * 1e6 < 10000 ? "%.1f" : "%.0f", u * 1e6), CW) \
				pad(col[i] == "glibc" || gu <= 0 ? "" : \
				    sprintf(u / gu < 100 ? "%.1f" : "%.0f", u / gu), CW)
		unit_of[w, col[i]] = u
	}
	print row
	row = lpad(" MiB@scale", WW)
	for (i = 1; i <= n; i++) {
		cell(w, col[i])
		if (ST != "ok")
			row = row pad(dash, CW) pad(dash, CW)
		else
			row = row pad(sprintf("%.1f", R), CW) pad(AT, CW)
	}
	print row
}

function unitname(w) {
	return w ~ /^churn/ ? "pair" : "unit"
}

# "NAME, NAME" of the columns of kind kd with (found 1) or without a note.
function names(kd, found, i, a, s) {
	s = ""
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (kind[a] == kd && (note[a] == "") == found)
			s = s (s == "" ? "" : ", ") a
	}
	return s
}

function describe(kd, heading, i, a, f, m) {
	f = names(kd, 1)
	m = names(kd, 0)
	if (f == "" && m == "")
		return
	printf "%s: %s%s\n", heading, f == "" ? "none" : f, \
		m == "" ? "" : " (missing: " m ")"
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (kind[a] == kd)
			printf "  %-11s %s\n", a, note[a] != "" ? dash " " note[a] : desc[a]
	}
}

END {
	dash = "\342\200\223" # U+2013, the en dash
	times = "\303\227"    # U+00D7, the multiplication sign
	minus = "\342\210\222" # U+2212, the minus sign
	WW = 10               # workload column
	CW = 8                # one cell

	printf "dbgalloc bench: median of %d run%s each, scale %s; %s; %s; %s\n", \
		meta["runs"], meta["runs"] == 1 ? "" : "s", meta["scale"], \
		meta["date"], meta["kernel"], meta["glibc"]
	describe("alloc", "allocators found")
	describe("setting", "dbgalloc settings")
	describe("guard", "guard-page allocators")
	describe("tool", "tools found")
	if (meta["programs"] != "")
		printf "programs: %s\n", meta["programs"]
	if (meta["settings"] != "")
		printf "dbgalloc settings in effect: %s\n", meta["settings"]

	panel("alloc", "allocators")
	panel("setting", "dbgalloc settings")
	panel("guard", "guard pages")
	panel("tool", "debugging tools")

	print "workload,allocator,library,runs,time_s,rss_mib,time_ratio,rss_ratio,status,scale,scan_s,scan_cpu_s" > csv
	for (j = 1; j <= nwork; j++)
		for (i = 1; i <= nalloc; i++)
			csvline(work[j], alloc[i])

	tools = lsan = guard = 0
	xtools = ""
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (note[a] != "")
			continue
		if (kind[a] == "tool")
			tools = 1
		if (kind[a] == "guard")
			guard = 1
		if (xs[a] != "")
			xtools = xtools (xtools != "" ? ", " : "") a " at scale " xs[a]
		if (a == "lsan")
			lsan = 1
	}
	print ""
	if (have_glibc) {
		print "time" times ", rss" times ": the median wall time and peak RSS divided by glibc's (below 1: faster, smaller)."
		print "geomean: over the workloads that every column of the table measured."
	}
	print dash ": not measured. FAIL: a run crashed, exited non-zero, timed out or printed other output than the first run."
	if (tools)
		print "Tools run the C programs only (" dash " for the interpreters)."
	if (lsan)
		print "lsan: each C program built again by clang with -fsanitize=leak (no preload), against glibc under the gcc build."
	if (xtools != "") {
		printf "%s: run there and at 0 (start-up), the time scaled to the work of the full-size run:\n", \
			xtools
		printf "  t = t0 + (ts %s t0) %s (W %s W0) / (Ws %s W0), W the work each run printed (pairs, blocks, ...);\n", \
			minus, times, minus, minus
		printf "  %s at the reduced scale; n/a where the two runs did the same work or t came out negative.\n", \
			have_glibc ? "rss" times " against glibc's" : "MiB"
	}
	if (guard) {
		print "guard pages: churn only for guard-full, efence and duma (10 to hundreds of " \
			"\302\265s a pair: scaled down as above)."
		printf "  \302\265s/pair: (t %s t0) / (W %s W0) from the medians at scale 0 and at the scale shown " \
			"under MiB@scale, start-up left out; then its ratio to glibc's.\n", minus, minus
		print "  MiB@scale: median peak RSS and the scale of those runs (the RSS of one that keeps freed blocks grows with the pairs)."
		for (j = 1; j <= nwork; j++) {
			w = work[j]
			u = unit_of[w, "guard-full"]
			if (u <= 0)
				continue
			line = ""
			for (i = 1; i <= nalloc; i++) {
				a = alloc[i]
				if (kind[a] == "guard" && a != "guard-full" && unit_of[w, a] > 0)
					line = line sprintf(", %.0f%s faster than %s", \
						unit_of[w, a] / u, times, a)
			}
			if (line != "")
				printf "  %s, guard-full per %s:%s\n", w, unitname(w), substr(line, 2)
		}
	}
	checks = ""
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (note[a] != "")
			continue
		if (a == "dbgalloc" || (kind[a] == "setting" && !dbg)) {
			checks = checks ", dbgalloc_leak_check(0) with DBGALLOC_LOG=/dev/null"
			dbg = 1
		} else if (a == "lsan") {
			checks = checks ", LSan's __lsan_do_recoverable_leak_check()"
		} else if (a == "memcheck") {
			checks = checks ", memcheck's VALGRIND_DO_LEAK_CHECK (scaled as its time)"
		}
	}
	for (j = 1; j <= nwork; j++)
		if (work[j] == "leakaudit" && skip[work[j]] == "" && checks != "") {
			print "leak scan: seconds inside the one leak check of leakaudit (wall, then CPU; absolute, not ratios):"
			print "  " substr(checks, 3) "."
		}
	for (j = 1; j <= nwork; j++)
		if (skip[work[j]] != "")
			printf "%s %s: skipped, %s\n", dash, work[j], skip[work[j]]
	for (i = 1; i <= nalloc; i++)
		if (note[alloc[i]] != "")
			printf "%s %s: %s\n", dash, alloc[i], note[alloc[i]]
	printf "%s s in all; CSV: %s\n", meta["seconds"], csv
	close(csv)
}
