"""Differential harness (issue 12): native Redis 8.6.3 against the module host.

Native 8.6.3 (``ORACLE86_SERVER``, default: the build ``servers/get.sh redis-8.6.3``
caches; see ``server.oracle86_binary``) is the authority on every reply of a module stream. The same commands go
to it and to ``REDIS_SERVER`` (Redis 7.0.15 by default, or Valkey) with the
module loaded, where every new stream is a module stream.

Replies are compared exactly: ``ExactClient`` decodes RESP so that two replies
are equal only when their bytes are (a RESP2 null bulk ``$-1`` and null array
``*-1`` stay apart, simple strings apart from bulk strings, RESP3 maps apart from
arrays, errors with their full text). Before the comparison, and only there:

- auto-generated IDs (the reply of an ``XADD`` whose ID argument is ``*``) are
  replaced by ``<auto-N>``, N their order of generation on that server: the two
  servers' clocks differ by construction;
- times that depend on the clock are masked (``<ms>``): XINFO CONSUMERS
  ``idle``/``inactive``, XINFO STREAM FULL consumers' ``seen-time``/
  ``active-time`` and PEL delivery times, XPENDING's idle times, XREADGROUP
  CLAIM's idle times. A value of -1 (never active) is not masked: it is not a
  time.

Nothing else is masked: no field dropped, no address-dependent value exists in
these replies. One order is normalised: ``CONFIG GET`` with more than one
name or a glob answers its pairs in the order of the server's config dict,
whose hash seed is random per process (two native 8.6.3 processes differ), so
its pairs are sorted on both sides; names and values still compare exactly.
So is the order of a command's subcommands in ``COMMAND INFO`` and ``COMMAND
DOCS`` (XINFO, XGROUP): 8.6.3 lists them in the order of its command dict,
seeded at random per process too (17 orders of XINFO's in 40 starts), so they
are sorted by name on both sides; each subcommand's own reply still compares
exactly.
"""

import pytest

from resp import BigNum, Err, Push, RespClient, RMap, RSet, Simple, Verbatim


class Null:
    """A RESP null that remembers its encoding (``$-1``, ``*-1`` or RESP3 ``_``)."""

    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def __eq__(self, other):
        return type(other) is Null and other.kind == self.kind

    def __hash__(self):
        return hash((Null, self.kind))

    def __repr__(self):
        return "Null(%r)" % self.kind


class ExactClient(RespClient):
    """RespClient whose decoded replies are equal only when their bytes are."""

    def read(self):
        line = self._line()
        if line in (b"$-1", b"*-1") or line[:1] == b"_":
            return Null(line)
        t, rest = line[:1], line[1:]
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        if t == b"%":
            return RMap((self.read(), self.read()) for _ in range(int(rest)))
        if t in (b"~", b">"):
            kind = RSet if t == b"~" else Push
            return kind(self.read() for _ in range(int(rest)))
        if t == b"$":
            return self._exact(int(rest))
        if t == b"=":
            return Verbatim(self._exact(int(rest)))  # format prefix kept: exact
        if t == b"!":
            return Err(self._exact(int(rest)))
        if t == b",":
            return ("double", rest)  # the digits as sent
        return _SCALARS[t](rest) if t in _SCALARS else Err(b"<unknown RESP type %r>" % line)


_SCALARS = {
    b"+": Simple, b"-": Err, b":": int, b"#": lambda r: r == b"t",
    b"(": lambda r: BigNum(int(r)),
}


def is_err(reply):
    return isinstance(reply, Err)


# -- normalisation ---------------------------------------------------------

MASK = b"<ms>"


def _pairs(x):
    if isinstance(x, RMap):
        return list(x), RMap
    if isinstance(x, list) and len(x) % 2 == 0:
        return [(x[i], x[i + 1]) for i in range(0, len(x), 2)], list
    return None, None


def _rebuild(pairs, kind):
    if kind is RMap:
        return RMap(pairs)
    out = []
    for k, v in pairs:
        out += [k, v]
    return out


def _mask_fields(x, names):
    pairs, kind = _pairs(x)
    if pairs is None:
        return x
    return _rebuild([(k, MASK if k in names and isinstance(v, int) and v >= 0 else v)
                     for k, v in pairs], kind)


def _mask_pel(entries, pos):
    if not isinstance(entries, list):
        return entries
    out = []
    for e in entries:
        if isinstance(e, list) and len(e) > pos and isinstance(e[pos], int):
            e = list(e)
            e[pos] = MASK
        out.append(e)
    return out


def _mask_full_groups(groups):
    if not isinstance(groups, list):
        return groups
    out = []
    for g in groups:
        pairs, kind = _pairs(g)
        if pairs is None:
            out.append(g)
            continue
        new = []
        for k, v in pairs:
            if k == b"pending":
                v = _mask_pel(v, 2)
            elif k == b"consumers" and isinstance(v, list):
                cs = []
                for c in v:
                    c = _mask_fields(c, (b"seen-time", b"active-time"))
                    cp, ck = _pairs(c)
                    if cp is not None:
                        c = _rebuild([(a, _mask_pel(b, 1) if a == b"pending" else b)
                                      for a, b in cp], ck)
                    cs.append(c)
                v = cs
            new.append((k, v))
        out.append(_rebuild(new, kind))
    return out


