# snap_common.sh - shared by bench/snap*.sh (sourced, not run): the test
# image, the 1 % change every incremental benchmark applies, the PSK, and
# timing. One definition, so every snap benchmark changes the same 1 %.

now() { date +%s.%N; }
elapsed() { python3 -c "print('%.3f' % ($2 - $1))"; }

# snap_psk FILE: a fresh 32-byte key, mode 0600.
snap_psk() {
	head -c 32 /dev/urandom >"$1"
	chmod 600 "$1"
}

# snap_image PATH MIB [random]: every fourth MiB zeros, the rest random
# (the default: what dedup and zero detection meet in a real disk image);
# with "random", every byte random.
snap_image() {
	python3 - "$1" "$2" "${3:-mixed}" <<'PY'
import os, sys
path, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    for i in range(n):
        zero = kind != "random" and i % 4 == 3
        f.write(bytes(1 << 20) if zero else os.urandom(1 << 20))
PY
}

# snap_change PATH SEED: 100 in-place overwrites of size/10000 bytes at
# offsets drawn from SEED (1 % of the image, scattered).
snap_change() {
	python3 - "$1" "$2" <<'PY'
import os, random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
size = os.path.getsize(path)
n = size // 10000
with open(path, "r+b") as f:
    for _ in range(100):
        f.seek(rng.randrange(0, size - n))
        f.write(rng.randbytes(n))
PY
}

# snap_wait_socks SOCK...: until every API socket exists (5 s at most).
snap_wait_socks() {
	local s ok
	for _ in $(seq 50); do
		ok=1
		for s in "$@"; do [ -S "$s" ] || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
