"""The differential corpus (issue 12, part a): named command sequences, each run
from an empty database on native Redis 8.6.3 and on the module host, in RESP2 and
RESP3. Every reply of every command is compared (harness.compare_sequence).

Sequences are built from small states (``FIVE``: five entries over two
milliseconds, ``GROUPS``: that plus a group with delivered, acknowledged and
pending entries) and the options of each command, combined so that every
option, every combination that changes a reply, and every error path is sent.
"""

import itertools


def x(*a):
    return list(a)


# -- states ------------------------------------------------------------------

FIVE = [x("XADD", "s", "1-1", "a", "1"), x("XADD", "s", "1-2", "b", "2"),
        x("XADD", "s", "2-1", "c", "3", "d", "4"), x("XADD", "s", "3-0", "e", "5"),
        x("XADD", "s", "5-5", "f", "6")]
DELETED = FIVE + [x("XDEL", "s", "3-0"), x("XDEL", "s", "5-5")]
STRING = [x("SET", "str", "v")]
GROUPS = FIVE + [
    x("XGROUP", "CREATE", "s", "g", "0"),
    x("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"),
    x("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"),
    x("XACK", "s", "g", "1-1"),
    x("XGROUP", "CREATE", "s", "g2", "$"),
]
STATES = {"empty": [], "five": FIVE, "deleted": DELETED, "groups": GROUPS}
INFO = [x("XINFO", "STREAM", "s"), x("XINFO", "STREAM", "s", "FULL")]
GINFO = [x("XINFO", "GROUPS", "s"), x("XINFO", "CONSUMERS", "s", "g"),
         x("XPENDING", "s", "g"), x("XPENDING", "s", "g", "-", "+", "10")]

CASES = []


def case(name, *parts):
    seq = []
    for p in parts:
        seq += p
    CASES.append((name, seq))


# -- XADD --------------------------------------------------------------------

ADD_IDS = ["1-1", "1-2", "2-*", "5-5", "5-6", "6", "0-0", "0-1", "0-*", "*", "abc", "-", "+",
           "1-2-3", "(5", "$", "-1", "18446744073709551616-0", "5-18446744073709551616",
           "18446744073709551615-18446744073709551615", "18446744073709551615-*", ">"]
for state in ("empty", "five", "deleted"):
    for i in ADD_IDS:
        case("xadd-id/%s/%s" % (state, i), STATES[state], [x("XADD", "s", i, "k", "v")],
             [x("XINFO", "STREAM", "s")])
case("xadd-max-id-then-star", [x("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1"),
                               x("XADD", "s", "*", "a", "1"),
                               x("XADD", "s", "18446744073709551615-*", "a", "1")], INFO)
case("xadd-seq-overflow", [x("XADD", "s", "5-18446744073709551615", "a", "1"),
                           x("XADD", "s", "5-*", "a", "1"), x("XADD", "s", "6-*", "a", "1")])
for args in (["s", "*"], ["s", "*", "f"], ["s", "*", "f", "v", "g"], ["s"], [],
             ["s", "NOMKSTREAM", "*"], ["s", "MAXLEN", "1", "*", "f"]):
    case("xadd-arity/%s" % " ".join(args), [x("XADD", *args)])
case("xadd-wrongtype", STRING, [x("XADD", "str", "*", "a", "1"),
                                x("XADD", "str", "NOMKSTREAM", "*", "a", "1")])
case("xadd-nomkstream-missing", [x("XADD", "s", "NOMKSTREAM", "*", "a", "1"), x("EXISTS", "s")])
case("xadd-nomkstream-existing", FIVE, [x("XADD", "s", "NOMKSTREAM", "6-1", "a", "1")], INFO)
case("xadd-binary", [x("XADD", "s", "1-1", b"\x00\xff", b"\r\n"), x("XRANGE", "s", "-", "+")])
case("xadd-many-fields", [x("XADD", "s", "1-1", *["f%d" % i for i in range(40)])],
     [x("XRANGE", "s", "-", "+")])
case("xadd-same-fields-compressed",
     [x("XADD", "s", "%d-1" % i, "a", str(i), "b", "x") for i in range(1, 12)],
     [x("XRANGE", "s", "-", "+"), x("XREVRANGE", "s", "+", "-", "COUNT", "3")], INFO)
case("xadd-star-auto", [x("XADD", "s", "*", "a", "1"), x("XADD", "s", "*", "a", "2"),
                        x("XLEN", "s"), x("XRANGE", "s", "-", "+")], INFO)

