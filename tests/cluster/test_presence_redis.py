"""RedisPresenceTracker: two trackers on one Redis behave as two processes sharing presence."""
from __future__ import annotations

import time

import pytest

from chatapp.realtime.presence import RedisPresenceTracker
from harness.processes import Redis, find_binary

from .conftest import require

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    require([] if find_binary("redis-server") else ["redis-server"])
    server = Redis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def processes(redis_url, request):
    prefix = f"test:{request.node.name}:"
    one = RedisPresenceTracker(redis_url, ttl=2, prefix=prefix)
    two = RedisPresenceTracker(redis_url, ttl=2, prefix=prefix)
    one.clear()
    yield one, two
    one.clear()


def test_a_user_stays_online_until_their_last_socket_on_any_process_leaves(processes):
    one, two = processes
    one.connect(sid="a1", user_id=1)
    two.connect(sid="a2", user_id=1)
    two.connect(sid="b1", user_id=2)
    assert one.enter(sid="a1", room="hall") is True
    assert two.enter(sid="a2", room="hall") is False  # already online there through process one
    assert two.enter(sid="b1", room="hall") is True
    assert one.online(room="hall") == two.online(room="hall") == [1, 2]
    assert one.sockets_of(user_id=1) == ["a1", "a2"]
    assert two.rooms_of(sid="a1") == ["hall"]
    assert one.leave(sid="a1", room="hall") is False  # a2 still there
    assert two.disconnect(sid="a2") == ["hall"]
    assert one.online(room="hall") == [2]
    assert one.sockets_of(user_id=1) == ["a1"]  # connected still, in no room


def test_a_dead_process_sockets_go_offline_and_are_swept_once(processes):
    one, two = processes
    one.connect(sid="a1", user_id=1)
    two.connect(sid="b1", user_id=2)
    one.enter(sid="a1", room="hall")
    two.enter(sid="b1", room="hall")
    one.redis.delete(one.prefix + f"alive:{two.host}")  # process two stopped beating (killed)
    assert one.online(room="hall") == [1]
    assert one.sockets_of(user_id=2) == []
    assert one.sweep() == ["hall"]
    assert one.sweep() == []
    assert one.redis.hgetall(one.prefix + "room:hall") == {"a1": f"1 {one.host}"}


def test_the_heartbeat_keeps_a_process_alive_past_its_ttl(processes):
    one, _ = processes
    one.connect(sid="a1", user_id=1)
    one.enter(sid="a1", room="hall")
    watcher = RedisPresenceTracker(one.url, ttl=2, prefix=one.prefix)
    for _ in range(3):
        one.beat()
        time.sleep(1)
    assert watcher.online(room="hall") == [1]
    time.sleep(2.2)  # no beat for longer than the TTL
    assert watcher.online(room="hall") == []
