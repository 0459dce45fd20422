"""Redis deployments of the tests' own: a Cluster, a Sentinel-watched master, TLS and ACL servers.

Every server listens on 127.0.0.1 on a port the kernel handed out, keeps its files in a
pytest temporary folder and is stopped by the fixture that started it; the shared Redis
on 6379 is never touched. A server that does not start fails the test with its log,
never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis

#: Seconds a topology gets to come up (each wait), and a Sentinel fail-over to complete.
START_TIMEOUT = 20.0
FAILOVER_TIMEOUT = 20.0
#: The name the Sentinels know the master by.
MASTER_NAME = "mymaster"


@dataclass
class Server:
    """One redis-server (or Sentinel) process; its output goes to ``log``."""

    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]
    #: Stopped on purpose (by a test or the fixture), so its exit is no failure to start.
    stopped: bool = False

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s); a stopped one is left alone."""
        self.stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, **options: Any) -> redis.Redis:  # type: ignore[type-arg,unused-ignore]
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=5, **options)

    def command(self, *args: str, **options: Any) -> Any:
        """The decoded reply to one command, sent on a connection of its own."""
        client = self.client(decode_responses=True, **options)
        try:
            return client.execute_command(*args)  # type: ignore[no-untyped-call]
        finally:
            client.close()

    def answers(self, **options: Any) -> bool:
        return bool(self.command("PING", **options))

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} (port {self.port}), {self.log} ---\n" + "\n".join(lines[-30:])


@dataclass
class Servers:
    """The processes of one topology: started together, stopped together, logged together on failure."""

    folder: Path
    started: list[Server] = field(default_factory=list)

    def start(self, name: str, *args: str, port: int | None = None) -> Server:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)", pytrace=False)
        port = port or free_port()
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen([binary, *args], stdout=output, stderr=subprocess.STDOUT, cwd=self.folder)
        server = Server(name, port, log, process)
        self.started.append(server)
        return server

    def wait(self, what: str, ready: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
        """Poll ``ready`` until it is true; else stop everything and fail with every server's log."""
        deadline = time.monotonic() + timeout
        while True:
            exited = [server.name for server in self.started
                      if not server.stopped and server.process.poll() is not None]
            if exited:
                problem = f"{', '.join(exited)} exited"
                break
            try:
                if ready():
                    return
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                problem = f"not within {timeout:.0f} s"
                break
            time.sleep(0.05)
        logs = "\n".join(server.tail() for server in self.started)
        self.stop()
        pytest.fail(f"{what}: {problem}\n{logs}", pytrace=False)

    def stop(self) -> None:
        for server in self.started:
            server.stop()

    def by_port(self, port: int) -> Server:
        return next(server for server in self.started if server.port == port)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_args(folder: Path, port: int, *extra: str) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "no",
            *extra]


# --- Redis Cluster ------------------------------------------------------------------------


@dataclass
class ClusterTopology:
    """Three masters without replicas, every slot covered."""

    servers: Servers

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers.started]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    @property
    def settings(self) -> dict[str, Any]:
        """The settings keys that name this Cluster (SESSION_REDIS_CLUSTER with any node's URL)."""
        return {"SESSION_REDIS_URL": f"redis://127.0.0.1:{self.ports[1]}", "SESSION_REDIS_CLUSTER": True}


    def node_id(self, port: int) -> str:
        """The Cluster's id of the node on ``port``."""
        return str(self.servers.by_port(port).command("CLUSTER", "MYID"))

    def slot_owners(self) -> dict[int, int]:
        """Slot -> the port of the master that serves it."""
        owners = {}
        for first, last, (_, port, *_) in self.servers.started[0].command("CLUSTER", "SLOTS"):
            owners.update(dict.fromkeys(range(first, last + 1), int(port)))
        return owners

    def reshard(self, from_port: int, to_port: int, slots: int, pipeline: int = 10) -> subprocess.CompletedProcess[str]:
        """Move ``slots`` slots from one master to another with ``redis-cli --cluster reshard``,
        ``pipeline`` keys per ``MIGRATE``."""
        return subprocess.run(
            [_redis_cli(self.servers), "--cluster", "reshard", f"127.0.0.1:{from_port}",
             "--cluster-from", self.node_id(from_port), "--cluster-to", self.node_id(to_port),
             "--cluster-slots", str(slots), "--cluster-pipeline", str(pipeline), "--cluster-yes"],
            capture_output=True, text=True, timeout=120, cwd=self.servers.folder)