def _upper(a):
    return a.upper() if isinstance(a, str) else (a.decode("latin-1").upper()
                                                if isinstance(a, bytes) else "")


def mask_times(argv, reply):
    """Mask the clock-dependent values of one reply (module docstring)."""
    if is_err(reply) or not argv:
        return reply
    name = _upper(argv[0])
    sub = _upper(argv[1]) if len(argv) > 1 else ""
    if name == "XINFO" and sub == "CONSUMERS" and isinstance(reply, list):
        return [_mask_fields(c, (b"idle", b"inactive")) for c in reply]
    if name == "XINFO" and sub == "STREAM":
        pairs, kind = _pairs(reply)
        if pairs is None:
            return reply
        return _rebuild([(k, _mask_full_groups(v) if k == b"groups" else v)
                         for k, v in pairs], kind)
    if name == "XPENDING" and len(argv) > 3 and isinstance(reply, list):
        return _mask_pel(reply, 2)
    if name == "XREADGROUP" and "CLAIM" in [_upper(a) for a in argv]:
        return _mask_claim(reply)
    if name == "CONFIG" and sub == "GET":
        pairs, kind = _pairs(reply)
        if pairs is not None:
            return _rebuild(sorted(pairs), kind)
    if name == "COMMAND" and sub == "INFO" and isinstance(reply, list):
        return [_sort_info_subcommands(c) for c in reply]
    if name == "COMMAND" and sub == "DOCS":
        pairs, kind = _pairs(reply)
        if pairs is not None:
            return _rebuild([(k, _sort_docs_subcommands(v)) for k, v in pairs], kind)
    return reply


def _sort_info_subcommands(entry):
    """A COMMAND INFO entry with its subcommands (the 10th element, each an
    entry whose first element is its name) sorted by name."""
    if not isinstance(entry, list) or len(entry) < 10 or not isinstance(entry[9], list):
        return entry
    subs = entry[9]
    ordered = sorted(subs, key=lambda e: e[0] if isinstance(e, list) and e else b"")
    return entry[:9] + [type(subs)(ordered) if type(subs) is not list else ordered] + entry[10:]


def _sort_docs_subcommands(doc):
    """A COMMAND DOCS document with its `subcommands` pairs sorted by name."""
    pairs, kind = _pairs(doc)
    if pairs is None:
        return doc
    out = []
    for k, v in pairs:
        if k == b"subcommands":
            sub, sub_kind = _pairs(v)
            if sub is not None:
                v = _rebuild(sorted(sub, key=lambda kv: kv[0]), sub_kind)
        out.append((k, v))
    return _rebuild(out, kind)


def _mask_claim(reply):
    """XREADGROUP ... CLAIM: entries are [id, fields, idle, delivery-count]."""
    def streams(x):
        if isinstance(x, RMap):
            return RMap((k, _mask_pel(v, 2)) for k, v in x)
        if isinstance(x, list):
            return [[s[0], _mask_pel(s[1], 2)] if isinstance(s, list) and len(s) == 2 else s
                    for s in x]
        return x
    return streams(reply)


class Side:
    """One server's connection plus its auto-ID map."""

    def __init__(self, label, conn):
        self.label = label
        self.conn = conn
        self.auto = {}

    def reset(self):
        self.auto = {}

    def run(self, argv):
        reply = self.conn.call(*argv)
        if (argv and _upper(argv[0]) == "XADD" and "*" in [
                a if isinstance(a, str) else a.decode("latin-1") for a in argv[2:]]
                and isinstance(reply, bytes) and reply not in self.auto):
            self.auto[reply] = b"<auto-%d>" % len(self.auto)
        return reply

    def normalize(self, argv, reply):
        return self._ids(mask_times(argv, reply))

    def _ids(self, x):
        if isinstance(x, bytes) and not isinstance(x, Err):
            return self.auto.get(x, x)
        if isinstance(x, RMap):
            return RMap((self._ids(k), self._ids(v)) for k, v in x)
        if isinstance(x, list):
            return type(x)(self._ids(e) for e in x) if type(x) is not list else \
                [self._ids(e) for e in x]
        return x


def show(argv):
    return " ".join(a if isinstance(a, str) else repr(a) for a in argv)


def compare_sequence(native, module, commands, history=None):
    """Send each command to both sides and compare the normalised replies.

    Returns the list of (argv, reply) of native 8.6.3. Fails with the first
    divergence and the commands before it."""
    history = [] if history is None else history
    out = []
    for argv in commands:
        history.append(show(argv))
        want = native.run(argv)
        got = module.run(argv)
        nw, ng = native.normalize(argv, want), module.normalize(argv, got)
        if nw != ng:
            pytest.fail("divergence at: %s\n  native 8.6.3: %r\n  module:       %r\n"
                        "commands:\n  %s" % (show(argv), want, got, "\n  ".join(history[-20:])))
        out.append((argv, want))
    return out
