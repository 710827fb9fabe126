"""A minimal, exact RESP2/RESP3 client for the integration suite.

redis-py strips the ``ERR `` prefix from errors and does not distinguish a simple
string from a bulk string or a RESP3 map from an array. The contract (SPEC.md) is
about exact replies, so tests that compare replies byte for byte (error strings,
``+OK``, RESP3 maps, the differential harness) use this client. Replies decode to:

- bulk string -> ``bytes``; null (RESP2 ``$-1``/``*-1``, RESP3 ``_``) -> ``None``
- simple string -> ``Simple``; error -> ``Err``
- integer -> ``int``; array -> ``list``
- RESP3 map -> ``RMap`` (ordered list of (key, value) pairs); set -> ``RSet``;
  double -> ``float``; boolean -> ``bool``; big number -> ``BigNum``;
  verbatim string -> ``Verbatim``; push -> ``Push``

An ``Err`` is returned, not raised: callers compare it like any other reply.
"""

import socket


class Simple:
    """A RESP simple string (``+...``)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value.encode() if isinstance(value, str) else bytes(value)

    def __eq__(self, other):
        return type(other) is Simple and other.value == self.value

    def __hash__(self):
        return hash((Simple, self.value))

    def __repr__(self):
        return "Simple(%r)" % self.value


class Err:
    """A RESP error reply (``-...``), with its full text including the prefix."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value.encode() if isinstance(value, str) else bytes(value)

    def __eq__(self, other):
        return type(other) is Err and other.value == self.value

    def __hash__(self):
        return hash((Err, self.value))

    @property
    def text(self):
        """The error text as str (lossy for non-UTF-8)."""
        return self.value.decode("utf-8", "replace")

    def __repr__(self):
        return "Err(%r)" % self.value


class RMap(list):
    """A RESP3 map: an ordered list of (key, value) tuples."""

    def __eq__(self, other):
        return type(other) is RMap and list.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __repr__(self):
        return "RMap(%s)" % list.__repr__(self)

    def keys(self):
        return [k for k, _ in self]

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default


class RSet(list):
    """A RESP3 set, in wire order."""

    def __eq__(self, other):
        return type(other) is RSet and list.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __repr__(self):
        # apart from a plain list's: a divergence between a RESP3 set and an
        # array (`~0` against `*0`) must show in the harness's message
        return "RSet(%s)" % list.__repr__(self)


class Push(list):
    """A RESP3 push message."""


class BigNum(int):
    """A RESP3 big number."""


class Verbatim(bytes):
    """A RESP3 verbatim string (format prefix stripped)."""


OK = Simple(b"OK")


def _encode_arg(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, (bytearray, memoryview)):
        return bytes(a)
    if isinstance(a, str):
        return a.encode("utf-8")
    if isinstance(a, (int, float)):
        return repr(a).encode() if isinstance(a, float) else str(a).encode()
    raise TypeError("unsupported argument type %r" % type(a))


def encode_command(args):
    """Encode an argv as a RESP multi-bulk request."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _encode_arg(a)
        parts.append(b"$%d\r\n" % len(b))
        parts.append(b)
        parts.append(b"\r\n")
    return b"".join(parts)


class ConnectionDropped(Exception):
    """The server closed the connection (or died) while a reply was expected."""


class RespClient:
    """One blocking connection speaking RESP2 (default) or RESP3."""

    def __init__(self, host, port, protocol=2, timeout=60.0):
        self.host = host
        self.port = port
        self.protocol = protocol
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")
        if protocol == 3:
            reply = self.call("HELLO", "3")
            if isinstance(reply, Err):
                raise RuntimeError("HELLO 3 failed: %r" % reply)

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- wire -------------------------------------------------------------

    def send(self, *args):
        try:
            self.sock.sendall(encode_command(args))
        except OSError as e:
            raise ConnectionDropped("send failed: %s" % e) from e

    def send_raw(self, data):
        """Send raw bytes (inline commands, broken framing)."""
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ConnectionDropped("send failed: %s" % e) from e

    def _line(self):
        try:
            line = self.rfile.readline()
        except OSError as e:
            raise ConnectionDropped("read failed: %s" % e) from e
        if not line:
            raise ConnectionDropped("connection closed by server")
        if not line.endswith(b"\r\n"):
            raise ConnectionDropped("truncated line %r" % line)
        return line[:-2]

    def _exact(self, n):
        try:
            data = self.rfile.read(n + 2)
        except OSError as e:
            raise ConnectionDropped("read failed: %s" % e) from e
        if data is None or len(data) != n + 2:
            raise ConnectionDropped("connection closed inside a bulk reply")
        return data[:-2]

    def read(self):
        """Read one reply (push messages are returned like any reply)."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Simple(rest)
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return RMap((self.read(), self.read()) for _ in range(n))
        if t == b"~":
            return RSet(self.read() for _ in range(int(rest)))
        if t == b">":
            return Push(self.read() for _ in range(int(rest)))
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return BigNum(int(rest))
        if t == b"=":
            data = self._exact(int(rest))
            return Verbatim(data[4:])
        if t == b"!":
            return Err(self._exact(int(rest)))
        raise ConnectionDropped("unknown RESP type byte in %r" % line)

    def call(self, *args):
        """Send one command and return its reply (errors as ``Err``)."""
        self.send(*args)
        return self.read()

    def pipeline(self, cmds):
        """Send several commands at once, then read all replies in order."""
        data = b"".join(encode_command(c) for c in cmds)
        self.send_raw(data)
        return [self.read() for _ in cmds]