def _redis_cli(servers: Servers) -> str:
    cli = shutil.which("redis-cli")
    if cli is None:
        servers.stop()
        pytest.fail("redis-cli is not installed (apt-get install redis-tools)", pytrace=False)
    return cli


def start_cluster(folder: Path) -> ClusterTopology:
    servers = Servers(folder)
    for n in range(3):
        port = free_port()
        servers.start(f"cluster-node-{n}", *_server_args(
            folder, port, "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
            "--cluster-port", str(free_port()), "--cluster-node-timeout", "2000"), port=port)
    for server in servers.started:
        servers.wait(f"{server.name} answering PING", server.answers)
    create = subprocess.run(
        [_redis_cli(servers), "--cluster", "create", *(f"127.0.0.1:{server.port}" for server in servers.started),
         "--cluster-replicas", "0", "--cluster-yes"], capture_output=True, text=True, timeout=60, cwd=folder)
    if create.returncode != 0:
        logs = "\n".join(server.tail() for server in servers.started)
        servers.stop()
        pytest.fail(f"redis-cli --cluster create failed:\n{create.stdout}{create.stderr}\n{logs}", pytrace=False)
    for server in servers.started:
        servers.wait(f"{server.name} reporting cluster_state:ok", partial(_cluster_ok, server))
    return ClusterTopology(servers)


def _cluster_ok(node: Server) -> bool:
    return "cluster_state:ok" in node.command("CLUSTER", "INFO")


@pytest.fixture
def redis_cluster_to_reshard(tmp_path: Path) -> Iterator[ClusterTopology]:
    """A Redis Cluster of the test's own, for a test that moves its slots; stopped after the test."""
    topology = start_cluster(tmp_path)
    yield topology
    topology.servers.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterTopology]:
    """A 3-master Redis Cluster of the test session's own; stopped after it."""
    topology = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield topology
    topology.servers.stop()


# --- Sentinel -----------------------------------------------------------------------------


@dataclass
class SentinelTopology:
    """A master, one replica and three Sentinels (quorum 2) watching them."""

    servers: Servers
    sentinel_ports: list[int]

    @property
    def url(self) -> str:
        return f"redis+sentinel://{','.join(f'127.0.0.1:{port}' for port in self.sentinel_ports)}/{MASTER_NAME}/0"

    @property
    def settings(self) -> dict[str, Any]:
        """The settings keys that name these Sentinels and their master."""
        return {"SESSION_REDIS_SENTINELS": [f"127.0.0.1:{port}" for port in self.sentinel_ports],
                "SESSION_REDIS_SENTINEL_MASTER": MASTER_NAME}

    def master_port(self, sentinel: int = 0) -> int:
        """The master's port, as one Sentinel reports it."""
        _, port = self.servers.by_port(self.sentinel_ports[sentinel]).command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return int(port)

    def wait_for_failover(self, old_port: int) -> int:
        """Wait (at most FAILOVER_TIMEOUT) until every Sentinel names a master other than ``old_port``."""
        self.servers.wait(f"the Sentinels promoting a replica of the master on port {old_port}",
                          lambda: all(self.master_port(n) != old_port for n in range(len(self.sentinel_ports))),
                          timeout=FAILOVER_TIMEOUT)
        return self.master_port()


def _sentinel_config(folder: Path, port: int, master_port: int) -> Path:
    config = folder / f"sentinel-{port}.conf"
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                      f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n"
                      f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                      f"sentinel failover-timeout {MASTER_NAME} 5000\n")
    return config