TRIMS = [
    [], ["MAXLEN", "2"], ["MAXLEN", "=", "2"], ["MAXLEN", "~", "2"], ["MAXLEN", "0"],
    ["MAXLEN", "~", "2", "LIMIT", "10"], ["MAXLEN", "=", "2", "LIMIT", "10"],
    ["MAXLEN", "2", "LIMIT", "0"], ["MAXLEN", "~", "2", "LIMIT", "0"],
    ["MAXLEN", "-1"], ["MAXLEN", "abc"], ["MAXLEN", "~", "-1"], ["MAXLEN", "~", "2", "LIMIT", "-1"],
    ["MAXLEN", "~", "2", "LIMIT", "abc"], ["MAXLEN", "9223372036854775808"],
    ["MAXLEN", "9223372036854775807"], ["MAXLEN"], ["MINID", "2-1"], ["MINID", "=", "2-1"],
    ["MINID", "~", "2-1"], ["MINID", "abc"], ["MINID", "~", "2", "LIMIT", "5"], ["MINID", "-1"],
    ["MINID", "0"], ["MINID", "99"], ["MAXLEN", "2", "MINID", "2-1"], ["LIMIT", "5"],
    ["MAXLEN", "1", "MAXLEN", "3"], ["maxlen", "~", "1"],
]
for state in ("five", "groups"):
    for t in TRIMS:
        case("xadd-trim/%s/%s" % (state, " ".join(t) or "none"), STATES[state],
             [x("XADD", "s", *t, "9-1", "k", "v")], [x("XRANGE", "s", "-", "+")], INFO)
for t in TRIMS:
    case("xtrim/%s" % (" ".join(t) or "none"), FIVE, [x("XTRIM", "s", *t)],
         [x("XRANGE", "s", "-", "+")], INFO)
case("xtrim-missing", [x("XTRIM", "s", "MAXLEN", "1"), x("EXISTS", "s")])
case("xtrim-wrongtype", STRING, [x("XTRIM", "str", "MAXLEN", "1")])
case("xtrim-arity", [x("XTRIM", "s"), x("XTRIM", "s", "MAXLEN")])
case("xtrim-approx-big",
     [x("XADD", "s", "%d-1" % i, "f", "v" * 10) for i in range(1, 260)],
     [x("XTRIM", "s", "MAXLEN", "~", "10"), x("XLEN", "s"),
      x("XTRIM", "s", "MAXLEN", "~", "5", "LIMIT", "100"), x("XLEN", "s"),
      x("XTRIM", "s", "MINID", "~", "250", "LIMIT", "1000"), x("XLEN", "s"),
      x("XTRIM", "s", "MINID", "~", "258"), x("XLEN", "s")], INFO)

REFS = [["KEEPREF"], ["DELREF"], ["ACKED"], ["KEEPREF", "DELREF"], ["ACKED", "ACKED"], ["keepref"]]
for ref in REFS:
    for t in (["MAXLEN", "1"], ["MAXLEN", "~", "1"], ["MINID", "5-5"], ["MAXLEN", "0"]):
        case("xtrim-ref/%s/%s" % (" ".join(ref), " ".join(t)), GROUPS,
             [x("XTRIM", "s", *t, *ref)], [x("XRANGE", "s", "-", "+")], GINFO, INFO)
        case("xadd-ref/%s/%s" % (" ".join(ref), " ".join(t)), GROUPS,
             [x("XADD", "s", *ref, *t, "9-1", "k", "v")], [x("XRANGE", "s", "-", "+")], GINFO,
             INFO)
    case("xadd-ref-notrim/%s" % " ".join(ref), GROUPS, [x("XADD", "s", *ref, "9-1", "k", "v")])
case("xtrim-acked-approx",
     [x("XADD", "s", "%d-1" % i, "f", "v") for i in range(1, 230)],
     [x("XGROUP", "CREATE", "s", "g", "0"),
      x("XREADGROUP", "GROUP", "g", "c", "COUNT", "150", "STREAMS", "s", ">"),
      x("XACK", "s", "g", *["%d-1" % i for i in range(1, 120)]),
      x("XTRIM", "s", "MAXLEN", "~", "10", "ACKED"), x("XLEN", "s"),
      x("XTRIM", "s", "MAXLEN", "10", "ACKED"), x("XLEN", "s"),
      x("XTRIM", "s", "MAXLEN", "~", "10", "DELREF"), x("XLEN", "s")], GINFO, INFO)

