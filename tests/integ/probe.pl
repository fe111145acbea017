#!/usr/bin/perl
# probe.pl send|stall TARGET [HEX|shut]...: a hostile client for
# 15-hostile.t.  TARGET is a Unix socket path or HOST:PORT.  The HEX
# arguments are written in order ("shut" half-closes the socket).
#   send:  then reads what comes back until EOF (at most 10 s) and prints
#          "reply=HEX(first 40 bytes) types=T,T,... eof=0|1", where the
#          types are those of the whole frames received (Unix socket).
#   stall: prints "ready", then holds the connection until stdin ends,
#          printing "closed" if the other side closes it meanwhile.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;

my ($mode, $target, @hex) = @ARGV;
my $s = $target =~ m{^/} ? IO::Socket::UNIX->new(Peer => $target)
    : IO::Socket::INET->new(PeerAddr => $target);
die "probe: connect $target: $!\n" unless $s;
$| = 1;
$SIG{PIPE} = 'IGNORE';
for (@hex) {
	if ($_ eq 'shut') { shutdown($s, 1); next }
	my $d = pack "H*", $_;
	defined syswrite($s, $d) or last;
}
if ($mode eq 'send') {
	my ($got, $eof, $end) = ("", 0, time + 5);
	my $sel = IO::Select->new($s);
	while (time < $end) {
		next unless $sel->can_read(0.2);
		my $n = sysread($s, my $b, 65536);
		if (!$n) { $eof = 1; last }
		$got .= $b;
	}
	my @t;
	for (my $i = 0; $i + 5 <= length $got;) {
		my ($len, $type) = unpack "N C", substr($got, $i, 5);
		last if $len < 1 || $i + 4 + $len > length $got;
		push @t, $type;
		$i += 4 + $len;
	}
	printf "reply=%s types=%s eof=%d\n", unpack("H*", substr($got, 0, 40)),
	    join(",", @t), $eof;
	exit 0;
}
print "ready\n";
my $sel = IO::Select->new($s, \*STDIN);
while (1) {
	for my $h ($sel->can_read) {
		if ($h == $s) {
			my $n = sysread($s, my $b, 65536);
			if (!$n) { print "closed\n"; $sel->remove($s) }
		} else {
			my $n = sysread(STDIN, my $b, 100);
			exit 0 unless $n;
		}
	}
}