def _sentinel_sees_everyone(server: Server) -> bool:
    state = server.command("SENTINEL", "MASTER", MASTER_NAME)
    fields = dict(zip(state[::2], state[1::2], strict=True)) if isinstance(state, list) else state
    return int(fields["num-slaves"]) == 1 and int(fields["num-other-sentinels"]) == 2


def start_sentinels(folder: Path) -> SentinelTopology:
    """Start the topology and wait until each Sentinel knows the replica and the other two (a fail-over needs both)."""
    servers = Servers(folder)
    master_port = free_port()
    # No diskless-sync delay: the replica syncs at once instead of after 5 s.
    master = servers.start("master", *_server_args(folder, master_port, "--repl-diskless-sync-delay", "0"),
                           port=master_port)
    replica_port = free_port()
    replica = servers.start("replica", *_server_args(folder, replica_port, "--replicaof", "127.0.0.1",
                                                     str(master_port)), port=replica_port)
    servers.wait("the replica in sync with the master",
                 lambda: replica.command("INFO", "replication").get("master_link_status") == "up")
    sentinel_ports = []
    for n in range(3):
        port = free_port()
        servers.start(f"sentinel-{n}", str(_sentinel_config(folder, port, master.port)), "--sentinel", port=port)
        sentinel_ports.append(port)
    for port in sentinel_ports:
        sentinel = servers.by_port(port)
        servers.wait(f"{sentinel.name} knowing the replica and the other Sentinels",
                     partial(_sentinel_sees_everyone, sentinel))
    return SentinelTopology(servers, sentinel_ports)


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelTopology]:
    """A Sentinel topology of the test session's own, never failed over; stopped after the session."""
    topology = start_sentinels(tmp_path_factory.mktemp("redis-sentinel"))
    yield topology
    topology.servers.stop()


@pytest.fixture
def redis_sentinel_to_fail_over(tmp_path: Path) -> Iterator[SentinelTopology]:
    """A Sentinel topology of the test's own, for a test that stops its master; stopped after the test."""
    topology = start_sentinels(tmp_path)
    yield topology
    topology.servers.stop()


# --- TLS and ACL servers -------------------------------------------------------------------


@dataclass
class TlsServer:
    """A redis-server that speaks TLS only; ``ca_file`` is its self-signed certificate."""

    server: Server
    ca_file: Path

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.server.port}/0"


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "redis.crt", folder / "redis.key"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        pytest.fail(f"openssl could not make a test certificate:\n{made.stderr}", pytrace=False)
    return cert, key


@pytest.fixture
def redis_tls(tmp_path: Path) -> Iterator[TlsServer]:
    """A TLS-only redis-server with a self-signed certificate for 127.0.0.1; stopped after the test."""
    cert, key = _self_signed_certificate(tmp_path)
    servers = Servers(tmp_path)
    port = free_port()
    server = servers.start("tls", *_server_args(tmp_path, 0, "--tls-port", str(port), "--tls-cert-file", str(cert),
                                                "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
                                                "--tls-auth-clients", "no"), port=port)
    servers.wait("the TLS server answering PING", partial(server.answers, ssl=True, ssl_ca_certs=str(cert)))
    yield TlsServer(server, cert)
    servers.stop()


@dataclass
class AclServer:
    """A redis-server with an ACL user ``alice`` whose password is ``password``, limited to the test prefix."""

    server: Server
    password: str = "alice-s3cret-pa55"

    def url(self, password: str | None = None) -> str:
        return f"redis://alice:{password or self.password}@127.0.0.1:{self.server.port}/0"


@pytest.fixture
def redis_acl(tmp_path: Path) -> Iterator[AclServer]:
    """A redis-server with the ACL user ``alice``: keys under ``wsgisession-test-``, no dangerous commands."""
    servers = Servers(tmp_path)
    port = free_port()
    server = servers.start("acl", *_server_args(tmp_path, port, "--user", "alice", "on", f">{AclServer.password}",
                                                "~wsgisession-test-*", "+@all", "-@dangerous"), port=port)
    servers.wait("the ACL server answering PING", server.answers)
    yield AclServer(server)
    servers.stop()
