"""Records node boundaries of native Redis 7.0 streams for store/tests.rs.

Run against a redis-server 7.0.15 on 127.0.0.1:$PORT (default 7100):
    python3 native_oracle.py 7100
Each case prints the XINFO STREAM radix-tree-keys after every operation as a
run-length string ("1x7,2x7" = one node for 7 operations, then two for 7),
plus lengths after trims. tests.rs replays the same operations on the
EntryStore and compares with the strings printed here.
"""
import sys
import redis

r = redis.Redis(port=int(sys.argv[1]) if len(sys.argv) > 1 else 7100)


def nodes():
    return r.xinfo_stream("s")["radix-tree-keys"]


def rle(xs):
    out, prev, n = [], None, 0
    for x in xs:
        if x == prev:
            n += 1
        else:
            if prev is not None:
                out.append(f"{prev}x{n}")
            prev, n = x, 1
    if prev is not None:
        out.append(f"{prev}x{n}")
    return ",".join(out)


def setup(max_bytes, max_entries):
    r.delete("s")
    r.config_set("stream-node-max-bytes", max_bytes)
    r.config_set("stream-node-max-entries", max_entries)


def case_mixed(max_bytes, max_entries, n):
    """Same generator as tests.rs `mixed_op`."""
    setup(max_bytes, max_entries)
    seq = []
    for i in range(n):
        ms, sq = 1000 + i // 4, (i % 4) * 5 + (i // 4) % 3
        fields = mixed_fields(i)
        r.execute_command("XADD", "s", f"{ms}-{sq}", *fields)
        if i % 5 == 4:
            r.execute_command("XDEL", "s", f"{ms}-{sq}")
        seq.append(nodes())
    return seq


def mixed_fields(i):
    if i % 7 == 6:
        return ["c", "x" * ((i * 13) % 300)]
    return ["a", "h" * ((i * 13) % 300), "b", str(-12 * i), "n", str(i * 100003)]


def main():
    # A: 250 small entries, default limits, XTRIM MAXLEN ~ 120.
    setup(4096, 100)
    seq = []
    for i in range(1, 251):
        r.execute_command("XADD", "s", f"{i}-1", "f", "v")
        seq.append(nodes())
    print("A", rle(seq), r.xtrim("s", 120, approximate=True), r.xlen("s"), nodes())
    # B: 1000-byte values.
    setup(4096, 100)
    seq = []
    for i in range(1, 13):
        r.execute_command("XADD", "s", f"{i}-1", "f", "x" * 1000)
        seq.append(nodes())
    print("B", rle(seq), r.xtrim("s", 5, approximate=True), r.xlen("s"))
    # C: 500-byte values, varying field names, an integer value.
    setup(4096, 100)
    seq = []
    for i in range(1, 21):
        r.execute_command("XADD", "s", f"{i}-1", f"field{i}", "y" * 500, "n", "12345")
        seq.append(nodes())
    print("C", rle(seq))
    # D: byte limit only, integer-looking values, counts growing past 127.
    setup(4096, 0)
    seq = []
    for i in range(600):
        r.execute_command("XADD", "s", f"{i}-1", "f", str(i * 37))
        seq.append(nodes())
    print("D", rle(seq))
    # E/F: mixed fields, negative seq deltas, deletions.
    print("E", rle(case_mixed(4096, 0, 400)))
    print("F", rle(case_mixed(300, 3, 100)))
    print("G", rle(case_mixed(0, 0, 50)))
    # H: approx MINID / MAXLEN with LIMIT on case E's stream.
    case_mixed(4096, 0, 400)
    out = []
    for args in (["MINID", "~", "1010-0"], ["MAXLEN", "~", "250", "LIMIT", "40"],
                 ["MAXLEN", "~", "250", "LIMIT", "1000"], ["MINID", "~", "1060-3"],
                 ["MAXLEN", "=", "77"], ["MINID", "=", "1090-1"], ["MAXLEN", "~", "0"]):
        out.append(f"{r.execute_command('XTRIM', 's', *args)}/{r.xlen('s')}/{nodes()}")
    print("H", ",".join(out))


main()
