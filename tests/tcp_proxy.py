"""A TCP proxy a test can cut and restore, to take a real server away from the gateway for a while.

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/db"
        ...
        proxy.cut()      # open connections are reset, new ones refused
        proxy.restore()  # the same port accepts again
        proxy.hold()     # new connections are accepted and never answered, as by a host gone silent

With `delay`, every byte reaches the other side that many seconds late in
each direction (a round trip costs twice that), as with a distant server;
bytes sent together still travel together, so bulk transfers are not slowed.

Plain threads and sockets: a few pump threads per connection are plenty for
a test's handful of connections.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from functools import partial


class TcpProxy:
    """Forwards connections on a local port to `upstream` while it is not cut."""

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.port = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._holding = False
        self.accepted = 0  # connections clients opened through the proxy

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True).start()
        return self

    def cut(self) -> None:
        """Stop listening and reset every open connection: the upstream is gone, as far as clients can tell."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            _reset(listener)  # shutdown() wakes the thread blocked in accept(); close() alone would not
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """Listen on the same port again, and forward."""
        self._holding = False
        if self._listener is None:
            self.start()

    def hold(self) -> None:
        """Accept new connections but never forward nor answer them (open ones go on)."""
        self._holding = True

    def stop(self) -> None:
        self.cut()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            self.accepted += 1
            if self._holding:
                with self._lock:
                    self._open.add(client)  # silent until cut() or stop() resets it
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _reset(client)
                    _reset(server)
                    return
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                pump = partial(_delayed_pump, delay=self.delay) if self.delay else _pump
                threading.Thread(target=pump, args=(source, target), name="tcp-proxy-pump", daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _reset(target)


def _delayed_pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    """Read as it comes, stamp each chunk, and let a second thread send it `delay` seconds after it came."""
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def send_later() -> None:
        try:
            while True:
                arrived, data = chunks.get()
                if not data:
                    return
                time.sleep(max(0.0, arrived + delay - time.monotonic()))
                target.sendall(data)
        except OSError:
            pass
        finally:
            _reset(target)

    threading.Thread(target=send_later, name="tcp-proxy-delay", daemon=True).start()
    try:
        while data := source.recv(65536):
            chunks.put((time.monotonic(), data))
    except OSError:
        pass
    finally:
        chunks.put((time.monotonic(), b""))


def _reset(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
