"""Who is online where: the sockets of each user in each room.

One process keeps this in memory (PresenceTracker). Several processes behind one message
queue share it in Redis (RedisPresenceTracker), with a heartbeat per process, so that the
sockets of a process that was killed (and so could not clean up) go offline by themselves.
`presence` is the one tracker every caller uses; create_app() picks its backend.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)


class PresenceTracker:
    """In this process: counts sockets per (room, user), so a user with two tabs stays online until both leave."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything (a fresh process, or a fresh test)."""
        self._rooms: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._socket_rooms: dict[str, set[str]] = defaultdict(set)
        self._user_sockets: dict[int, set[str]] = defaultdict(set)
        self._socket_user: dict[str, int] = {}

    def connect(self, *, sid: str, user_id: int) -> None:
        """Remember that socket sid belongs to user_id."""
        with self._lock:
            self._user_sockets[user_id].add(sid)
            self._socket_user[sid] = user_id

    def enter(self, *, sid: str, room: str) -> bool:
        """Mark sid present in room; True if its user was not online there before."""
        with self._lock:
            user_id = self._socket_user.get(sid)
            if user_id is None:
                return False
            sockets = self._rooms[room][user_id]
            was_online = bool(sockets)
            sockets.add(sid)
            self._socket_rooms[sid].add(room)
            return not was_online

    def leave(self, *, sid: str, room: str) -> bool:
        """Mark sid gone from room; True if its user is now offline there."""
        with self._lock:
            return self._leave_locked(sid=sid, room=room)

    def _leave_locked(self, *, sid: str, room: str) -> bool:
        user_id = self._socket_user.get(sid)
        self._socket_rooms.get(sid, set()).discard(room)
        if user_id is None or room not in self._rooms:
            return False
        sockets = self._rooms[room].get(user_id)
        if not sockets or sid not in sockets:
            return False
        sockets.discard(sid)
        if sockets:
            return False
        del self._rooms[room][user_id]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def disconnect(self, *, sid: str) -> list[str]:
        """Forget sid; return the rooms where its user went offline."""
        with self._lock:
            gone = [room for room in list(self._socket_rooms.get(sid, ())) if self._leave_locked(sid=sid, room=room)]
            self._socket_rooms.pop(sid, None)
            user_id = self._socket_user.pop(sid, None)
            if user_id is not None:
                self._user_sockets[user_id].discard(sid)
                if not self._user_sockets[user_id]:
                    del self._user_sockets[user_id]
            return gone

    def online(self, *, room: str) -> list[int]:
        """The ids of users with at least one socket in room."""
        with self._lock:
            return sorted(self._rooms.get(room, {}).keys())

    def rooms_of(self, *, sid: str) -> list[str]:
        """The rooms sid is present in."""
        with self._lock:
            return sorted(self._socket_rooms.get(sid, ()))

    def sockets_of(self, *, user_id: int) -> list[str]:
        """Every open socket of user_id in this process."""
        with self._lock:
            return sorted(self._user_sockets.get(user_id, ()))


class Tracker(Protocol):
    """What every presence backend answers (the methods of PresenceTracker)."""

    def clear(self) -> None: ...
    def connect(self, *, sid: str, user_id: int) -> None: ...
    def enter(self, *, sid: str, room: str) -> bool: ...
    def leave(self, *, sid: str, room: str) -> bool: ...
    def disconnect(self, *, sid: str) -> list[str]: ...
    def online(self, *, room: str) -> list[int]: ...
    def rooms_of(self, *, sid: str) -> list[str]: ...
    def sockets_of(self, *, user_id: int) -> list[str]: ...


