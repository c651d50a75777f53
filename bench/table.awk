# bench/table.awk — turn bench/run.sh's measurements into the table.
#
#   awk -F '\t' -v csv=FILE -f table.awk META FS=, RUNS.CSV
#
# META (tab-separated, written by run.sh): "runs", "scale", "date", "kernel",
# "glibc", "seconds", "programs", "settings" lines, then one "alloc NAME LIB
# NOTE" line per allocator and one "work NAME SKIP" line per workload, in
# table order. RUNS.CSV: one line per run (workload, allocator, run, elapsed
# ns, peak RSS KiB, user ns, sys ns, status). Prints the table on stdout
# and writes the same figures, one line per workload and allocator, to csv.
# glibc's column is absolute (median seconds and MiB); the others are its
# medians divided by glibc's. Without glibc, every column is absolute.
# Run with LC_ALL=C: widths are counted in bytes, then corrected for UTF-8.

NR == FNR {
	if ($1 == "alloc") {
		alloc[++nalloc] = $2
		lib[$2] = $3
		note[$2] = $4
		if ($2 == "glibc")
			have_glibc = 1
	} else if ($1 == "work") {
		work[++nwork] = $2
		skip[$2] = $3
	} else {
		meta[$1] = $2
	}
	next
}

FNR == 1 {
	next # the CSV header
}

{
	k = $1 SUBSEP $2
	if ($8 != "ok") {
		if (!(k in failed))
			failed[k] = $8
		next
	}
	n = ++count[k]
	secs[k, n] = $4 / 1e9
	mib[k, n] = $5 / 1024
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

function csvline(w, a, n, t, r, tr, rr, st) {
	print w "," a "," lib[a] "," n "," t "," r "," tr "," rr "," st > csv
}

END {
	dash = "\342\200\223" # U+2013, the en dash
	times = "\303\227"    # U+00D7, the multiplication sign
	WW = 10               # workload column
	CW = 8                # one cell

	found = ""
	missing = ""
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (note[a] == "")
			found = found (found == "" ? "" : ", ") a
		else
			missing = missing (missing == "" ? "" : ", ") a
	}
	printf "dbgalloc bench: median of %d run%s each, scale %s; %s; %s; %s\n", \
		meta["runs"], meta["runs"] == 1 ? "" : "s", meta["scale"], \
		meta["date"], meta["kernel"], meta["glibc"]
	printf "allocators found: %s%s\n", found, \
		missing == "" ? "" : " (missing: " missing ")"
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		if (a == "glibc")
			d = "no preload (" meta["glibc"] ")"
		else if (note[a] != "")
			d = dash " " note[a]
		else
			d = "LD_PRELOAD=" lib[a]
		printf "  %-9s %s\n", a, d
	}
	if (meta["programs"] != "")
		printf "programs: %s\n", meta["programs"]
	if (meta["settings"] != "")
		printf "dbgalloc settings in effect: %s\n", meta["settings"]
	print ""

	# Header: allocator names over their two cells, then the cell names.
	line1 = lpad("", WW)
	line2 = lpad("workload", WW)
	for (i = 1; i <= nalloc; i++) {
		a = alloc[i]
		line1 = line1 pad(a, 2 * CW)
		if (a == "glibc" || !have_glibc)
			line2 = line2 pad("time s", CW) pad("MiB", CW)
		else
			line2 = line2 pad("time" times, CW) pad("rss" times, CW)
	}
	print line1
	print line2

	print "workload,allocator,library,runs,time_s,rss_mib,time_ratio,rss_ratio,status" > csv
	for (j = 1; j <= nwork; j++) {
		w = work[j]
		row = lpad(w, WW)
		gk = w SUBSEP "glibc"
		gok = have_glibc && !(gk in failed) && count[gk] > 0
		if (gok) {
			gt = median(secs, gk, count[gk])
			gr = median(mib, gk, count[gk])
		}
		for (i = 1; i <= nalloc; i++) {
			a = alloc[i]
			k = w SUBSEP a
			ratio = have_glibc && a != "glibc"
			if (skip[w] != "") {
				row = row pad(dash, CW) pad(dash, CW)
				csvline(w, a, 0, "", "", "", "", "skipped")
			} else if (note[a] != "") {
				row = row pad(dash, CW) pad(dash, CW)
				csvline(w, a, 0, "", "", "", "", "not-measured")
			} else if (k in failed) {
				row = row pad("FAIL", CW) pad("FAIL", CW)
				nfail[a]++
				csvline(w, a, count[k] + 0, "", "", "", "", \
					"failed:" failed[k])
			} else if (count[k] == 0) {
				row = row pad(dash, CW) pad(dash, CW)
				csvline(w, a, 0, "", "", "", "", "not-measured")
			} else {
				t = median(secs, k, count[k])
				r = median(mib, k, count[k])
				ts = sprintf("%.4f", t)
				rs = sprintf("%.2f", r)
				if (!ratio) {
					row = row pad(sprintf("%.3f", t), CW) \
						pad(sprintf("%.1f", r), CW)
					csvline(w, a, count[k], ts, rs, "", "", "ok")
				} else if (!gok) {
					row = row pad("n/a", CW) pad("n/a", CW)
					csvline(w, a, count[k], ts, rs, "", "", "ok")
				} else {
					tr = t / gt
					rr = r / gr
					row = row pad(sprintf("%.2f", tr), CW) \
						pad(sprintf("%.2f", rr), CW)
					csvline(w, a, count[k], ts, rs, \
						sprintf("%.4f", tr), \
						sprintf("%.4f", rr), "ok")
					lt[a] += log(tr)
					lr[a] += log(rr)
					nr[a]++
				}
			}
		}
		print row
	}

	# Geometric mean of the ratios, when there are several to combine.
	if (have_glibc && nwork > 1) {
		row = lpad("geomean", WW)
		shown = 0
		for (i = 1; i <= nalloc; i++) {
			a = alloc[i]
			if (a == "glibc") {
				row = row pad("", 2 * CW)
			} else if (nr[a] > 1 && nfail[a] == 0) {
				row = row pad(sprintf("%.2f", exp(lt[a] / nr[a])), CW) \
					pad(sprintf("%.2f", exp(lr[a] / nr[a])), CW)
				shown = 1
			} else {
				row = row pad(dash, CW) pad(dash, CW)
			}
		}
		if (shown)
			print row
	}

	print ""
	if (have_glibc)
		print "time" times ", rss" times ": the allocator's median wall time and peak RSS divided by glibc's (below 1: faster, smaller)."
	print dash ": not measured. FAIL: a run crashed, exited non-zero, timed out or printed other output than the first run."
	for (j = 1; j <= nwork; j++)
		if (skip[work[j]] != "")
			printf "%s %s: skipped, %s\n", dash, work[j], skip[work[j]]
	for (i = 1; i <= nalloc; i++)
		if (note[alloc[i]] != "")
			printf "%s %s: %s\n", dash, alloc[i], note[alloc[i]]
	printf "%s s in all; CSV: %s\n", meta["seconds"], csv
	close(csv)
}
