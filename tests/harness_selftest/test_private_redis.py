"""A private redis-server: own port, restartable, never the shared one on 6379."""

import socket
from collections.abc import Callable

import pytest
import redis

from tests.harness.redis_server import PrivateRedis


def test_restart_keeps_the_port_and_loses_the_data(
    private_redis: Callable[[], PrivateRedis],
) -> None:
    server = private_redis()
    assert server.port != 6379
    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    client = redis.Redis.from_url(server.url, socket_timeout=2)
    client.set("broker", "up")
    assert client.get("broker") == b"up"
    first_pid = server.pid
    server.restart()
    assert server.pid != first_pid
    assert client.ping()  # the client reconnects to the same address
    assert client.get("broker") is None  # nothing was persisted
    assert not list(server.folder.glob("*.rdb"))
    client.close()


def test_stop_refuses_connections(private_redis: Callable[[], PrivateRedis]) -> None:
    server = private_redis()
    server.stop()
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_timeout=1).ping()


def test_each_instance_has_its_own_port_and_folder(
    private_redis: Callable[[], PrivateRedis],
) -> None:
    first, second = private_redis(), private_redis()
    assert first.port != second.port
    assert first.folder != second.folder
    assert first.log_file.exists()
    assert not list(first.folder.glob("*.rdb"))
