"""A local Redis Cluster of real redis-server processes, each with the module.

``LocalCluster(masters=3, replicas=1)`` starts ``masters * (1 + replicas)``
nodes on 127.0.0.1 (each port ``p`` with its cluster bus port ``p + 10000``
free), joins them with ``redis-cli --cluster create ... --cluster-replicas``,
and waits until every node sees a healthy cluster and every replica is in
sync. ``stop()`` stops every node by PID and removes the directories.

The port range is ``IDMP_TEST_PORTS`` (see server.py).
"""

import os
import random
import socket
import subprocess
import time

from redis.crc import key_slot

import server
from resp import Err, RespClient
from server import HOST, RedisServer

SLOTS = 16384


def _bindable(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def cluster_port():
    """A port ``p`` in the test range with ``p`` and ``p + 10000`` both free."""
    lo, hi = server._port_range()
    ports = list(range(lo, hi + 1))
    random.shuffle(ports)
    for p in ports:
        if p in server._used_ports or p + 10000 > 65535:
            continue
        if _bindable(p) and _bindable(p + 10000):
            server._used_ports.add(p)
            return p
    raise RuntimeError("no free port pair (p, p+10000) in %d-%d" % (lo, hi))


_tags = {}


def key_in_slot(slot, name):
    """A key ``{tag}name`` that hashes to ``slot``."""
    tag = _tags.get(slot)
    if tag is None:
        i = 0
        while key_slot(("t%d" % i).encode()) != slot:
            i += 1
        tag = _tags[slot] = "t%d" % i
    return "{%s}%s" % (tag, name)


class Node:
    """One line of CLUSTER NODES."""

    def __init__(self, line):
        f = line.split()
        self.id = f[0]
        self.port = int(f[1].split("@")[0].rsplit(":", 1)[1])
        self.flags = set(f[2].split(","))
        self.master_id = None if f[3] == "-" else f[3]
        self.slots = set()
        for s in f[8:]:
            if s.startswith("["):
                continue  # a slot in migration ([slot->-id] / [slot-<-id])
            if "-" in s:
                a, b = s.split("-")
                self.slots.update(range(int(a), int(b) + 1))
            else:
                self.slots.add(int(s))

    @property
    def is_master(self):
        return "master" in self.flags


class LocalCluster:
    def __init__(self, masters=3, replicas=1, module_args=None, node_timeout=5000):
        self.n_masters = masters
        self.n_replicas = replicas
        self.servers = {}
        self.module_args = dict(module_args or {})
        self.node_timeout = node_timeout
        self._conns = {}

    # -- lifecycle ----------------------------------------------------------

    def start(self, timeout=60):
        for _ in range(self.n_masters * (1 + self.n_replicas)):
            s = RedisServer(module=True, module_args=self.module_args, extra=[
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(self.node_timeout),
                "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0",
            ])
            s.port = cluster_port()
            self.servers[s.port] = s
            s.start()
        addrs = ["%s:%d" % (HOST, p) for p in self.servers]
        out = subprocess.run(
            ["redis-cli", "--cluster", "create"] + addrs
            + ["--cluster-replicas", str(self.n_replicas), "--cluster-yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
        )
        text = out.stdout.decode("utf-8", "replace")
        assert out.returncode == 0 and "[OK] All 16384 slots covered" in text, text
        self.wait_healthy(timeout)
        return self

    def stop(self):
        for c in self._conns.values():
            try:
                c.close()
            except OSError:
                pass
        self._conns.clear()
        for s in self.servers.values():
            s.cleanup()

    def logs(self, n=30):
        return "\n".join("--- node %d\n%s" % (p, s.log_tail(n))
                         for p, s in self.servers.items())

    # -- clients ------------------------------------------------------------

    def conn(self, port):
        """A cached exact RESP client on one node."""
        c = self._conns.get(port)
        if c is None:
            c = self._conns[port] = RespClient(HOST, port, timeout=30)
        return c

    def call(self, port, *args):
        return self.conn(port).call(*args)

    def call_following(self, port, *args, redirects=None):
        """Send a command to ``port`` and follow -MOVED/-ASK like a cluster
        client (ASKING before the command after an -ASK). Every redirection
        kind (b"MOVED" / b"ASK") is appended to ``redirects``."""
        asking = False
        for _ in range(8):
            c = self.conn(port)
            if asking:
                assert c.call("ASKING").value == b"OK"
            r = c.call(*args)
            if isinstance(r, Err) and r.value.split(b" ", 1)[0] in (b"MOVED", b"ASK"):
                kind, _slot, addr = r.value.split()
                if redirects is not None:
                    redirects.append(kind)
                port = int(addr.rsplit(b":", 1)[1])
                asking = kind == b"ASK"
                continue
            return r
        raise AssertionError("redirection loop for %r" % (args,))

    # -- topology -----------------------------------------------------------

    def nodes(self, port=None):
        """CLUSTER NODES as seen by ``port`` (default: any node), by port."""
        port = port or next(iter(self.servers))
        text = self.call(port, "CLUSTER", "NODES").decode()
        return {n.port: n for n in (Node(l) for l in text.splitlines() if l.strip())}

    def masters(self):
        return sorted((n for n in self.nodes().values() if n.is_master),
                      key=lambda n: min(n.slots) if n.slots else SLOTS)

    def replicas_of(self, master):
        return [n for n in self.nodes().values() if n.master_id == master.id]

    def owner(self, key):
        """The port of the master serving ``key`` (by CLUSTER SLOTS)."""
        slot = key_slot(key.encode() if isinstance(key, str) else key)
        for n in self.nodes().values():
            if n.is_master and slot in n.slots:
                return n.port
        raise AssertionError("slot %d not covered" % slot)

    def migrate_slot(self, slot, src, dst):
        """Moves ``slot`` from master ``src`` to master ``dst`` (Node objects)
        as redis-cli does: IMPORTING/MIGRATING, MIGRATE of its keys, then
        SETSLOT NODE on the target, the source and every other master."""
        assert self.call(dst.port, "CLUSTER", "SETSLOT", slot, "IMPORTING", src.id).value == b"OK"
        assert self.call(src.port, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.id).value == b"OK"
        keys = self.call(src.port, "CLUSTER", "GETKEYSINSLOT", slot, "1000")
        if keys:
            r = self.call(src.port, "MIGRATE", HOST, dst.port, "", "0", "5000", "KEYS", *keys)
            assert getattr(r, "value", None) == b"OK", r
        others = [n.port for n in self.masters() if n.port not in (src.port, dst.port)]
        for port in [dst.port, src.port] + others:
            r = self.call(port, "CLUSTER", "SETSLOT", slot, "NODE", dst.id)
            assert r.value == b"OK", r
        return keys

    def wait_healthy(self, timeout=60):
        """Every node: cluster_state ok, all nodes known, the same slot map;
        every replica linked to its master and in sync."""
        deadline = time.time() + timeout
        last = ""
        total = len(self.servers)
        while time.time() < deadline:
            try:
                maps = []
                ok = True
                for p in self.servers:
                    info = self.call(p, "CLUSTER", "INFO").decode()
                    if "cluster_state:ok" not in info or \
                            "cluster_known_nodes:%d" % total not in info:
                        ok, last = False, "node %d: %s" % (p, info)
                        break
                    view = self.nodes(p)
                    maps.append(sorted((n.port, n.is_master, n.master_id,
                                        tuple(sorted(n.slots)))
                                       for n in view.values()))
                    if any("fail" in n.flags or "fail?" in n.flags
                           or "handshake" in n.flags for n in view.values()):
                        ok, last = False, "node %d sees a failing node" % p
                        break
                if ok and all(m == maps[0] for m in maps):
                    if self.replicas_in_sync():
                        return
                    last = "replicas not in sync"
                elif ok:
                    last = "nodes disagree on the slot map"
            except (OSError, AssertionError) as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError("cluster not healthy: %s\n%s" % (last, self.logs()))

    def replicas_in_sync(self):
        """True when every replica's link is up and at its master's offset."""
        view = self.nodes()
        for n in view.values():
            if n.is_master:
                continue
            info = self.call(n.port, "INFO", "replication").decode()
            if "master_link_status:up" not in info or \
                    "master_sync_in_progress:0" not in info:
                return False
            master = next((m for m in view.values() if m.id == n.master_id), None)
            if master is None:
                return False
            minfo = self.call(master.port, "INFO", "replication").decode()
            if _field(info, "slave_repl_offset") != _field(minfo, "master_repl_offset"):
                return False
        return True

    def wait_replicas_in_sync(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.replicas_in_sync():
                return
            time.sleep(0.05)
        raise AssertionError("replicas not in sync\n" + self.logs())


def _field(info, name):
    for line in info.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def redis_cli(*args, timeout=120):
    """Run ``redis-cli`` with ``args``; returns (returncode, output)."""
    out = subprocess.run(["redis-cli"] + [str(a) for a in args],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=timeout, env=dict(os.environ))
    return out.returncode, out.stdout.decode("utf-8", "replace")
