"""Builder's index relay, container side: pip reaches Builder's own index, and nothing else.

Build and test containers run with network "none". When Builder knows its index URL it bind-mounts a directory
holding one Unix socket at /builder/relay; a relay in the Builder process answers GET/HEAD of the index's read
routes there (/simple/..., /files/...) and refuses everything else with 403. The loopback interface exists even
without a network, so this module listens on 127.0.0.1:<free port> and copies each TCP connection to the socket
in both directions; pip then uses http://127.0.0.1:<port>/simple/ as its index, while PIP_FIND_LINKS (the image's
offline wheelhouse) still serves setuptools and wheel.

Standard library only (CPython 3.8+). builder_driver.py and builder_tester.py import it from their own directory.
"""

import os
import socket
import threading

SOCKET_PATH = "/builder/relay/index.sock"


class Forwarder(object):
    """A thread per connection direction; daemon threads, so they end with the process."""

    def __init__(self, socket_path, host="127.0.0.1"):
        self.socket_path = socket_path
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        thread = threading.Thread(target=self._accept_loop, name="builder-relay", daemon=True)
        thread.start()

    def close(self):
        try:
            self.server.close()
        except OSError:
            pass

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.socket_path)
        except OSError as e:
            body = ("Builder's index relay is not reachable at %s: %s\n" % (self.socket_path, e)).encode()
            try:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            except OSError:
                pass
            client.close()
            upstream.close()
            return
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        client.close()
        upstream.close()


def _pump(source, target):
    """Copies source to target until source ends, then ends target's sending side (half close)."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
        try:
            sock.shutdown(how)
        except OSError:
            pass


def pip_environment(port):
    """What every pip run needs to use the relay: the index through the forwarder, and the image's
    PIP_NO_INDEX=1 turned off (pip reads "0" as false). PIP_FIND_LINKS is left as the image set it."""
    return {"PIP_INDEX_URL": "http://127.0.0.1:%d/simple/" % port, "PIP_NO_INDEX": "0"}


def enable(environ=None, socket_path=SOCKET_PATH):
    """When the relay socket exists: start the forwarder and set the pip variables in `environ` (os.environ by
    default, so every child process inherits them). Returns the Forwarder, or None without a relay."""
    if not os.path.exists(socket_path):
        return None
    forwarder = Forwarder(socket_path)
    (os.environ if environ is None else environ).update(pip_environment(forwarder.port))
    return forwarder