# -- XRANGE / XREVRANGE / XLEN -----------------------------------------------

BOUNDS = ["-", "+", "1-1", "1", "2", "(1-1", "(1-2", "(-", "(+", "(5-5", "3-0", "abc", "",
          "(", "1-", "-1", "(0-0", "18446744073709551615", "(18446744073709551615-18446744073709551615",
          "0-18446744073709551615"]
for a, b in itertools.product(BOUNDS[:12], BOUNDS[:12]):
    case("xrange/%s/%s" % (a, b), DELETED, [x("XRANGE", "s", a, b), x("XREVRANGE", "s", b, a)])
for b in BOUNDS[12:]:
    case("xrange-odd/%s" % b, FIVE, [x("XRANGE", "s", b, "+"), x("XRANGE", "s", "-", b),
                                     x("XREVRANGE", "s", b, "-"), x("XREVRANGE", "s", "+", b)])
for cnt in (["COUNT", "0"], ["COUNT", "1"], ["COUNT", "3"], ["COUNT", "-1"], ["COUNT", "abc"],
            ["COUNT"], ["COUNT", "1", "COUNT", "2"], ["LIMIT", "1"], ["count", "2"],
            ["COUNT", "9223372036854775808"]):
    case("xrange-count/%s" % " ".join(cnt), FIVE, [x("XRANGE", "s", "-", "+", *cnt),
                                                    x("XREVRANGE", "s", "+", "-", *cnt)])
case("xrange-missing", [x("XRANGE", "s", "-", "+"), x("XREVRANGE", "s", "+", "-"),
                        x("XRANGE", "s", "abc", "+"), x("XLEN", "s")])
case("xrange-wrongtype", STRING, [x("XRANGE", "str", "-", "+"), x("XREVRANGE", "str", "+", "-"),
                                  x("XLEN", "str")])
case("xrange-arity", [x("XRANGE", "s", "-"), x("XREVRANGE", "s"), x("XLEN"), x("XLEN", "s", "t")])

# -- XDEL / XDELEX / XSETID ---------------------------------------------------

for ids in (["1-1"], ["1-1", "1-1"], ["9-9"], ["1-1", "2-1", "5-5"], ["abc"], ["1-1", "abc"],
            ["1"], ["-"], ["+"]):
    case("xdel/%s" % " ".join(ids), FIVE, [x("XDEL", "s", *ids)], INFO)
case("xdel-all", FIVE, [x("XDEL", "s", "1-1", "1-2", "2-1", "3-0", "5-5"), x("XLEN", "s")], INFO)
case("xdel-missing", [x("XDEL", "s", "1-1")])
case("xdel-wrongtype", STRING, [x("XDEL", "str", "1-1")])
case("xdel-arity", [x("XDEL", "s")])
DELEX = [["IDS", "1", "1-1"], ["IDS", "2", "1-1", "9-9"], ["IDS", "2", "1-1"], ["IDS", "1", "1-1", "2-1"],
         ["IDS", "0"], ["IDS", "-1", "1-1"], ["IDS", "abc", "1-1"], ["KEEPREF", "IDS", "1", "1-2"],
         ["DELREF", "IDS", "1", "1-2"], ["ACKED", "IDS", "2", "1-1", "1-2"],
         ["ACKED", "IDS", "1", "2-1"], ["IDS", "1", "abc"], ["KEEPREF", "DELREF", "IDS", "1", "1-1"],
         ["IDS"], ["FOO", "IDS", "1", "1-1"], ["IDS", "1", "1-1", "KEEPREF"],
         ["ids", "1", "1-1"], ["IDS", "1", "5-5"]]
for state in ("five", "groups"):
    for d in DELEX:
        case("xdelex/%s/%s" % (state, " ".join(d)), STATES[state], [x("XDELEX", "s", *d)],
             [x("XRANGE", "s", "-", "+")], INFO)
case("xdelex-missing", [x("XDELEX", "s", "IDS", "1", "1-1"), x("XDELEX", "s", "IDS", "2", "1-1")])
case("xdelex-wrongtype", STRING, [x("XDELEX", "str", "IDS", "1", "1-1")])
case("xdelex-arity", [x("XDELEX", "s"), x("XDELEX", "s", "IDS"), x("XDELEX", "s", "IDS", "1")])

