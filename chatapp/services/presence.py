"""Who is online where: the sockets of each user in each room, in this process."""
from __future__ import annotations

import threading
from collections import defaultdict


class PresenceTracker:
    """Counts sockets per (room, user), so a user with two tabs stays online until both leave."""

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


presence = PresenceTracker()