class RedisPresenceTracker:
    """Shared by every process on one Redis: the same answers as PresenceTracker, for all processes.

    Keys (under `prefix`): `room:R` hash sid -> "user host"; `user:U` hash sid -> host;
    `sid:S` hash {user, host}; `sidrooms:S` set of rooms; `host:H` set of sids; `alive:H`
    a key that expires `ttl` seconds after the host's last heartbeat; `hosts` set of hosts.
    Entries of a host whose `alive:H` expired are ignored at once and swept by the next
    heartbeat of any live process, which then reports the rooms where someone went offline.
    """

    def __init__(
        self, url: str, *, ttl: int = 15, prefix: str = "chatapp:presence:",
        start_background_task: Callable[..., Any] | None = None, sleep: Callable[[float], Any] | None = None,
        on_swept: Callable[[list[str]], None] | None = None,
    ) -> None:
        import redis

        self.url = url
        # decode_responses: every answer is str, which redis-py's types (bytes | str) cannot say.
        self.redis: Any = redis.Redis.from_url(url, decode_responses=True)
        self.ttl = max(2, int(ttl))
        self.prefix = prefix
        self.host = uuid.uuid4().hex
        self.on_swept = on_swept
        self._start_background_task = start_background_task
        self._sleep = sleep
        self._heartbeat_started = False
        self._start_lock = threading.Lock()

    def _key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(part) for part in parts)

    # -- liveness --------------------------------------------------------------------

    def beat(self) -> None:
        """Say this process is alive for another ttl seconds."""
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("alive", self.host), "1", ex=self.ttl)
            pipe.sadd(self._key("hosts"), self.host)
            pipe.execute()

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat_started:
            return
        with self._start_lock:
            if self._heartbeat_started:
                return
            self.beat()
            if self._start_background_task is not None:
                self._start_background_task(self._heartbeat_loop)
            self._heartbeat_started = True

    def _heartbeat_loop(self) -> None:
        sleep = self._sleep or __import__("time").sleep
        while True:
            sleep(self.ttl / 3)
            try:
                self.beat()
                rooms = self.sweep()
                if rooms and self.on_swept is not None:
                    self.on_swept(rooms)
            except Exception:  # noqa: BLE001 - Redis may be away for a moment; try again next beat
                log.exception("presence heartbeat failed")

    def _alive_hosts(self, hosts: set[str]) -> set[str]:
        hosts = {host for host in hosts if host}
        if not hosts:
            return set()
        ordered = sorted(hosts)
        flags = self.redis.mget([self._key("alive", host) for host in ordered])
        return {host for host, flag in zip(ordered, flags, strict=True) if flag is not None or host == self.host}

    def sweep(self) -> list[str]:
        """Forget the sockets of every dead process; return the rooms whose presence changed."""
        changed: set[str] = set()
        for host in self.redis.smembers(self._key("hosts")):
            if host == self.host or self.redis.exists(self._key("alive", host)):
                continue
            if not self.redis.srem(self._key("hosts"), host):
                continue  # another live process is sweeping it
            for sid in self.redis.smembers(self._key("host", host)):
                changed.update(self._forget(sid))
            self.redis.delete(self._key("host", host))
        return sorted(changed)

    # -- the tracker interface -----------------------------------------------------------

    def clear(self) -> None:
        """Forget everything under this prefix (a fresh test)."""
        keys = list(self.redis.scan_iter(match=self.prefix + "*", count=500))
        for start in range(0, len(keys), 500):
            self.redis.delete(*keys[start:start + 500])
        if self._heartbeat_started:
            self.beat()

    def connect(self, *, sid: str, user_id: int) -> None:
        """Remember that socket sid (on this process) belongs to user_id."""
        self._ensure_heartbeat()
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key("sid", sid), mapping={"user": user_id, "host": self.host})
            pipe.sadd(self._key("host", self.host), sid)
            pipe.hset(self._key("user", user_id), sid, self.host)
            pipe.execute()

    def _live_users(self, entries: list[str]) -> set[int]:
        parsed = [entry.split(" ", 1) for entry in entries if " " in entry]
        alive = self._alive_hosts({host for _, host in parsed})
        return {int(user) for user, host in parsed if host in alive}

    def enter(self, *, sid: str, room: str) -> bool:
        """Mark sid present in room; True if its user was not online there before."""
        info = self.redis.hgetall(self._key("sid", sid))
        if not info:
            return False
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hvals(self._key("room", room))
            pipe.hset(self._key("room", room), sid, f"{info['user']} {info['host']}")
            pipe.sadd(self._key("sidrooms", sid), room)
            before = pipe.execute()[0]
        return int(info["user"]) not in self._live_users(before)

    def leave(self, *, sid: str, room: str) -> bool:
        """Mark sid gone from room; True if its user is now offline there."""
        user = self.redis.hget(self._key("sid", sid), "user")
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key("room", room), sid)
            pipe.srem(self._key("sidrooms", sid), room)
            pipe.hvals(self._key("room", room))
            removed, _, after = pipe.execute()
        if user is None or not removed:
            return False
        return int(user) not in self._live_users(after)

    def _forget(self, sid: str) -> list[str]:
        """Remove sid everywhere; the rooms where its user went offline."""
        gone = [room for room in self.redis.smembers(self._key("sidrooms", sid)) if self.leave(sid=sid, room=room)]
        info = self.redis.hgetall(self._key("sid", sid))
        with self.redis.pipeline() as pipe:
            pipe.delete(self._key("sid", sid), self._key("sidrooms", sid))
            if info:
                pipe.hdel(self._key("user", info["user"]), sid)
                pipe.srem(self._key("host", info["host"]), sid)
            pipe.execute()
        return gone

    def disconnect(self, *, sid: str) -> list[str]:
        """Forget sid; return the rooms where its user went offline."""
        return sorted(self._forget(sid))

    def online(self, *, room: str) -> list[int]:
        """The ids of users with at least one socket (on a live process) in room."""
        return sorted(self._live_users(self.redis.hvals(self._key("room", room))))

    def rooms_of(self, *, sid: str) -> list[str]:
        """The rooms sid is present in."""
        return sorted(self.redis.smembers(self._key("sidrooms", sid)))

    def sockets_of(self, *, user_id: int) -> list[str]:
        """Every open socket of user_id, on every live process."""
        sockets = self.redis.hgetall(self._key("user", user_id))
        alive = self._alive_hosts(set(sockets.values()))
        return sorted(sid for sid, host in sockets.items() if host in alive)