SETIDS = [["5-5"], ["9-9"], ["1-1"], ["0-0"], ["abc"], ["5-5", "ENTRIESADDED", "5"],
          ["9-9", "ENTRIESADDED", "10"], ["9-9", "ENTRIESADDED", "3"],
          ["9-9", "ENTRIESADDED", "10", "MAXDELETEDID", "7-0"],
          ["9-9", "ENTRIESADDED", "10", "MAXDELETEDID", "10-0"],
          ["9-9", "ENTRIESADDED", "10", "MAXDELETEDID", "0-0"],
          ["9-9", "MAXDELETEDID", "7-0"], ["9-9", "ENTRIESADDED", "-1"],
          ["9-9", "ENTRIESADDED", "abc"], ["9-9", "MAXDELETEDID", "abc"],
          ["9-9", "ENTRIESADDED"], ["9-9", "FOO", "1"], ["4-0"], ["3-0"], ["5-4"],
          ["5-5", "ENTRIESADDED", "5", "MAXDELETEDID", "5-5"], ["(9-9"], ["9"], ["+"], ["-"]]
for state in ("empty", "five", "deleted"):
    for sargs in SETIDS:
        case("xsetid/%s/%s" % (state, " ".join(sargs)), STATES[state],
             [x("XSETID", "s", *sargs)], [x("XINFO", "STREAM", "s")],
             [x("XADD", "s", "*", "z", "1")] if state == "empty" else [])
case("xsetid-then-add", DELETED, [x("XSETID", "s", "9-9"), x("XADD", "s", "9-9", "a", "1"),
                                  x("XADD", "s", "9-*", "a", "1")], INFO)
case("xsetid-empty-stream", FIVE, [x("XDEL", "s", "1-1", "1-2", "2-1", "3-0", "5-5"),
                                   x("XSETID", "s", "0-0"), x("XSETID", "s", "6-0"),
                                   x("XSETID", "s", "5-5")], INFO)
case("xsetid-wrongtype", STRING, [x("XSETID", "str", "1-1")])
case("xsetid-arity", [x("XSETID", "s")])

# -- XINFO ----------------------------------------------------------------------

for state in STATES:
    for args in (["STREAM", "s"], ["STREAM", "s", "FULL"], ["STREAM", "s", "FULL", "COUNT", "1"],
                 ["STREAM", "s", "FULL", "COUNT", "0"], ["STREAM", "s", "FULL", "COUNT", "-1"],
                 ["STREAM", "s", "FULL", "COUNT", "abc"], ["STREAM", "s", "FULL", "COUNT"],
                 ["STREAM", "s", "FOO"], ["STREAM", "s", "FULL", "FOO", "1"],
                 ["GROUPS", "s"], ["CONSUMERS", "s", "g"], ["CONSUMERS", "s", "nope"],
                 ["CONSUMERS", "s"], ["GROUPS"], ["STREAM"], ["HELP"], ["FOO"], ["stream", "s"]):
        case("xinfo/%s/%s" % (state, " ".join(args)), STATES[state], [x("XINFO", *args)])
case("xinfo-wrongtype", STRING, [x("XINFO", "STREAM", "str"), x("XINFO", "GROUPS", "str"),
                                 x("XINFO", "CONSUMERS", "str", "g")])
case("xinfo-arity", [x("XINFO")])

# -- XGROUP -----------------------------------------------------------------------

