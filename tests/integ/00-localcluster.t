#!/usr/bin/perl
# contrib/localcluster itself: nodes, namespaces, reaper, verbs, clean-up.
#
# Runs first with a stand-in noded (a small Perl program that answers on the
# socket and leaves a detached "job" behind), so that it tests localcluster
# and not noded; then, if build/bin/noded exists, brings up 3 real nodes.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;

my $top = abs_path(dirname(__FILE__) . "/../..");
my $lc = "$top/contrib/localcluster";
my $root = $> == 0;
my $dir = "/tmp/sshell-lc-t00-$$";
$ENV{SSHELL_LC_DIR} = $dir;
$ENV{SSHELL_LC_TIMEOUT} = 20;
delete $ENV{SSHELL_LC_MODE};
my $tmp = tempdir("sshell-t00-XXXXXX", TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;

END { local $?; system($lc, "down") if -d $dir }

# run(ARGS...): [exit status, stdout, stderr] of a command, stdin empty.
sub run {
	my $cmd = join " ", map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @_;
	my $out = qx{$cmd </dev/null 2>$tmp/stderr};
	my $rc = $? == -1 ? -1 : ($? & 127 ? 128 + ($? & 127) : $? >> 8);
	open my $fh, "<", "$tmp/stderr" or die;
	local $/;
	my $err = <$fh> // "";
	return [$rc, $out, $err];
}

sub lc_ { run($lc, @_) }
sub slurp { open my $fh, "<", $_[0] or return undef; local $/; <$fh> }
sub recorded_pid { my $s = slurp($_[0]) // ""; $s =~ /^(\d+)/ ? $1 : undef }
sub children {
	my ($pid) = @_;
	my @c;
	for my $f (glob "/proc/$pid/task/*/children") {
		push @c, split ' ', (slurp($f) // "");
	}
	return @c;
}

# The stand-in noded: --print-key prints a key line; otherwise it starts a
# detached job (sleep) that writes its pid to STATEDIR/job.pid, then accepts
# connections on its socket for ever.
my $fake = "$tmp/fake-noded";
open my $fh, ">", $fake or die;
print $fh <<'EOF';
#!/usr/bin/perl
use strict; use Socket; use Getopt::Long; use POSIX ();
my ($pk, $s, $c, $n, $f, $d);
GetOptions('print-key' => \$pk, 's=s' => \$s, 'c=s' => \$c, 'n=s' => \$n,
	'f' => \$f, 'd' => \$d) or exit 2;
$s //= "/var/lib/sshell";
if ($pk) { print "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE", length($s), " stand-in\n"; exit 0 }
my $sock = $ENV{SSHELL_SOCKET} // "/run/sshell/noded.sock";
unless (fork) {
	POSIX::setsid();
	open my $o, ">", "$s/job.pid.tmp" or die; print $o "$$\n"; close $o;
	rename "$s/job.pid.tmp", "$s/job.pid";
	exec "sleep", "1000";
}
unlink $sock;
socket(my $l, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($l, pack_sockaddr_un($sock)) or die "bind $sock: $!";
listen($l, 16) or die "listen: $!";
chmod 0666, $sock;
print STDERR "stand-in noded $n listening on $sock\n";
while (accept(my $cl, $l)) { close $cl }
EOF
close $fh;
chmod 0755, $fake;
$ENV{SSHELL_NODED} = $fake;

my $r;
my $statedir = sub { "$dir/n$_[0]/lib" };

# --- up ---------------------------------------------------------------------
$r = lc_("up", 3);
is($r->[0], 0, "up 3 exits 0") or diag $r->[2];
is($r->[1], "", "up prints nothing on stdout");
$r = lc_("status");
is($r->[0], 0, "status exits 0 when every node is up") or diag $r->[1], $r->[2];
is(scalar(() = $r->[1] =~ /^n\d\s.*\bup$/mg), 3, "status lists 3 nodes up");
for my $i (1 .. 3) {
	ok(-S "$dir/n$i/run/noded.sock", "n$i: socket in $dir/n$i/run");
	like(slurp("$dir/n$i/etc/cluster.conf") // "",
	    qr/^node 3 n3 \S+:\d+ cpus=1 key=\S+$/m, "n$i: cluster file lists n3");
}

# --- on -----------------------------------------------------------------------
$r = lc_("on", "n2", "sh", "-c", 'echo "$PATH"');
like($r->[1], qr/^\Q$top\E\/build\/bin:/, "on: build tools first on PATH");
$r = lc_("on", "n1", "sh", "-c", "exit 7");
is($r->[0], 7, "on: exits with the command's status");
$r = lc_("on", "n1", "sh", "-c", 'kill -TERM $$');
is($r->[0], 128 + 15, "on: a signal's death is 128+N");
$r = lc_("on", "n1", "sh", "-c", "echo out; echo err >&2");
is_deeply([$r->[1], $r->[2]], ["out\n", "err\n"], "on: stdout and stderr passed through");
is(qx{printf 'a\\nb\\0c' | '$lc' on n3 od -An -c | tr -s ' '},
    qx{printf 'a\\nb\\0c' | od -An -c | tr -s ' '}, "on: stdin passed through");
$r = lc_("on", "n9", "true");
isnt($r->[0], 0, "on: an unknown node fails");
like($r->[2], qr/^localcluster: n9: no such node/, "... with a clear message");
$r = lc_("on", "2", "pwd");
is($r->[1], "$top\n", "on: node by id; the caller's cwd is kept");

SKIP: {
	skip "namespaces only as root", 12 unless $root;
	$r = lc_("on", "n2", "hostname");
	is($r->[1], "n2\n", "on n2: hostname is n2");
	$r = lc_("on", "n1", "cat", "/proc/1/comm");
	is($r->[1], "sshell-reaper\n", "on n1: pid 1 is the reaper (own /proc)");
	my @ino = map { lc_("on", "n$_", "stat", "-c", "%i", "/run/sshell/noded.sock")->[1] } 1 .. 2;
	isnt($ino[0], $ino[1], "each node has its own /run/sshell");
	is($ino[0], sprintf("%d\n", (stat "$dir/n1/run/noded.sock")[1]),
	    "n1's /run/sshell is $dir/n1/run");
	$r = lc_("on", "n3", "cat", "/etc/sshell/cluster.conf");
	like($r->[1], qr/^node 1 n1 10\.77\.0\.1:7022 cpus=1 key=\S+$/m,
	    "n3: /etc/sshell/cluster.conf lists n1 at 10.77.0.1:7022");
	$r = lc_("on", "n3", "ip", "-br", "-4", "addr");
	like($r->[1], qr/\b10\.77\.0\.3\/24\b/, "n3: eth0 has 10.77.0.3/24");
	$r = lc_("on", "-u", "nobody", "n1", "id", "-u");
	is($r->[1], "65534\n", "on -u nobody: runs as nobody");
	$r = lc_("on", "-u", "nobody", "n1", "sh", "-c", 'echo "$USER $HOME"');
	like($r->[1], qr/^nobody \S+$/, "on -u nobody: USER and HOME are nobody's");

	# n1 reaches n3 over the bridge.
	my $port = 7023;
	open my $srv, "-|", $lc, "on", "n3", "perl", "-MIO::Socket::INET", "-e",
	    '$| = 1; my $l = IO::Socket::INET->new(LocalAddr => "10.77.0.3:' . $port .
	    '", Listen => 1, ReuseAddr => 1) or die "listen: $!"; print "ready\n";
	    my $c = $l->accept; print "got ", scalar <$c>;' or die;
	my $ready = <$srv>;
	is($ready, "ready\n", "n3: a TCP listener on 10.77.0.3");
	$r = lc_("on", "n1", "bash", "-c", "echo hello >/dev/tcp/10.77.0.3/$port");
	is($r->[0], 0, "n1 connects to 10.77.0.3") or diag $r->[2];
	is(scalar <$srv>, "got hello\n", "n3 receives n1's bytes");
	close $srv;

	# The host's namespace has no address or route in 10.77.0.0/24.
	my $addrs = qx{ip -4 -o addr; ip -4 route};
	unlike($addrs, qr/\b10\.77\.0\./, "host namespace: no 10.77.0.x address or route");
}

# --- pid, kill, start ----------------------------------------------------------
$r = lc_("pid", "n1");
like($r->[1], qr/^\d+\n\z/, "pid n1 prints a pid");
my $pid1 = $r->[1] + 0;
ok($pid1 && -e "/proc/$pid1", "that pid runs on the host");
my $reaper1 = recorded_pid("$dir/n1/reaper.pid");
ok(grep({ $_ == $pid1 } children($reaper1)), "noded is the reaper's child");
my $job = recorded_pid($statedir->(1) . "/job.pid");
ok(defined $job, "the stand-in started a job on n1");
$r = lc_("kill", "n1");
is($r->[0], 0, "kill n1 exits 0") or diag $r->[2];
ok(!-e "/proc/$pid1" || (slurp("/proc/$pid1/stat") // "") =~ /\) [ZX] /, "n1's noded is gone");
$r = lc_("on", "n1", "kill", "-0", $job);
is($r->[0], 0, "n1's job still runs after its noded was killed");
$r = lc_("pid", "n1");
isnt($r->[0], 0, "pid n1 fails while noded is down");
$r = lc_("status");
is($r->[0], 1, "status exits 1 with a node down");
like($r->[1], qr/^n1\s.*noded not running$/m, "status says n1's noded is not running");
$r = lc_("start", "n1");
is($r->[0], 0, "start n1 exits 0") or diag $r->[2];
$r = lc_("pid", "n1");
ok($r->[0] == 0 && $r->[1] + 0 != $pid1, "start n1: a new noded");
is(lc_("status")->[0], 0, "status: all up again");
$r = lc_("start", "n1");
isnt($r->[0], 0, "start of a running noded fails");
like($r->[2], qr/^localcluster: start: n1: noded is already running/, "... and says so");

# --- up over a running cluster, down -------------------------------------------
my @old = map { recorded_pid("$dir/n$_/reaper.pid") } 1 .. 3;
$r = lc_("up", 2);
is($r->[0], 0, "up 2 over a running cluster") or diag $r->[2];
ok(!grep({ -e "/proc/$_" && (slurp("/proc/$_/stat") // "") !~ /\) [ZX] / } @old),
    "the earlier nodes are gone");
is(scalar(() = lc_("status")->[1] =~ /^n\d\s.*\bup$/mg), 2, "2 nodes up");
my @procs = map { my $p = recorded_pid("$dir/n$_/reaper.pid"); ($p, children($p)) } 1 .. 2;
$r = lc_("down");
is($r->[0], 0, "down exits 0") or diag $r->[2];
ok(!-e $dir, "down removes $dir");
ok(!grep({ -e "/proc/$_" && (slurp("/proc/$_/stat") // "") !~ /\) [ZX] / } @procs),
    "down kills the reapers, nodeds and jobs");
unlike(slurp("/proc/self/mountinfo"), qr/\Q$dir\E/, "down leaves no mount behind");
is(lc_("down")->[0], 0, "down again is harmless");
$r = lc_("status");
isnt($r->[0], 0, "status without a cluster fails");

# --- a noded that dies at once --------------------------------------------------
my $bad = "$tmp/bad-noded";
open $fh, ">", $bad or die;
print $fh "#!/bin/sh\ncase \$1 in --print-key) echo ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAD;; *) echo dying >&2; exit 3;; esac\n";
close $fh;
chmod 0755, $bad;
{
	local $ENV{SSHELL_NODED} = $bad;
	local $ENV{SSHELL_LC_TIMEOUT} = 5;
	$r = lc_("up", 2);
}
isnt($r->[0], 0, "up fails when noded dies");
like($r->[2], qr/^localcluster: noded of n\d exited before it answered/m, "... saying which node died");
like($r->[2], qr/dying/, "... with the end of its log");
ok(!-e $dir, "... and cleans up after itself");

# --- real nodes ---------------------------------------------------------------
SKIP: {
	my $noded = "$top/build/bin/noded";
	skip "no $noded yet", 3 unless -x $noded;
	local $ENV{SSHELL_NODED} = $noded;
	$r = lc_("up", 3);
	is($r->[0], 0, "up 3 with the real noded") or diag $r->[2];
	is(lc_("status")->[0], 0, "every real noded answers");
	SKIP: {
		skip "no snodes yet", 1 unless -x "$top/build/bin/snodes";
		$r = lc_("wait", 20);
		is($r->[0], 0, "wait: every node sees all 3 up") or diag $r->[2];
	}
	lc_("down");
}

done_testing();
