# bench/perlhash.pl — the "perl" workload: a hash of 650,000 keys.
#
#   perl perlhash.pl [N]             (default: 650000 keys)
#
# Builds a hash of N string keys holding short strings and small array refs
# (many small blocks of mixed sizes, and the bucket array doubling as the
# hash grows), iterates it with each, then frees it all with undef. run.sh
# fixes PERL_HASH_SEED so every run walks the buckets in the same order.
# Prints one line that depends only on the data, the same under any malloc.
use strict;
use warnings;

my $n = @ARGV ? $ARGV[0] : 650000;
my %h;
for my $i (1 .. $n) {
	$h{"key:$i:" . ($i * 7919 % 1000003)} =
	    $i % 4 ? "value-" . ($i * 31) : [ $i, $i * 2, "x" x ($i % 64) ];
}
my ($count, $len) = (0, 0);
while (my ($k, $v) = each %h) {
	$count++;
	$len += length($k) + (ref $v ? scalar @$v : length $v);
}
undef %h;
print "perl $n keys $count iterated $len length\n";