GROUP_CMDS = [
    ["CREATE", "s", "n", "0"], ["CREATE", "s", "n", "$"], ["CREATE", "s", "n", "2-1"],
    ["CREATE", "s", "g", "0"], ["CREATE", "s", "n", "abc"], ["CREATE", "s", "n", "0", "MKSTREAM"],
    ["CREATE", "s", "n", "0", "ENTRIESREAD", "2"], ["CREATE", "s", "n", "0", "ENTRIESREAD", "-1"],
    ["CREATE", "s", "n", "0", "ENTRIESREAD", "-2"], ["CREATE", "s", "n", "0", "ENTRIESREAD", "abc"],
    ["CREATE", "s", "n", "0", "ENTRIESREAD", "99"], ["CREATE", "s", "n", "0", "FOO"],
    ["CREATE", "s", "n", "0", "MKSTREAM", "ENTRIESREAD", "1"], ["CREATE", "s", "n", "+"],
    ["CREATE", "s", "n", "-"], ["CREATE", "s", "n"], ["CREATE", "s", "n", "(1-1"],
    ["SETID", "s", "g", "0"], ["SETID", "s", "g", "$"], ["SETID", "s", "g", "2-1", "ENTRIESREAD", "3"],
    ["SETID", "s", "nope", "0"], ["SETID", "s", "g", "abc"], ["SETID", "s", "g", "0", "ENTRIESREAD", "-3"],
    ["SETID", "s", "g", "0", "ENTRIESREAD", "99"], ["SETID", "s", "g"], ["SETID", "s", "g", "0", "FOO"],
    ["DESTROY", "s", "g"], ["DESTROY", "s", "nope"], ["DESTROY", "s"],
    ["CREATECONSUMER", "s", "g", "carol"], ["CREATECONSUMER", "s", "g", "alice"],
    ["CREATECONSUMER", "s", "nope", "carol"], ["CREATECONSUMER", "s", "g"],
    ["DELCONSUMER", "s", "g", "alice"], ["DELCONSUMER", "s", "g", "zed"],
    ["DELCONSUMER", "s", "nope", "alice"], ["DELCONSUMER", "s", "g"],
    ["HELP"], ["FOO"], ["create", "s", "n", "0"],
]
for state in ("empty", "five", "groups"):
    for g in GROUP_CMDS:
        case("xgroup/%s/%s" % (state, " ".join(g)), STATES[state], [x("XGROUP", *g)],
             [x("XINFO", "GROUPS", "s"), x("XINFO", "STREAM", "s", "FULL")])
case("xgroup-wrongtype", STRING, [x("XGROUP", "CREATE", "str", "g", "0"),
                                  x("XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"),
                                  x("XGROUP", "SETID", "str", "g", "0")])
case("xgroup-arity", [x("XGROUP")])

# -- XREADGROUP / XREAD / XACK -------------------------------------------------------