class Presence:
    """The tracker callers import; it answers through the backend create_app() chose."""

    def __init__(self, backend: Tracker | None = None) -> None:
        self.backend: Tracker = backend or PresenceTracker()

    def use(self, backend: Tracker) -> None:
        """Answer through backend from now on."""
        self.backend = backend

    def clear(self) -> None:
        """Forget everything (a fresh process, or a fresh test)."""
        self.backend.clear()

    def connect(self, *, sid: str, user_id: int) -> None:
        """Remember that socket sid belongs to user_id."""
        self.backend.connect(sid=sid, user_id=user_id)

    def enter(self, *, sid: str, room: str) -> bool:
        """Mark sid present in room; True if its user was not online there before."""
        return self.backend.enter(sid=sid, room=room)

    def leave(self, *, sid: str, room: str) -> bool:
        """Mark sid gone from room; True if its user is now offline there."""
        return self.backend.leave(sid=sid, room=room)

    def disconnect(self, *, sid: str) -> list[str]:
        """Forget sid; return the rooms where its user went offline."""
        return self.backend.disconnect(sid=sid)

    def online(self, *, room: str) -> list[int]:
        """The ids of users with at least one socket in room."""
        return self.backend.online(room=room)

    def rooms_of(self, *, sid: str) -> list[str]:
        """The rooms sid is present in."""
        return self.backend.rooms_of(sid=sid)

    def sockets_of(self, *, user_id: int) -> list[str]:
        """Every open socket of user_id (in every process, when they share Redis)."""
        return self.backend.sockets_of(user_id=user_id)


presence = Presence()