READS = [
    ["GROUP", "g", "carol", "STREAMS", "s", ">"], ["GROUP", "g", "alice", "STREAMS", "s", "0"],
    ["GROUP", "g", "bob", "STREAMS", "s", "0"], ["GROUP", "g", "carol", "STREAMS", "s", "0"],
    ["GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "0"],
    ["GROUP", "g", "alice", "STREAMS", "s", "1-2"], ["GROUP", "g", "carol", "NOACK", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "COUNT", "1", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "COUNT", "0", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "COUNT", "-1", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "STREAMS", "s", "$"], ["GROUP", "g", "carol", "STREAMS", "s", "+"],
    ["GROUP", "g", "carol", "STREAMS", "s", "abc"], ["GROUP", "nope", "carol", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "STREAMS", "missing", ">"], ["GROUP", "g", "carol", "STREAMS", "s"],
    ["GROUP", "g", "carol", "STREAMS", "s", "t", ">"], ["GROUP", "g", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "BLOCK", "0", "STREAMS", "s", "0"],
    ["GROUP", "g", "carol", "BLOCK", "-1", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "BLOCK", "abc", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "FOO", "STREAMS", "s", ">"], ["STREAMS", "s", ">"],
    ["GROUP", "g2", "carol", "STREAMS", "s", ">"],
    ["GROUP", "g", "alice", "CLAIM", "0", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "0", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "0", "COUNT", "1", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "100000", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "-1", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "abc", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "0", "STREAMS", "s", "0"],
    ["GROUP", "g", "carol", "CLAIM", "0", "NOACK", "STREAMS", "s", ">"],
    ["GROUP", "g", "carol", "CLAIM", "0", "CLAIM", "5", "STREAMS", "s", ">"],
]
for r in READS:
    case("xreadgroup/%s" % " ".join(r), GROUPS, [x("XREADGROUP", *r)],
         [x("XINFO", "STREAM", "s", "FULL")], GINFO)
case("xreadgroup-wrongtype", STRING, [x("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">")])
case("xreadgroup-deleted-pending", GROUPS, [x("XDEL", "s", "1-2"),
                                            x("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")],
     GINFO)
case("xreadgroup-two-keys", GROUPS, [x("XADD", "t", "1-1", "a", "1"),
                                     x("XGROUP", "CREATE", "t", "g", "0"),
                                     x("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", ">", ">")])
XREADS = [["STREAMS", "s", "0"], ["STREAMS", "s", "2-1"], ["STREAMS", "s", "$"], ["STREAMS", "s", "+"],
          ["COUNT", "2", "STREAMS", "s", "0"], ["COUNT", "0", "STREAMS", "s", "0"],
          ["COUNT", "-1", "STREAMS", "s", "0"], ["STREAMS", "s", "abc"], ["STREAMS", "s", ">"],
          ["STREAMS", "s", "missing", "0", "0"], ["STREAMS", "missing", "s", "0", "+"],
          ["STREAMS", "s"], ["STREAMS", "s", "t", "0"], ["STREAMS"], [],
          ["BLOCK", "1", "STREAMS", "s", "0"], ["BLOCK", "-1", "STREAMS", "s", "0"],
          ["FOO", "STREAMS", "s", "0"], ["COUNT", "1", "STREAMS", "s", "+"],
          ["STREAMS", "s", "5-5"], ["STREAMS", "s", "(1-1"], ["streams", "s", "1"]]
for state in ("empty", "five", "deleted"):
    for r in XREADS:
        case("xread/%s/%s" % (state, " ".join(r)), STATES[state], [x("XREAD", *r)])
case("xread-wrongtype", STRING, [x("XREAD", "STREAMS", "str", "0"), x("XREAD", "STREAMS", "str", "+")])

ACKS = [["g", "1-2"], ["g", "1-2", "2-1", "9-9"], ["g", "1-1"], ["nope", "1-2"], ["g", "abc"],
        ["g", "1-2", "abc"], ["g"], ["g2", "1-2"], ["g", "1-2", "1-2"]]
for a in ACKS:
    case("xack/%s" % " ".join(a), GROUPS, [x("XACK", "s", *a)], GINFO)
case("xack-missing", [x("XACK", "s", "g", "1-1")])
case("xack-wrongtype", STRING, [x("XACK", "str", "g", "1-1")])

ACKDELS = [["g", "IDS", "1", "1-2"], ["g", "IDS", "2", "1-2", "2-1"], ["g", "IDS", "1", "5-5"],
           ["g", "KEEPREF", "IDS", "1", "1-2"], ["g", "DELREF", "IDS", "1", "1-2"],
           ["g", "ACKED", "IDS", "1", "1-2"], ["g", "ACKED", "IDS", "1", "1-1"],
           ["g", "IDS", "2", "1-2"], ["g", "IDS", "1", "1-2", "2-1"], ["g", "IDS", "0"],
           ["g", "IDS", "abc", "1-2"], ["nope", "IDS", "1", "1-2"], ["g", "IDS", "1", "abc"],
           ["g", "FOO", "IDS", "1", "1-2"], ["g", "IDS"], ["g"], ["g", "IDS", "1", "9-9"],
           ["g2", "ACKED", "IDS", "1", "1-1"]]
for a in ACKDELS:
    case("xackdel/%s" % " ".join(a), GROUPS, [x("XACKDEL", "s", *a)], [x("XRANGE", "s", "-", "+")],
         GINFO, INFO)
    case("xackdel-missing/%s" % " ".join(a), [x("XACKDEL", "s", *a)])
case("xackdel-wrongtype", STRING, [x("XACKDEL", "str", "g", "IDS", "1", "1-1")])

# -- XPENDING / XCLAIM / XAUTOCLAIM ---------------------------------------------------

PENDS = [["g"], ["g", "-", "+", "10"], ["g", "-", "+", "10", "alice"], ["g", "-", "+", "10", "zed"],
         ["g", "(1-2", "+", "10"], ["g", "-", "(2-1", "10"], ["g", "-", "+", "0"],
         ["g", "-", "+", "-1"], ["g", "-", "+", "1"], ["g", "IDLE", "0", "-", "+", "10"],
         ["g", "IDLE", "100000", "-", "+", "10"], ["g", "IDLE", "-1", "-", "+", "10"],
         ["g", "IDLE", "abc", "-", "+", "10"], ["g", "IDLE", "0", "-", "+"], ["g", "-", "+"],
         ["g", "-"], ["nope"], ["nope", "-", "+", "10"], ["g", "abc", "+", "10"],
         ["g", "-", "+", "abc"], ["g", "-", "+", "10", "alice", "extra"], ["g2"],
         ["g", "IDLE", "0", "-", "+", "10", "bob"]]
for p in PENDS:
    case("xpending/%s" % " ".join(p), GROUPS, [x("XPENDING", "s", *p)])
case("xpending-missing", [x("XPENDING", "s", "g"), x("XPENDING", "s", "g", "-", "+", "1")])
case("xpending-wrongtype", STRING, [x("XPENDING", "str", "g")])

CLAIMS = [["carol", "0", "1-2"], ["carol", "0", "1-2", "2-1", "9-9"], ["alice", "0", "2-1"],
          ["carol", "100000", "1-2"], ["carol", "0", "1-1"], ["carol", "0", "1-2", "JUSTID"],
          ["carol", "0", "1-2", "FORCE"], ["carol", "0", "3-0", "FORCE"], ["carol", "0", "9-9", "FORCE"],
          ["carol", "0", "3-0", "FORCE", "JUSTID"], ["carol", "0", "1-2", "RETRYCOUNT", "7"],
          ["carol", "0", "1-2", "RETRYCOUNT", "-1"], ["carol", "0", "1-2", "RETRYCOUNT", "abc"],
          ["carol", "0", "1-2", "IDLE", "5000"], ["carol", "0", "1-2", "IDLE", "-5"],
          ["carol", "0", "1-2", "IDLE", "abc"], ["carol", "0", "1-2", "TIME", "1"],
          ["carol", "0", "1-2", "TIME", "abc"], ["carol", "0", "1-2", "LASTID", "9-9"],
          ["carol", "0", "1-2", "LASTID", "abc"], ["carol", "0", "1-2", "FOO"],
          ["carol", "-1", "1-2"], ["carol", "abc", "1-2"], ["carol", "0", "abc"],
          ["carol", "0"], ["carol", "0", "1-2", "abc"], ["carol", "0", "1-2", "JUSTID", "FORCE"],
          ["carol", "100000", "9-9"], ["carol", "100000", "9-9", "JUSTID"]]
for cl in CLAIMS:
    for grp in ("g", "nope"):
        case("xclaim/%s/%s" % (grp, " ".join(cl)), GROUPS, [x("XCLAIM", "s", grp, *cl)],
             [x("XINFO", "CONSUMERS", "s", "g"), x("XPENDING", "s", "g", "-", "+", "10"),
              x("XINFO", "STREAM", "s", "FULL")])
case("xclaim-missing", [x("XCLAIM", "s", "g", "c", "0", "1-1")])
case("xclaim-wrongtype", STRING, [x("XCLAIM", "str", "g", "c", "0", "1-1")])
case("xclaim-deleted", GROUPS, [x("XDEL", "s", "1-2"), x("XCLAIM", "s", "g", "carol", "0", "1-2")],
     GINFO)
AUTOS = [["carol", "0", "0"], ["carol", "0", "0", "COUNT", "1"], ["carol", "0", "0", "JUSTID"],
         ["carol", "0", "2-1"], ["carol", "100000", "0"], ["carol", "0", "0", "COUNT", "0"],
         ["carol", "0", "0", "COUNT", "-1"], ["carol", "0", "0", "COUNT", "abc"],
         ["carol", "0", "0", "COUNT", "100000000"], ["carol", "-1", "0"], ["carol", "abc", "0"],
         ["carol", "0", "abc"], ["carol", "0", "(1-2"], ["carol", "0"], ["carol", "0", "0", "FOO"],
         ["alice", "0", "0"], ["carol", "0", "-"], ["carol", "0", "+"]]
for au in AUTOS:
    for grp in ("g", "nope"):
        case("xautoclaim/%s/%s" % (grp, " ".join(au)), GROUPS, [x("XAUTOCLAIM", "s", grp, *au)],
             [x("XINFO", "CONSUMERS", "s", "g"), x("XINFO", "STREAM", "s", "FULL")])
case("xautoclaim-deleted", GROUPS, [x("XDEL", "s", "1-2", "2-1"),
                                    x("XAUTOCLAIM", "s", "g", "carol", "0", "0")], GINFO)
case("xautoclaim-missing", [x("XAUTOCLAIM", "s", "g", "c", "0", "0")])
case("xautoclaim-wrongtype", STRING, [x("XAUTOCLAIM", "str", "g", "c", "0", "0")])

# -- IDMP ----------------------------------------------------------------------

IDMP = [
    ["IDMP", "p", "i", "*", "a", "1"], ["IDMP", "p", "i", "5-5", "a", "1"],
    ["IDMP", "", "i", "*", "a", "1"], ["IDMP", "p", "", "*", "a", "1"],
    ["IDMPAUTO", "p", "*", "a", "1"], ["IDMPAUTO", "", "*", "a", "1"],
    ["IDMP", "p", "i", "IDMP", "p", "j", "*", "a", "1"], ["IDMPAUTO", "p", "IDMP", "p", "i", "*", "a", "1"],
    ["IDMP", "p", "*", "a", "1"], ["IDMP", "p", "i", "MAXLEN", "1", "*", "a", "1"],
    ["NOMKSTREAM", "IDMP", "p", "i", "*", "a", "1"], ["IDMP", "p", "i", "9-*", "a", "1"],
    ["idmp", "p", "i", "*", "a", "1"],
]
for args in IDMP:
    case("idmp-xadd/%s" % " ".join(args), [x("XADD", "s", *args), x("XADD", "s", *args)], INFO)
    case("idmp-xadd-existing/%s" % " ".join(args), FIVE, [x("XADD", "s", *args),
                                                          x("XADD", "s", *args)], INFO)
CFG = [["IDMP-DURATION", "300"], ["IDMP-MAXSIZE", "5"], ["IDMP-DURATION", "0"],
       ["IDMP-DURATION", "86401"], ["IDMP-MAXSIZE", "10001"], ["IDMP-MAXSIZE", "abc"],
       ["DURATION", "5"], ["MAXSIZE", "5"], [], ["IDMP-DURATION"], ["FOO", "1"],
       ["IDMP-DURATION", "100", "IDMP-MAXSIZE", "100"], ["IDMP-DURATION", "5", "IDMP-DURATION", "6"]]
for cfg in CFG:
    case("xcfgset/%s" % " ".join(cfg), FIVE, [x("XADD", "s", "IDMP", "p", "i", "*", "a", "1"),
                                              x("XCFGSET", "s", *cfg)], INFO)
    case("xcfgset-missing/%s" % " ".join(cfg), [x("XCFGSET", "s", *cfg)])
case("xcfgset-wrongtype", STRING, [x("XCFGSET", "str", "IDMP-DURATION", "5")])
REC = [["p", "i", "1-1"], ["p", "i", "9-9"], ["p", "i", "abc"], ["", "i", "1-1"], ["p", "i"],
       ["p", "i", "1-1", "x"]]
for rc in REC:
    case("xidmprecord/%s" % " ".join(rc), FIVE, [x("XIDMPRECORD", "s", *rc)], INFO)
case("idmp-maxsize-evicts", [x("XCFGSET", "s", "IDMP-MAXSIZE", "2")],
     [x("XADD", "s", "MKSTREAM", "*", "a", "1")],
     [x("XADD", "s", "IDMP", "p", "i%d" % i, "*", "a", "1") for i in range(4)],
     [x("XADD", "s", "IDMP", "p", "i0", "*", "a", "1")], INFO)

# -- generic -------------------------------------------------------------------------

for cmd in ("XADD", "XRANGE", "XREVRANGE", "XLEN", "XDEL", "XTRIM", "XSETID", "XINFO", "XGROUP",
            "XREADGROUP", "XREAD", "XACK", "XPENDING", "XCLAIM", "XAUTOCLAIM", "XDELEX",
            "XACKDEL", "XCFGSET", "XIDMPRECORD"):
    case("arity/%s" % cmd, [x(cmd)], [x(cmd, "s")] if cmd not in ("XLEN", "XINFO") else [])
    case("command-info/%s" % cmd, [x("COMMAND", "INFO", cmd)])
    case("command-docs/%s" % cmd, [x("COMMAND", "DOCS", cmd)])
    case("command-getkeys/%s" % cmd, [x("COMMAND", "GETKEYS", cmd, "s", "g", "c", "0", "1-1")])
case("type-encoding", FIVE, [x("TYPE", "s"), x("OBJECT", "ENCODING", "s"), x("EXISTS", "s"),
                             x("TYPE", "missing")])
for pat in ("stream-idmp-*", "stream-idmp-duration", "stream-idmp-maxsize", "stream-*",
            "stream-node-max-entries"):
    case("config-get/%s" % pat, [x("CONFIG", "GET", pat)])
case("config-set-idmp", [x("CONFIG", "SET", "stream-idmp-duration", "300"),
                         x("CONFIG", "GET", "stream-idmp-duration"),
                         x("CONFIG", "SET", "stream-idmp-maxsize", "0"),
                         x("CONFIG", "SET", "stream-idmp-duration", "100")])
case("multi-exec", [x("MULTI"), x("XADD", "s", "1-1", "a", "1"), x("XADD", "s", "1-1", "a", "1"),
                    x("XLEN", "s"), x("XINFO", "STREAM", "s"), x("EXEC")])
